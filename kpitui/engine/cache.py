"""Closed buckets kept across refreshes, so a refresh asks the store only for what is new.

A sparkline or chart is a row of buckets; every bucket but the last ends before as-of, and
its value changes only when someone writes a point into it. The live board re-evaluates
every few seconds with as-of a few seconds later, so without a cache each refresh would
re-read 30 days (or a year) of buckets to change only the last one — and percentile
buckets read raw points, so that cost grows with the store.

`RefreshCache` lives beside one reader (`cache_for(reader)`: the live poller reuses one
reader, so its refreshes share one cache) and keeps, per bucketed query (metric, labels,
agg, bucket size and grid, split label), the values of the buckets that were closed when
computed. At the start of each refresh it asks the reader what was written since the
last one (`changes_since`, from the writers' write log) and forgets, for each query over
a changed series, every bucket that ends after the oldest time written: a backfill into
last week drops last week onward, a new point at "now" drops nothing closed. When the
reader cannot tell (first refresh, a store without a write log, a log cut since, another
file) everything is forgotten. `CachingReader` then answers `buckets` and
`buckets_by_label` from the kept buckets plus one store query from the first missing
bucket to the end of the range (normally just the current bucket).

The Board stays a pure function of (spec, store contents, as-of): a kept bucket holds
exactly what the store would answer for it now, because the store computes each bucket
independently of the others in the same call (see `kpitui.store.queries.aggregate_rows`),
and anything written into it since is in the write log. Results of other questions
(`aggregate`, `last`, ...) are not kept: their ranges move with as-of on every refresh,
and the store answers them from rollups or bounded seeks.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager

from msgspec import Struct, field

from kpitui.engine.kpi import MAX_BUCKETS, STORE_FAILURES
from kpitui.store.api import AggName, Bucket, ChangeToken, Series, StoreReader

# (split label or None, metric, labels, agg, bucket size, grid origin = start mod size)
QueryKey = tuple[str | None, str, tuple[tuple[str, str], ...], str, int, int]
Cells = dict[str, float]  # one bucket: {group ("" unless split): value}; {} when empty


class KeptQuery(Struct):
    """The closed buckets of one bucketed query, by bucket start."""

    metric: str
    labels: dict[str, str]
    size: int
    series_ids: frozenset[int]
    closed: dict[int, Cells] = field(default_factory=dict)

    def forget_before(self, start: int) -> None:
        for old in [s for s in self.closed if s < start]:
            del self.closed[old]

    def forget_from(self, ts: int) -> None:
        """Drop every bucket holding `ts` or a later time."""
        for start in [s for s in self.closed if s + self.size > ts]:
            del self.closed[start]


class RefreshCache:
    """What the refreshes over one reader keep. One refresh at a time uses it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._token: ChangeToken | None = None
        self._queries: dict[QueryKey, KeptQuery] = {}
        # Series found to belong to no kept query (a store shared with other boards).
        # A series never changes its metric or labels, so that stays true; a query made
        # later selects its series itself.
        self._foreign: set[int] = set()

    @property
    def queries(self) -> int:
        return len(self._queries)

    @contextmanager
    def refresh(self, reader: StoreReader, *, partial: bool = False) -> Iterator[StoreReader]:
        """A reader for one refresh: answers from what is kept when it still holds.
        Queries not asked during the refresh are dropped after it (a changed spec),
        unless it is `partial` (the live board evaluating again only some panels: the
        others' queries are asked again at the next whole refresh)."""
        if not self._lock.acquire(blocking=False):
            yield reader  # another thread is refreshing over the same reader
            return
        try:
            self._catch_up(reader)
            caching = CachingReader(reader, self)
            yield caching
            for key, query in list(self._queries.items()):
                if key not in caching.asked:
                    if not partial:
                        del self._queries[key]
                else:
                    query.forget_before(caching.asked[key])  # slid out of every window
        finally:
            self._lock.release()

    def _catch_up(self, reader: StoreReader) -> None:
        """Forget what the writes since the last refresh may have changed."""
        try:
            self._token, changes = reader.changes_since(self._token)
            if changes is None:
                self._queries.clear()
            elif changes:
                self._apply(reader, changes)
        except STORE_FAILURES:
            self._token = None
            self._queries.clear()

    def _apply(self, reader: StoreReader, changes: Mapping[int, int]) -> None:
        known = set().union(*(q.series_ids for q in self._queries.values()))
        unknown = changes.keys() - known - self._foreign
        if unknown:
            # A series we do not know: maybe a new one that a query now includes.
            self._reselect(reader)
            self._foreign |= unknown - set().union(*(q.series_ids for q in self._queries.values()))
        for query in self._queries.values():
            times = [changes[sid] for sid in query.series_ids if sid in changes]
            if times:
                query.forget_from(min(times))

    def _reselect(self, reader: StoreReader) -> None:
        """Drop the queries whose series changed (one `series` call per metric)."""
        by_metric: dict[str, list[Series]] = {}
        for key, query in list(self._queries.items()):
            if query.metric not in by_metric:
                by_metric[query.metric] = reader.series(query.metric)
            if _ids(by_metric[query.metric], query.labels) != query.series_ids:
                del self._queries[key]

    def kept(
        self, key: QueryKey, reader: StoreReader, metric: str, labels: Mapping[str, str], size: int
    ) -> KeptQuery:
        query = self._queries.get(key)
        if query is None:
            ids = _ids(reader.series(metric, labels), labels)
            query = self._queries[key] = KeptQuery(metric, dict(labels), size, ids)
        return query


def _ids(series: list[Series], labels: Mapping[str, str]) -> frozenset[int]:
    want = labels.items()
    return frozenset(s.id for s in series if all(s.labels.get(k) == v for k, v in want))


class CachingReader:
    """A StoreReader whose bucketed queries reuse the closed buckets of a RefreshCache;
    everything else goes straight to the wrapped reader."""

    def __init__(self, reader: StoreReader, cache: RefreshCache) -> None:
        self._reader = reader
        self._cache = cache
        self.asked: dict[QueryKey, int] = {}
        """The queries of this refresh, each with the oldest bucket it asked for (two
        sparklines over the same metric and bucket share one, over different windows)."""
        self._open: dict[tuple[QueryKey, int], Cells] = {}
        """The open bucket of each (query, hi) asked this refresh: a sparkline and a
        chart on one query ask the store for it once."""

    def __getattr__(self, name: str) -> object:
        return getattr(self._reader, name)

    def buckets(
        self,
        metric: str,
        labels: Mapping[str, str] | None,
        agg: AggName,
        lo: int,
        hi: int,
        bucket: int,
    ) -> list[Bucket]:
        def fetch(start: int) -> dict[str, list[Bucket]]:
            return {"": self._reader.buckets(metric, labels, agg, start, hi, bucket)}

        return self._kept_buckets(None, metric, labels, agg, lo, hi, bucket, fetch).get("", [])

    def buckets_by_label(
        self,
        metric: str,
        labels: Mapping[str, str] | None,
        agg: AggName,
        lo: int,
        hi: int,
        bucket: int,
        by: str,
    ) -> dict[str, list[Bucket]]:
        def fetch(start: int) -> dict[str, list[Bucket]]:
            return self._reader.buckets_by_label(metric, labels, agg, start, hi, bucket, by)

        return self._kept_buckets(by, metric, labels, agg, lo, hi, bucket, fetch)

    def _kept_buckets(
        self,
        split: str | None,
        metric: str,
        labels: Mapping[str, str] | None,
        agg: str,
        lo: int,
        hi: int,
        size: int,
        fetch: Callable[[int], dict[str, list[Bucket]]],
    ) -> dict[str, list[Bucket]]:
        """{group: buckets} from kept closed buckets and one `fetch(start)` of the rest;
        a query not to keep is fetched whole."""
        if size <= 0 or hi < lo or (hi - lo) // size >= MAX_BUCKETS:
            # Bad arguments get the store's own answer; over MAX_BUCKETS buckets the
            # store may plan the whole range differently from a part of it.
            return fetch(lo)
        labels = labels or {}
        key: QueryKey = (split, metric, tuple(sorted(labels.items())), agg, size, lo % size)
        self.asked[key] = min(lo, self.asked.get(key, lo))
        kept = self._cache.kept(key, self._reader, metric, labels, size)
        last = lo + (hi - lo) // size * size  # start of the bucket holding hi
        closed_end = last + size if last + size - 1 == hi else last  # buckets before: closed
        starts = range(lo, closed_end, size)
        first_missing = next((s for s in starts if s not in kept.closed), closed_end)
        fresh: dict[int, Cells] = {}
        open_key = (key, hi)
        if first_missing == closed_end and open_key in self._open:
            fresh[closed_end] = self._open[open_key]
        elif first_missing <= hi:
            for group, found in fetch(first_missing).items():
                for b in found:
                    fresh.setdefault(b.start, {})[group] = b.value
            for start in range(first_missing, closed_end, size):
                kept.closed[start] = fresh.get(start, {})
            self._open[open_key] = fresh.get(closed_end, {})
        out: dict[str, list[Bucket]] = {}
        for start in starts:
            for group, value in kept.closed[start].items():
                out.setdefault(group, []).append(Bucket(start, value))
        if closed_end <= hi:  # the open bucket: asked every time, never kept
            for group, value in fresh.get(closed_end, {}).items():
                out.setdefault(group, []).append(Bucket(closed_end, value))
        return {group: out[group] for group in sorted(out)}


_CACHES: weakref.WeakKeyDictionary[object, RefreshCache] = weakref.WeakKeyDictionary()
_CACHES_LOCK = threading.Lock()


def cache_for(reader: StoreReader) -> RefreshCache | None:
    """The cache that lives as long as `reader`; None for a reader that cannot say what
    changed (then every refresh asks the store everything)."""
    if not callable(getattr(reader, "changes_since", None)):
        return None
    with _CACHES_LOCK:
        try:
            cache = _CACHES.get(reader)
            if cache is None:
                cache = _CACHES[reader] = RefreshCache()
        except TypeError:  # not weakly referenceable or not hashable
            return None
    return cache


@contextmanager
def refreshing(reader: StoreReader, *, partial: bool = False) -> Iterator[StoreReader]:
    """The reader to evaluate one refresh with: cached when `reader` allows it."""
    cache = cache_for(reader)
    if cache is None:
        yield reader
        return
    with cache.refresh(reader, partial=partial) as cached:
        yield cached
