"""What the rest of kpitui may ask of a metric store.

The engine and the TUI only see this interface, so another backend (PostgreSQL) can be
added without touching them. Every method is one SQL query (or a fixed, small number),
never a Python loop over points. Times are UTC epoch seconds (int); ranges are
inclusive at both ends (`lo <= ts <= hi`).

`labels` arguments select series whose labels include all the given pairs; an empty
mapping selects every series of the metric. Aggregates over several series combine them:
`last` adds up each series' last value (MRR by plan → total MRR); every other agg runs
over all their points together.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from contextlib import AbstractContextManager
from typing import Literal, Protocol

from msgspec import Struct, field

from kpitui.errors import StoreError, StoreLockedError, StoreUnreachableError
from kpitui.store.name import StoreName

__all__ = [
    "SCHEMA_VERSION",
    "AlertEvent",
    "Annotation",
    "Checkin",
    "PullState",
    "Removal",
    "StoreError",
    "StoreLockedError",
    "StoreName",
    "StoreReader",
    "StoreUnreachableError",
    "StoreWriter",
    "WriteBatch",
]

SCHEMA_VERSION = 3
"""The schema every backend writes: 1 series, points, rollups, check-ins; 2 the write
log; 3 annotations, alert events, pull state and check-in ids."""

# Aggregations a reader computes in SQL.
# nps: % of 9–10 minus % of 0–6 among 0..10 responses (-100..100); values outside 0..10
#      are left out. csat: share of 4–5 among 1..5 responses (0..1); others left out.
# pNN: nearest-rank percentile: the smallest value v such that at least NN% of the
#      points are <= v (rank = ceil(NN/100 * n)).
AggName = Literal[
    "last", "sum", "avg", "min", "max", "count", "nps", "csat", "p50", "p90", "p95", "p99"
]


class Series(Struct, frozen=True):
    id: int
    metric: str
    labels: Mapping[str, str] = field(default_factory=dict)


class LastPoint(Struct, frozen=True):
    value: float
    ts: int  # the newest of the combined series' last points


class Bucket(Struct, frozen=True):
    start: int  # first second of the bucket
    value: float


class SeriesStats(Struct, frozen=True):
    series: Series
    count: int
    first_ts: int
    last_ts: int


class Checkin(Struct, frozen=True):
    kr_id: str
    ts: int
    value: float
    confidence: str | None
    note: str | None
    id: int = 0
    """Stable per check-in (for `kpitui checkins --delete ID`)."""


class Annotation(Struct, frozen=True):
    """A mark on the charts (a release, an incident). No metrics: it applies to every chart."""

    id: int
    ts: int
    text: str
    metrics: tuple[str, ...] = ()
    labels: Mapping[str, str] = field(default_factory=dict)


AlertSubject = Literal["kpi", "kr"]


class AlertEvent(Struct, frozen=True):
    """One change of state in the shared alert history (`kpitui watch` writes them).

    Events are idempotent on (subject_kind, subject_id, ts, to_state): writing the same
    change again returns the id it already has."""

    ts: int
    subject_kind: AlertSubject
    subject_id: str
    title: str
    from_state: str | None  # None: "at start"
    to_state: str
    value: float | None = None
    display: str | None = None
    delivered: tuple[str, ...] = ()
    """The targets (a command, a webhook) it was delivered to."""
    id: int = 0
    """0 until stored."""


class PullState(Struct, frozen=True):
    """Where one `sync` pull stands."""

    pull_id: str
    last_success: int | None = None
    last_error_at: int | None = None
    last_error: str | None = None
    high_water: int | None = None
    """Epoch seconds of the newest row the pull has written."""


class Removal(Struct, frozen=True):
    """What a housekeeping call removed or renamed (or, with `dry_run`, would)."""

    points: int = 0
    series: int = 0
    """Series touched."""
    first_ts: int | None = None
    last_ts: int | None = None
    """The oldest and newest time among those points."""


class OutOfScale(Struct, frozen=True):
    """How many points a survey agg (nps, csat) left out for being off its scale."""

    used: int
    ignored: int


ChangeToken = tuple[int, int | str]
"""Where a reader's `changes_since` left off; opaque to callers (SQLite: a write-log id,
PostgreSQL: a snapshot)."""


class StoreReader(Protocol):
    """Read-only: never creates, migrates or writes the store. Raises StoreError (and
    its StoreLockedError / StoreUnreachableError) and nothing backend-specific."""

    name: StoreName
    path: str
    """How messages name the store: `name.display` (a URL's password masked)."""

    def data_version(self) -> int:
        """Changes whenever anything was written to the store since the last call
        (cheap: no scan). It also notices a store file replaced or gone, a server
        that went away (StoreUnreachableError) and came back."""

    def metric_names(self) -> set[str]: ...

    def snapshot(self) -> AbstractContextManager[None]:
        """Every call made inside reads one state of the store."""

    def series(self, metric: str, labels: Mapping[str, str] | None = None) -> list[Series]: ...

    def last(self, metric: str, labels: Mapping[str, str] | None, at: int) -> LastPoint | None:
        """Latest point at or before `at`, however old (summed over series)."""

    def aggregate(
        self, metric: str, labels: Mapping[str, str] | None, agg: AggName, lo: int, hi: int
    ) -> float | None:
        """One number for the points in [lo, hi]; None when there are none."""

    def aggregate_by_label(
        self,
        metric: str,
        labels: Mapping[str, str] | None,
        agg: AggName,
        lo: int,
        hi: int,
        by: str,
    ) -> dict[str, float]:
        """Like `aggregate`, one number per value of label `by` (series without it: "")."""

    def last_ts_in(
        self, metric: str, labels: Mapping[str, str] | None, lo: int, hi: int
    ) -> int | None:
        """Time of the newest point in [lo, hi]."""

    def out_of_scale(
        self, metric: str, labels: Mapping[str, str] | None, agg: AggName, lo: int, hi: int
    ) -> OutOfScale: ...

    def buckets(
        self,
        metric: str,
        labels: Mapping[str, str] | None,
        agg: AggName,
        lo: int,
        hi: int,
        bucket: int,
    ) -> list[Bucket]:
        """Points in [lo, hi] grouped by `lo + k*bucket` (bucketed in SQL), empty
        buckets left out, oldest first."""

    def buckets_by_label(
        self,
        metric: str,
        labels: Mapping[str, str] | None,
        agg: AggName,
        lo: int,
        hi: int,
        bucket: int,
        by: str,
    ) -> dict[str, list[Bucket]]: ...

    def stats(self) -> list[SeriesStats]:
        """Count, first and last time per series, every series."""

    def checkins(self, kr_id: str | None = None, at: int | None = None) -> list[Checkin]:
        """Check-ins of a key result (of every key result: None) at or before `at`,
        oldest first (by KR id first when listing all)."""

    def annotations(
        self, lo: int, hi: int, metrics: Iterable[str] | None = None
    ) -> list[Annotation]:
        """Annotations with lo <= ts <= hi, oldest first; with `metrics`, those naming
        one of them or none at all (an annotation without metrics is on every chart)."""

    def alert_events(self, since: int | None = None, limit: int = 200) -> list[AlertEvent]:
        """The alert history at or after `since`, newest first, at most `limit`."""

    def last_alert_events(self) -> list[AlertEvent]:
        """The newest event of every subject (by time, then id), in no set order: where
        `kpitui watch` resumes from."""

    def pull_states(self) -> dict[str, PullState]: ...

    def read_points(self, series_id: int, after: int | None, limit: int) -> list[tuple[int, float]]:
        """Up to `limit` (ts, value) points of a series after time `after` (None: from
        the first), oldest first: for copying a store."""

    def close(self) -> None: ...

    def changes_since(
        self, token: ChangeToken | None, *, others: bool = False
    ) -> tuple[ChangeToken | None, dict[int, int] | None]:
        """What was written since `token` (returned by an earlier call on this reader):
        (the token to pass next time, {series id: oldest time written since}). The dict
        is None when that cannot be told — the first call (token None), a store without
        a write log (not migrated yet), a log cut since, a store file replaced — and then
        anything may have changed. A series created since is in the dict too. With
        `others`, a write to any other table (check-ins, annotations, the alert history,
        pull states) since puts the key 0 in the dict (no series has that id)."""


class WriteBatch(Protocol):
    """Points added inside one `StoreWriter.batch()` transaction (the importers' view).

    `add` takes columns already checked by the caller (see `kpitui.store.checks`);
    `series_id` finds or creates a series."""

    points: int
    """Points given to `add`."""
    changed: int
    """Points that were new or had a different value."""
    series: set[int]
    """Series the points went to."""

    def series_id(self, metric: str, labels: Mapping[str, str] | None = None) -> int: ...

    def add(
        self, series: int | Sequence[int], times: Sequence[int], values: Sequence[float]
    ) -> None: ...


class StoreWriter(Protocol):
    """A write connection: creates and migrates the store on open. Every method is one
    transaction; a point written again at the same (series, time) replaces the value.
    Raises InputError for bad data (nothing written) and StoreError (StoreLockedError
    after waiting 5 s for a lock) for the store."""

    name: StoreName
    path: str
    created: bool
    """Whether opening this writer created the store."""

    def __enter__(self) -> StoreWriter: ...

    def __exit__(self, *exc: object) -> None: ...

    def close(self) -> None: ...

    def discard_if_unused(self) -> None:
        """Close; and when opening created the store and nothing was written to it (a
        failed first import), remove it where the backend can (a SQLite file)."""

    def batch(self) -> AbstractContextManager[WriteBatch]: ...

    def write_points(self, points: Iterable[tuple[str, Mapping[str, str], int, float]]) -> int: ...

    def write_checkin(
        self,
        kr_id: str,
        ts: int,
        value: float,
        confidence: str | None = None,
        note: str | None = None,
    ) -> int:
        """Record (or replace, same KR and time) a check-in; returns its id."""

    def delete_checkin(self, checkin_id: int) -> bool: ...

    def write_annotation(
        self,
        ts: int,
        text: str,
        metrics: Sequence[str] = (),
        labels: Mapping[str, str] | None = None,
    ) -> int: ...

    def delete_annotation(self, annotation_id: int) -> bool: ...

    def write_alert_events(self, events: Iterable[AlertEvent]) -> list[int]:
        """Store events (an event already stored keeps its id); their ids in order."""

    def mark_delivered(self, event_id: int, target: str) -> None: ...

    def set_pull_state(self, state: PullState) -> None: ...

    # Housekeeping. Each is one transaction that keeps the rollups consistent with the
    # points (and logs what changed for readers); with `dry_run` it only counts.

    def delete_points(
        self,
        metric: str,
        labels: Mapping[str, str] | None,
        lo: int | None,
        hi: int | None,
        *,
        dry_run: bool = False,
    ) -> Removal:
        """Delete the points of `metric`'s series whose labels include `labels`, with
        lo <= ts <= hi (None: unbounded), and their share of the rollups; a series left
        without points or rollups goes too."""

    def rename_metric(self, old: str, new: str, *, dry_run: bool = False) -> Removal:
        """Rename every series of `old` (points, rollups and annotations follow). Raises
        InputError when `new` already has series (nothing renamed)."""

    def prune(self, older_than: int, *, dry_run: bool = False) -> Removal:
        """Delete every raw point with ts < `older_than`. The rollups stay, so charts
        and sum/count/avg/min/max over long windows still read those times."""
