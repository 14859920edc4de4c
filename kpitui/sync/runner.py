"""Running a spec's pulls: which window each one reads, the rows written through the
store's writer, and where each pull stands (`PullState`) recorded beside them.

The window of a run is `[start, end)` with `end` = now and `start`, in order of
preference: now − `--backfill` (floored to a UTC midnight), the pull's high-water mark
(the time of the newest row it wrote: that bucket is read again, so a day counted
while it was still going on is counted whole next time), the end of the last run that
wrote nothing, or now − the pull's `backfill:` (floored to a UTC midnight).

A long window is read in slices cut at UTC midnights, each written in its own
transaction, so a backfill that fails half-way keeps what it read and the next run
resumes from there (a progress bar counts the days). The first slice is a day; a
slice read in under `FAST` seconds doubles the next, up to `MAX_SLICE`, so a query
with a cost of its own per run (a CSV read whole by DuckDB, a round trip) is run tens
of times for a long backfill, not once a day; a slice over the row cap is read again
in halves, down to a day. A row timed before its slice's `:start` means the query
buckets by a span longer than the slice (a week, a month): that slice is read again
from the bucket's start, so the bucket is written whole.

Writing is idempotent: a point already stored with the same value is not written
again (the store skips it), a corrected value replaces the old one.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping

from msgspec import Struct

from kpitui.errors import InputError, KpituiError
from kpitui.literal import quoted
from kpitui.spec import LoadedSpec
from kpitui.spec.models import Pull
from kpitui.store.api import PullState, StoreReader, StoreWriter
from kpitui.store.checks import DAY, checked_labels
from kpitui.sync.rows import Columns, points
from kpitui.sync.source import (
    PullError,
    QueryFailed,
    SourceConnection,
    TooManyRows,
    open_source,
)

SLICE = DAY
"""The first window one query reads, and the shortest a long window is cut into."""
MAX_SLICE = 32 * DAY
"""The longest window one query reads."""
FAST = 0.5
"""A slice read in less (seconds) doubles the next."""
REALIGN_LIMIT = 92 * DAY
"""How far before a slice a row's time may lie for the slice to be read again from it
(a quarter, the longest calendar bucket); a row older than that is kept as it is (a
query filtering on another column than the one it returns as time)."""

Progress = Callable[[str, int, int], None]
"""(pull id, days done, days in all)."""


class PullResult(Struct, frozen=True):
    pull_id: str
    metric: str
    start: int
    end: int
    rows: int = 0
    changed: int = 0
    seconds: float = 0.0
    error: KpituiError | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


def floor_day(ts: int) -> int:
    return ts - ts % DAY


def pull_start(pull: Pull, state: PullState | None, now: int, backfill: int | None) -> int:
    """Where the run of `pull` at `now` starts reading (see the module docstring)."""
    if backfill is not None:
        return floor_day(now - backfill)
    if state is not None and state.high_water is not None:
        return min(state.high_water, now)
    if state is not None and state.last_success is not None:
        return min(state.last_success, now)
    return floor_day(now - pull.backfill.seconds)


class Runner:
    """Runs the pulls of one loaded spec into one store."""

    def __init__(
        self,
        loaded: LoadedSpec,
        writer: StoreWriter,
        reader: StoreReader,
        *,
        environ: Mapping[str, str] | None = None,
        progress: Progress | None = None,
    ) -> None:
        self.loaded = loaded
        self.dashboard = loaded.dashboard
        self.writer = writer
        self.reader = reader
        self.environ = environ
        self.progress = progress
        self.base = loaded.path.parent

    def pulls(self, only: str | None = None) -> list[tuple[int, Pull]]:
        found = [
            (i, p)
            for i, p in enumerate(self.dashboard.pull)
            if only is None or only in (p.metric, p.id)
        ]
        if only is not None and not found:
            from kpitui.spec.problems import did_you_mean

            names = sorted(
                {p.metric for p in self.dashboard.pull} | {p.id for p in self.dashboard.pull}
            )
            raise InputError(
                f"--only {quoted(only)}: no pull of that metric or id in the spec",
                file=self.loaded.file,
                hint=did_you_mean(only, names) or f"pulls: {', '.join(names) or 'none'}",
            )
        return found

    def run(self, pull: Pull, index: int, now: int, backfill: int | None = None) -> PullResult:
        """Run one pull for the window ending at `now`; record its state. A PullError
        (or a row that does not fit) is returned in the result, never raised; a store
        error is raised."""
        state = self.reader.pull_states().get(pull.id)
        start = pull_start(pull, state, now, backfill)
        started = time.perf_counter()
        tally = _Tally(state.high_water if state is not None else None)
        error: KpituiError | None = None
        failure: PullError | None = None
        failure_text: str | None = None
        try:
            source = open_source(
                pull.source,
                self.dashboard.sources[pull.source],
                self.base,
                None if self.environ is None else dict(self.environ),
            )
            try:
                self._read_window(source, pull, start, now, tally)
            finally:
                source.close()
        except PullError as exc:
            failure = exc
        except InputError as exc:  # a row that does not fit
            failure = QueryFailed(exc.message, hint=exc.hint)
        if failure is not None:
            error = self._at_pull(failure, pull, index)
            said = f"{failure.message} ({failure.hint})" if failure.hint else failure.message
            failure_text = f"source {quoted(pull.source)}: {said}"
        self.writer.set_pull_state(_next_state(pull.id, state, now, tally.high, failure_text))
        seconds = time.perf_counter() - started
        return PullResult(
            pull.id, pull.metric, start, now, tally.rows, tally.changed, seconds, error
        )

    def _read_window(
        self, source: SourceConnection, pull: Pull, start: int, end: int, tally: _Tally
    ) -> None:
        """`[start, end)` read and written slice by slice (see the module docstring),
        counted into `tally` as it goes, so a failure keeps what was written."""
        days = -(-(end - floor_day(start)) // DAY)
        lo, size = start, SLICE
        while lo < end:
            hi = min(end, floor_day(lo) + size)
            began = time.perf_counter()
            try:
                got, new, newest = self._read_slice(source, pull, lo, hi)
            except TooManyRows:
                if size == SLICE:
                    raise
                size //= 2
                continue
            tally.rows += got
            tally.changed += new
            if newest is not None:
                tally.high = max(tally.high or newest, min(newest, hi))
            if self.progress is not None and days > 1:
                self.progress(pull.id, -(-(hi - floor_day(start)) // DAY), days)
            if time.perf_counter() - began < FAST:
                size = min(MAX_SLICE, size * 2)
            lo = hi

    def _read_slice(
        self, source: SourceConnection, pull: Pull, lo: int, hi: int
    ) -> tuple[int, int, int | None]:
        """(rows read, points new or changed, newest time) of one slice, written."""
        names, rows = source.query(pull.query, lo, hi)
        found = points(Columns(names), rows)
        earliest = min((t for _, t, _ in found), default=lo)
        if earliest < lo and lo - earliest <= REALIGN_LIMIT:
            names, rows = source.query(pull.query, earliest, hi)
            found = points(Columns(names), rows)
        if not found:
            return 0, 0, None
        with self.writer.batch() as batch:
            ids: dict[tuple[tuple[str, str], ...], int] = {}
            series: list[int] = []
            for labels, _, _ in found:
                key = tuple(sorted(labels.items()))
                sid = ids.get(key)
                if sid is None:
                    clean = checked_labels(labels, f"pull {quoted(pull.id)}")
                    sid = ids[key] = batch.series_id(pull.metric, clean)
                series.append(sid)
            batch.add(series, [t for _, t, _ in found], [v for _, _, v in found])
        return len(found), batch.changed, max(t for _, t, _ in found)

    def _at_pull(self, exc: KpituiError, pull: Pull, index: int) -> KpituiError:
        """The error said at the pull's line in the spec, naming the pull and its source."""
        line, col = self.loaded.position(("pull", index))
        where = f" ({exc.location})" if exc.location.file else ""
        error = type(exc)(
            f"pull {quoted(pull.id)} from source {quoted(pull.source)}{where}: {exc.message}",
            file=self.loaded.file or str(self.loaded.path),
            line=line,
            col=col,
            hint=exc.hint,
        )
        return error


class _Tally:
    """What a run has read and written so far, and its newest row's time."""

    def __init__(self, high: int | None) -> None:
        self.rows = 0
        self.changed = 0
        self.high = high


def _next_state(
    pull_id: str, old: PullState | None, now: int, high: int | None, error: str | None
) -> PullState:
    last_success = old.last_success if old is not None else None
    last_error_at = old.last_error_at if old is not None else None
    last_error = old.last_error if old is not None else None
    if error is None:
        last_success = now
    else:
        last_error_at, last_error = now, error
    return PullState(pull_id, last_success, last_error_at, last_error, high)
