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

from collections.abc import Mapping
from contextlib import AbstractContextManager
from typing import Literal, Protocol

from msgspec import Struct, field

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


class OutOfScale(Struct, frozen=True):
    """How many points a survey agg (nps, csat) left out for being off its scale."""

    used: int
    ignored: int


ChangeToken = tuple[int, int]
"""Where a reader's `changes_since` left off; opaque to callers."""


class StoreReader(Protocol):
    path: str

    def data_version(self) -> int:
        """Changes whenever any connection commits to the store (cheap: no table read)."""

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

    def checkins(self, kr_id: str, at: int | None = None) -> list[Checkin]:
        """Check-ins of a key result at or before `at`, oldest first."""

    def close(self) -> None: ...

    def changes_since(
        self, token: ChangeToken | None
    ) -> tuple[ChangeToken | None, dict[int, int] | None]:
        """What was written since `token` (returned by an earlier call on this reader):
        (the token to pass next time, {series id: oldest time written since}). The dict
        is None when that cannot be told — the first call (token None), a store without
        a write log (not migrated yet), a log cut since, a store file replaced — and then
        anything may have changed. A series created since is in the dict too."""
