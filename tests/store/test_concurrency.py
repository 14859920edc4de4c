"""A writer committing while a reader reads: the reader never fails and never sees half
of a batch (WAL snapshots; the series cache is read in the same snapshot)."""

from __future__ import annotations

import threading

import pytest

from kpitui.store import open_reader, open_writer

T0 = 1_767_225_600
BATCHES = 40

pytestmark = pytest.mark.both_backends


def test_reader_sees_whole_batches_only(db, write):
    # Given a store, and a writer whose every batch adds 5 points to a brand-new series
    # and 5 points to a shared one (so a batch seen by half has a count not divisible by
    # 10, or a shared count not 5 × the other series)
    write(
        [("events", {"batch": "common"}, T0 - 1, 0.0), ("events", {"batch": "seed"}, T0 - 1, 0.0)]
    )
    done = threading.Event()
    failures: list[BaseException] = []

    def write_batches() -> None:
        try:
            with open_writer(db) as writer:
                for i in range(BATCHES):
                    rows = [("events", {"batch": str(i)}, T0 + i * 10 + j, 1.0) for j in range(5)]
                    rows += [
                        ("events", {"batch": "common"}, T0 + i * 10 + j, 1.0) for j in range(5)
                    ]
                    writer.write_points(rows)
        except BaseException as exc:  # surfaced by the assertion below
            failures.append(exc)
        finally:
            done.set()

    reader = open_reader(db)
    thread = threading.Thread(target=write_batches)
    thread.start()
    reads = 0
    try:
        # When the reader reads over and over while the batches commit
        while True:
            finished = done.is_set()
            total = reader.aggregate("events", None, "count", T0, T0 + 10**6) or 0
            assert total % 10 == 0, total
            by_batch = reader.aggregate_by_label("events", None, "count", T0, T0 + 10**6, "batch")
            common = by_batch.pop("common", 0)
            assert common == 5 * len(by_batch), (common, by_batch)
            assert all(count == 5 for count in by_batch.values())
            newest = reader.aggregate_by_label("events", None, "last", T0 - 1, T0 + 10**6, "batch")
            seen = len(newest) - 2  # batches whose series exist, besides "common" and "seed"
            assert sum(newest.values()) == seen + (1 if seen else 0)  # "common" too once written
            buckets = reader.buckets("events", None, "sum", T0, T0 + 10**6, 3600)
            assert sum(b.value for b in buckets) % 10 == 0
            reads += 1
            if finished:
                break
    finally:
        thread.join()
        reader.close()
    # Then the writer succeeded and the reader's last look saw everything
    assert failures == []
    assert total == 10 * BATCHES and reads >= 1


def test_two_writers_take_turns(db):
    # Given two threads writing through their own writers at the same time
    errors: list[BaseException] = []

    def write_many(name: str) -> None:
        try:
            with open_writer(db) as writer:
                for i in range(20):
                    writer.write_points([(name, {}, T0 + i, float(i))])
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=write_many, args=(n,)) for n in ("a", "b")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # Then both finished (each waits for the other's lock) and nothing was lost
    assert errors == []
    reader = open_reader(db)
    assert reader.aggregate("a", None, "count", T0, T0 + 100) == 20
    assert reader.aggregate("b", None, "sum", T0, T0 + 100) == sum(range(20))
    reader.close()
