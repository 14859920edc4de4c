"""`kpitui store copy`: everything in one store, written into another through the writer.

Series, points, check-ins, annotations, the alert history and pull state. Points are
upserts and alert events are unique per change, so a second copy writes nothing new;
annotations (which have no key of their own) are skipped when the target already holds
one with the same time, text, metrics and labels.
"""

from __future__ import annotations

from collections.abc import Callable

from msgspec import Struct

from kpitui.store.api import StoreReader, StoreWriter
from kpitui.store.checks import MAX_TS, MIN_TS

CHUNK = 50_000
"""Points read and written at a time (one transaction each)."""

Progress = Callable[[int, int], None]
"""Told (points copied so far, points in the source) after each chunk."""


class CopyResult(Struct, frozen=True):
    series: int
    points: int
    changed: int
    """Points that were new in the target or had another value there."""
    checkins: int
    annotations: int
    """Annotations added (those already there are skipped)."""
    alert_events: int
    pulls: int


def copy_store(
    source: StoreReader,
    target: StoreWriter,
    target_reader: Callable[[], StoreReader],
    progress: Progress | None = None,
) -> CopyResult:
    """Copy everything in `source` into `target`; `target_reader` opens a reader of the
    target (to skip annotations it already has)."""
    stats = source.stats()
    total = sum(s.count for s in stats)
    done = changed = 0
    if progress:
        progress(0, total)
    for stat in stats:
        after: int | None = None
        while True:
            rows = source.read_points(stat.series.id, after, CHUNK)
            if not rows:
                break
            with target.batch() as batch:
                sid = batch.series_id(stat.series.metric, stat.series.labels)
                batch.add(sid, [ts for ts, _ in rows], [value for _, value in rows])
            changed += batch.changed
            done += len(rows)
            after = rows[-1][0]
            if progress:
                progress(done, total)
            if len(rows) < CHUNK:
                break
    checkins = source.checkins()
    for c in checkins:
        target.write_checkin(c.kr_id, c.ts, c.value, c.confidence, c.note)
    annotations = source.annotations(MIN_TS, MAX_TS)
    reader = target_reader()
    try:
        have = {
            (a.ts, a.text, a.metrics, tuple(sorted(a.labels.items())))
            for a in reader.annotations(MIN_TS, MAX_TS)
        }
    finally:
        reader.close()
    added = 0
    for a in annotations:
        key = (a.ts, a.text, a.metrics, tuple(sorted(a.labels.items())))
        if key not in have:
            target.write_annotation(a.ts, a.text, a.metrics, a.labels)
            have.add(key)
            added += 1
    events = source.alert_events(limit=1 << 62)
    ids = target.write_alert_events(reversed(events))
    for event_id, event in zip(ids, reversed(events), strict=True):
        for delivered in event.delivered:
            target.mark_delivered(event_id, delivered)
    pulls = source.pull_states()
    for state in pulls.values():
        target.set_pull_state(state)
    return CopyResult(len(stats), done, changed, len(checkins), added, len(events), len(pulls))
