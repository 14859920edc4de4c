"""Concurrent writers (issue 15): N processes record points into one store at once.

Each writer process opens its own writer and records one point at a time — as many
`kpitui record` calls or a webhook would — into a series of its own and into one series
they all share, for `--seconds`; then the store is counted: every point each process
says it wrote must be there exactly once, and the rollups must count as many.

    .venv/bin/python benchmarks/bench_writers.py --db postgresql          # 16 writers, 60 s
    .venv/bin/python benchmarks/bench_writers.py --db sqlite --writers 4 --seconds 10
"""

from __future__ import annotations

import argparse
import multiprocessing
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from kpitui.errors import StoreLockedError
from kpitui.store import open_reader, open_writer
from kpitui.store.name import is_url

T0 = 1_767_225_600


def write_for(db: str, k: int, seconds: float, out: multiprocessing.Queue) -> None:
    written = locked = 0
    deadline = time.monotonic() + seconds
    with open_writer(db) as writer:
        while time.monotonic() < deadline:
            ts = T0 + written * 64 + k  # unique per writer in the shared series
            try:
                writer.write_points([("own", {"writer": str(k)}, ts, 1.0), ("shared", {}, ts, 1.0)])
            except StoreLockedError:
                locked += 1
                continue
            written += 1
    out.put((k, written, locked))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--db", default="postgresql", help="sqlite, postgresql, or a URL")
    parser.add_argument("--writers", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=60.0)
    args = parser.parse_args(argv)
    server = None
    with tempfile.TemporaryDirectory(prefix="kpitui-writers-") as tmp:
        if args.db == "postgresql":
            from benchmarks.bench_store import pg_bench_server

            server = pg_bench_server()
            db = server.new_database("writers")
        elif is_url(args.db):
            db = args.db
        else:
            db = str(Path(tmp) / "writers.db")
        with open_writer(db):
            pass  # the schema, before the writers race to create it
        out: multiprocessing.Queue = multiprocessing.Queue()
        procs = [
            multiprocessing.Process(target=write_for, args=(db, k, args.seconds, out))
            for k in range(args.writers)
        ]
        for p in procs:
            p.start()
        results = [out.get() for _ in procs]
        for p in procs:
            p.join()
        said = sum(w for _, w, _ in results)
        locked = sum(x for _, _, x in results)
        reader = open_reader(db)
        try:
            by_writer = reader.aggregate_by_label("own", None, "count", T0, 2**40, "writer")
            shared = reader.aggregate("shared", None, "count", T0, 2**40) or 0
            shared_sum = reader.aggregate("shared", None, "sum", T0 - 86400, 2**40) or 0
        finally:
            reader.close()
        lost = sum(w - int(by_writer.get(str(k), 0)) for k, w, _ in results)
        print(
            f"{args.writers} writers for {args.seconds:g} s on {'PostgreSQL' if is_url(db) else 'SQLite'}:"
            f" {said:,} batches of 2 points ({said / args.seconds:,.0f}/s), {locked} locked out"
        )
        print(f"  own series: {lost} points lost; shared series: {said - int(shared)} lost,")
        print(f"  rollups count {int(shared_sum):,} of {said:,} shared points")
        if server is not None:
            server.destroy()
        return 0 if lost == 0 and shared == said == shared_sum else 1


if __name__ == "__main__":
    raise SystemExit(main())
