"""What every backend aggregates, and the series one query reads (`Selection`).

The rules of each agg are in `kpitui.store.api.AggName`; the SQL that computes them is
each backend's (`sqlite/queries.py`, `postgres/queries.py`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from msgspec import Struct

from kpitui.errors import StoreError
from kpitui.literal import quoted
from kpitui.store.api import Bucket, Series
from kpitui.store.checks import json_labels

ADDITIVE = frozenset({"sum", "count", "avg", "min", "max"})
PERCENTILES = {"p50": 50, "p90": 90, "p95": 95, "p99": 99}
# (scale low, scale high, good low, good high, bad low, bad high)
SURVEYS = {"nps": (0, 10, 9, 10, 0, 6), "csat": (1, 5, 4, 5, 0, -1)}
AGGS = ADDITIVE | {"last"} | set(PERCENTILES) | set(SURVEYS)


class Selection(Struct, frozen=True):
    """The series a query reads and, for `*_by_label`, the group index of each."""

    ids: tuple[int, ...]
    groups: tuple[str, ...]
    group_of: Mapping[int, int]

    def id_list(self) -> str:
        return ", ".join(str(i) for i in self.ids)  # ints from our own table: safe inline

    def group_expr(self, column: str) -> str:
        if len(self.groups) == 1:
            return "0"
        cases = " ".join(f"WHEN {sid} THEN {g}" for sid, g in self.group_of.items())
        return f"CASE {column} {cases} END"

    def ids_by_group(self) -> list[str]:
        """The id list of each group, in group order."""
        return [
            ", ".join(str(sid) for sid in self.ids if self.group_of[sid] == g)
            for g in range(len(self.groups))
        ]

    def values_list(self) -> str:
        return ", ".join(f"({sid}, {self.group_of[sid]})" for sid in self.ids)


class SeriesIndex:
    """A reader's copy of the small `series` table, to pick series by labels in Python."""

    def __init__(self) -> None:
        self.by_id: dict[int, Series] = {}
        self.by_metric: dict[str, list[Series]] = {}
        self._rows: list[tuple[int, str, str]] = []

    def load(self, rows: Iterable[tuple[int, str, str]]) -> None:
        """(id, metric, labels JSON) rows, ordered by metric and labels.

        A reader loads them again whenever the store changed, which is on every point
        written to a live store: rows equal to the last ones (new points, no new series)
        are the usual case and change nothing, and a series already known is not parsed
        again (~10 ms a load for 1,000 series otherwise)."""
        rows = list(rows)
        if rows == self._rows:
            return
        known = {row[0]: row for row in self._rows}
        by_id: dict[int, Series] = {}
        by_metric: dict[str, list[Series]] = {}
        for row in rows:
            sid, metric, labels = row
            series = self.by_id.get(sid) if known.get(sid) == row else None
            if series is None:
                series = Series(sid, metric, json_labels(labels))
            by_id[sid] = series
            by_metric.setdefault(metric, []).append(series)
        self.by_id, self.by_metric, self._rows = by_id, by_metric, rows

    def matching(self, metric: str, labels: Mapping[str, str] | None) -> list[Series]:
        wanted = (labels or {}).items()
        return [
            s
            for s in self.by_metric.get(metric, ())
            if all(s.labels.get(k) == v for k, v in wanted)
        ]

    def selection(
        self, metric: str, labels: Mapping[str, str] | None, by: str | None = None
    ) -> Selection | None:
        found = self.matching(metric, labels)
        if not found:
            return None
        if by is None:
            return Selection(tuple(s.id for s in found), ("",), {s.id: 0 for s in found})
        groups = tuple(sorted({s.labels.get(by, "") for s in found}))
        index = {value: i for i, value in enumerate(groups)}
        return Selection(
            tuple(s.id for s in found), groups, {s.id: index[s.labels.get(by, "")] for s in found}
        )


def check_agg(agg: str, bucket: int | None) -> None:
    if agg not in AGGS:
        raise StoreError(
            f"unknown aggregation {quoted(agg)}", hint="use one of " + ", ".join(sorted(AGGS))
        )
    if bucket is not None and bucket <= 0:
        raise StoreError(f"bucket must be a positive number of seconds, not {bucket}")


def as_buckets(values: Mapping[int, float], lo: int, size: int) -> list[Bucket]:
    return [Bucket(lo + k * size, values[k]) for k in sorted(values)]
