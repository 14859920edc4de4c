"""An in-memory StoreReader for engine tests: same answers as the SQL reader, in Python.

It counts every call so tests can check that evaluation asks the store a bounded number
of questions, and it can be told to fail like a broken store.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager

from kpitui.store.api import (
    AlertEvent,
    Annotation,
    Bucket,
    Checkin,
    LastPoint,
    OutOfScale,
    Series,
    SeriesStats,
)

DAY = 86400


class FakeReader:
    path = ":memory:"

    def __init__(self, points: Iterable[tuple] = (), checkins: Iterable[Checkin] = ()) -> None:
        self._points: dict[tuple[str, tuple[tuple[str, str], ...]], dict[int, float]] = {}
        self._checkins: list[Checkin] = list(checkins)
        self._annotations: list[Annotation] = []
        self._alert_events: list[AlertEvent] = []
        self.calls: Counter[str] = Counter()
        self.fail: Exception | None = None
        self.fail_metrics: set[str] = set()
        for point in points:
            self.add(*point)

    # -- building ------------------------------------------------------------------------

    def add(self, metric: str, labels: Mapping[str, str] | None, ts: int, value: float) -> None:
        key = (metric, tuple(sorted((labels or {}).items())))
        self._points.setdefault(key, {})[int(ts)] = float(value)

    def add_checkin(self, kr_id: str, ts: int, value: float, confidence=None, note=None) -> None:
        self._checkins.append(Checkin(kr_id, ts, value, confidence, note))

    def add_annotation(self, ts: int, text: str, metrics=(), labels=None) -> None:
        self._annotations.append(
            Annotation(len(self._annotations) + 1, ts, text, tuple(metrics), labels or {})
        )

    def add_alert_event(self, event: AlertEvent) -> None:
        self._alert_events.append(event)

    @contextmanager
    def snapshot(self) -> Iterator[None]:
        self._call("snapshot")
        yield

    # -- helpers -------------------------------------------------------------------------

    def _call(self, name: str, metric: str | None = None) -> None:
        self.calls[name] += 1
        if self.fail is not None:
            raise self.fail
        if metric is not None and metric in self.fail_metrics:
            from kpitui.errors import StoreError

            raise StoreError(f"no such table: broken ({metric})")

    def _selected(self, metric: str, labels: Mapping[str, str] | None):
        want = set((labels or {}).items())
        for (name, key), points in self._points.items():
            if name == metric and want <= set(key):
                yield key, points

    @staticmethod
    def _agg(agg: str, per_series: list[list[tuple[int, float]]]) -> float | None:
        if agg == "last":
            lasts = [max(pts)[1] for pts in per_series if pts]
            return sum(lasts) if lasts else None
        values = [v for pts in per_series for _, v in pts]
        if agg == "nps":
            values = [v for v in values if 0 <= v <= 10]
            if not values:
                return None
            promoters = sum(1 for v in values if v >= 9)
            detractors = sum(1 for v in values if v <= 6)
            return (promoters - detractors) * 100.0 / len(values)
        if agg == "csat":
            values = [v for v in values if 1 <= v <= 5]
            if not values:
                return None
            return sum(1 for v in values if v >= 4) / len(values)
        if not values:
            return None
        if agg == "sum":
            return sum(values)
        if agg == "avg":
            return sum(values) / len(values)
        if agg == "min":
            return min(values)
        if agg == "max":
            return max(values)
        if agg == "count":
            return float(len(values))
        if agg.startswith("p"):
            ordered = sorted(values)
            rank = max(1, math.ceil(int(agg[1:]) / 100 * len(ordered)))
            return ordered[rank - 1]
        raise ValueError(agg)

    def _in_range(self, metric, labels, lo, hi):
        return [
            sorted((ts, v) for ts, v in points.items() if lo <= ts <= hi)
            for _, points in self._selected(metric, labels)
        ]

    # -- StoreReader ---------------------------------------------------------------------

    def data_version(self) -> int:
        self._call("data_version")
        return 1

    def metric_names(self) -> set[str]:
        self._call("metric_names")
        return {name for name, _ in self._points}

    def series(self, metric, labels=None):
        self._call("series", metric)
        return [
            Series(i, metric, dict(key))
            for i, (key, _) in enumerate(self._selected(metric, labels))
        ]

    def last(self, metric, labels, at):
        self._call("last", metric)
        lasts = [
            max((ts, v) for ts, v in points.items() if ts <= at)
            for _, points in self._selected(metric, labels)
            if any(ts <= at for ts in points)
        ]
        if not lasts:
            return None
        return LastPoint(sum(v for _, v in lasts), max(ts for ts, _ in lasts))

    def aggregate(self, metric, labels, agg, lo, hi):
        self._call("aggregate", metric)
        return self._agg(agg, self._in_range(metric, labels, lo, hi))

    def aggregate_by_label(self, metric, labels, agg, lo, hi, by):
        self._call("aggregate_by_label", metric)
        groups: dict[str, list] = {}
        for key, points in self._selected(metric, labels):
            value = dict(key).get(by, "")
            groups.setdefault(value, []).append(
                sorted((t, v) for t, v in points.items() if lo <= t <= hi)
            )
        result = {k: self._agg(agg, v) for k, v in groups.items()}
        return {k: v for k, v in result.items() if v is not None}

    def last_ts_in(self, metric, labels, lo, hi):
        self._call("last_ts_in", metric)
        times = [ts for pts in self._in_range(metric, labels, lo, hi) for ts, _ in pts]
        return max(times) if times else None

    def out_of_scale(self, metric, labels, agg, lo, hi):
        self._call("out_of_scale", metric)
        values = [v for pts in self._in_range(metric, labels, lo, hi) for _, v in pts]
        low, high = (0, 10) if agg == "nps" else (1, 5)
        used = sum(1 for v in values if low <= v <= high)
        return OutOfScale(used, len(values) - used)

    def _bucketed(self, per_series, agg, lo, bucket):
        starts: dict[int, list[list[tuple[int, float]]]] = {}
        for pts in per_series:
            grouped: dict[int, list[tuple[int, float]]] = {}
            for ts, v in pts:
                grouped.setdefault(lo + (ts - lo) // bucket * bucket, []).append((ts, v))
            for start, group in grouped.items():
                starts.setdefault(start, []).append(group)
        out = []
        for start in sorted(starts):
            value = self._agg(agg, starts[start])
            if value is not None:
                out.append(Bucket(start, value))
        return out

    @staticmethod
    def _carried(per_series, lo, hi, bucket):
        """`last` buckets: each series' newest value at or before the bucket's end."""
        out = []
        for start in range(lo, hi + 1, bucket):
            end = min(start + bucket - 1, hi)
            newest = [max((p for p in pts if p[0] <= end), default=None) for pts in per_series]
            found = [p[1] for p in newest if p is not None]
            if found:
                out.append(Bucket(start, sum(found)))
        return out

    def buckets(self, metric, labels, agg, lo, hi, bucket):
        self._call("buckets", metric)
        if agg == "last":
            return self._carried(self._in_range(metric, labels, -(2**62), hi), lo, hi, bucket)
        return self._bucketed(self._in_range(metric, labels, lo, hi), agg, lo, bucket)

    def buckets_by_label(self, metric, labels, agg, lo, hi, bucket, by):
        self._call("buckets_by_label", metric)
        groups: dict[str, list] = {}
        for key, points in self._selected(metric, labels):
            value = dict(key).get(by, "")
            first = -(2**62) if agg == "last" else lo
            groups.setdefault(value, []).append(
                sorted((t, v) for t, v in points.items() if first <= t <= hi)
            )
        if agg == "last":
            result = {k: self._carried(v, lo, hi, bucket) for k, v in groups.items()}
        else:
            result = {k: self._bucketed(v, agg, lo, bucket) for k, v in groups.items()}
        return {k: v for k, v in result.items() if v}

    def stats(self):
        self._call("stats")
        return [
            SeriesStats(Series(i, name, dict(key)), len(pts), min(pts), max(pts))
            for i, ((name, key), pts) in enumerate(self._points.items())
            if pts
        ]

    def checkins(self, kr_id, at=None):
        self._call("checkins")
        found = [c for c in self._checkins if c.kr_id == kr_id and (at is None or c.ts <= at)]
        return sorted(found, key=lambda c: c.ts)

    def annotations(self, lo, hi, metrics=None):
        self._call("annotations")
        wanted = None if metrics is None else set(metrics)
        found = [
            a
            for a in self._annotations
            if lo <= a.ts <= hi and (wanted is None or not a.metrics or wanted & set(a.metrics))
        ]
        return sorted(found, key=lambda a: (a.ts, a.id))

    def alert_events(self, since=None, limit=200):
        self._call("alert_events")
        found = [e for e in self._alert_events if since is None or e.ts >= since]
        return sorted(found, key=lambda e: -e.ts)[:limit]

    def close(self) -> None:
        pass
