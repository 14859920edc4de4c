"""Successive boards of a live reader, each evaluating again only what writes changed.

A live board re-evaluates whenever another program commits. With one new point a second
into one series, evaluating all of a 12-panel board each time is ~20 ms of queries and
maths a second for one card's worth of news. `LiveBoard` asks the store's write log what
was written since its last board (`changes_since`) and evaluates again only the KPIs,
charts and OKR tree over a series written to; the rest of the last board is kept as is —
by identity, so the faces see at once that those panels did not change.

What moves with the clock alone (windows sliding, ages, staleness, expected progress)
is evaluated at least once a minute, as on an idle board: the first board of each minute
is a whole one. A whole board is also evaluated when the write log cannot tell what
changed (a first look, a log cut since, the store file replaced), when another table was
written (check-ins, annotations, the alert history, pull states: they feed manual key
results, chart marks, the alerts log and stale pulls), for another spec, reader or chart
range, and after `forget()` (the user's `r`). A panel in error is always evaluated again.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from msgspec import Struct

from kpitui.engine.board import Board
from kpitui.engine.cache import refreshing
from kpitui.engine.evaluate import Splice, _evaluate, prepare, read_snapshot
from kpitui.engine.kpi import STORE_FAILURES
from kpitui.spec.formula import stored_operands
from kpitui.spec.models import Dashboard, Objective
from kpitui.store.api import ChangeToken, Series, StoreReader

MINUTE = 60
_OTHER_TABLES = 0
"""The write log's key for a write to a table other than points (no series has it)."""


class _Reads(Struct, frozen=True):
    """The series selection one panel reads: stored metrics (a derived metric's
    operands) and the labels a series must have."""

    metrics: frozenset[str]
    labels: tuple[tuple[str, str], ...]

    def touched_by(self, series: Series) -> bool:
        return series.metric in self.metrics and all(
            series.labels.get(k) == v for k, v in self.labels
        )


class _Needs(Struct, frozen=True):
    """What each panel of one spec reads, computed once per spec."""

    spec: Dashboard  # kept so that the identity compared stays this object's
    kpis: dict[str, _Reads]
    charts: dict[str, _Reads]
    okrs: tuple[_Reads, ...]
    metrics: frozenset[str]
    """Every stored metric the board reads."""


def _needs(spec: Dashboard) -> _Needs:
    prepared = prepare(spec)

    def formula_of(name: str) -> Any:
        found = prepared.formulas.get(name)
        return None if isinstance(found, Exception) else found

    def reads(metrics: Iterable[str], labels: Mapping[str, str]) -> _Reads:
        return _Reads(frozenset(stored_operands(metrics, formula_of)), tuple(labels.items()))

    def key_results(objectives: Iterable[Objective]) -> Iterable[_Reads]:
        for objective in objectives:
            for kr in objective.key_results:
                if kr.metric is not None:
                    yield reads([kr.metric], kr.labels)
            yield from key_results(objective.children)

    kpis = {kpi.id: reads([kpi.metric], kpi.labels) for kpi in spec.kpis}
    charts = {chart.id: reads(chart.metrics, chart.labels) for chart in spec.charts}
    okrs = tuple(key_results(spec.okrs))
    every = set().union(*(r.metrics for r in (*kpis.values(), *charts.values(), *okrs)))
    return _Needs(spec, kpis, charts, okrs, frozenset(every))


class LiveBoard:
    """`evaluate` for the live poller: call it as `evaluate(spec, reader, as_of)`, on
    the one reader the poller keeps open. One call at a time (the poller's lock)."""

    def __init__(self) -> None:
        self._last: Board | None = None
        self._spec: Dashboard | None = None
        self._reader: StoreReader | None = None
        self._chart_range: str | None = None
        self._minute: int | None = None
        """The minute of the last whole board."""
        self._token: ChangeToken | None = None
        self._needs: _Needs | None = None
        self._series: dict[int, Series] = {}
        """The series of the board's metrics as the last refresh saw them: a series
        deleted or renamed since is no longer in the reader's index, and its write-log
        entry must still reach the panels that read it."""
        self.spliced = 0
        """How many boards were spliced rather than evaluated whole (for tests)."""

    def forget(self) -> None:
        """Evaluate the next board whole."""
        self._last = None

    def __call__(
        self,
        spec: Dashboard,
        reader: StoreReader,
        as_of: int,
        *,
        chart_range: str | None = None,
    ) -> Board:
        with read_snapshot(reader) as snapshot:
            token, changes = self._changes(snapshot)
            splice = self._splice(spec, reader, snapshot, as_of, chart_range, changes)
            with refreshing(snapshot, partial=splice is not None) as cached:
                board = _evaluate(spec, cached, as_of, chart_range, splice)
        if splice is None:
            self._minute = as_of // MINUTE
        else:
            self.spliced += 1
        self._last, self._spec, self._reader = board, spec, reader
        self._chart_range, self._token = chart_range, token
        return board

    def _changes(self, reader: StoreReader) -> tuple[ChangeToken | None, dict[int, int] | None]:
        ask = getattr(reader, "changes_since", None)
        if not callable(ask):
            return None, None
        try:
            return ask(self._token, others=True)
        except STORE_FAILURES:  # the board's own questions will say what is wrong
            return None, None

    def _splice(
        self,
        spec: Dashboard,
        reader: StoreReader,
        snapshot: StoreReader,
        as_of: int,
        chart_range: str | None,
        changes: dict[int, int] | None,
    ) -> Splice | None:
        """What to evaluate again, or None for a whole board."""
        last = self._last
        if (
            last is None
            or changes is None
            or _OTHER_TABLES in changes
            or spec is not self._spec
            or reader is not self._reader
            or chart_range != self._chart_range
            or as_of // MINUTE != self._minute
        ):
            self._remember_series(spec, snapshot)
            return None
        needs = self._needs_of(spec)
        before = self._series
        now = self._remember_series(spec, snapshot)
        touched = [s for sid in changes if (s := now.get(sid) or before.get(sid)) is not None]

        def changed(reads: _Reads) -> bool:
            return any(reads.touched_by(s) for s in touched)

        kpis = frozenset(
            k.id for k in last.kpis if k.state == "error" or changed(needs.kpis.get(k.id, _ALL))
        )
        charts = frozenset(
            c.id
            for c in last.charts
            if c.error is not None or changed(needs.charts.get(c.id, _ALL))
        )
        okrs = any(changed(r) for r in needs.okrs) or _has_errors(last)
        return Splice(last, kpis, charts, okrs)

    def _needs_of(self, spec: Dashboard) -> _Needs:
        if self._needs is None or self._needs.spec is not spec:
            self._needs = _needs(spec)
        return self._needs

    def _remember_series(self, spec: Dashboard, reader: StoreReader) -> dict[int, Series]:
        try:
            found = {
                s.id: s for metric in self._needs_of(spec).metrics for s in reader.series(metric)
            }
        except STORE_FAILURES:  # an unreadable store: its board is a whole one anyway
            found = {}
        self._series = found
        return found


class _Everything(_Reads):
    def touched_by(self, series: Series) -> bool:
        return True


_ALL = _Everything(frozenset(), ())
"""A panel the spec no longer names the same way: evaluated again on any write."""


def _has_errors(board: Board) -> bool:
    def walk(objectives: Iterable[Any]) -> bool:
        return any(
            any(kr.error is not None for kr in o.key_results) or walk(o.children)
            for o in objectives
        )

    return walk(board.okrs)
