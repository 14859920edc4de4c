"""Store benchmark (SPEC §5): import rate and the time of each reader query.

Self-contained: in a temporary directory it writes a CSV of N points (default 10
million) over 50 series (10 metrics × 5 regions, epoch-second times, ~400 days), times
`kpitui import` of it in a fresh process (points/s, bar: 400,000), then times each
reader query a panel makes on the resulting store (bar: a few ms).

    python benchmarks/bench_store.py                 # 10M points (~1 minute, ~600 MB temp)
    python benchmarks/bench_store.py --points 1000000
    python benchmarks/bench_store.py --keep /tmp/kpi  # keep the CSV and the store
    python benchmarks/bench_store.py --db postgresql  # on a throwaway PostgreSQL server
    python benchmarks/bench_store.py --db both        # the same CSV into SQLite, then PostgreSQL
    python benchmarks/bench_store.py --db postgresql://me@db/bench  # on that (empty) database

`--db postgresql` starts its own server (initdb + pg_ctl in the temp directory, on a free
loopback port; see `pg_bench_server`), with durability off as the tests run it.

Windows end at the newest point; `lo = hi - window + 1` as the engine computes them
(so bucket grids are *not* aligned to UTC days), plus one aligned variant for contrast.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from kpitui.store import open_reader
from kpitui.store.name import is_url

DAY = 86400
METRICS = 10
REGIONS = ("eu", "us", "apac", "latam", "mea")
START = 1_700_000_000
SPAN = 400 * DAY


def write_csv(path: Path, points: int, seed: int = 1) -> None:
    """metric,time,value,region — one series after the other, times ascending."""
    rng = random.Random(seed)
    per_series = points // (METRICS * len(REGIONS))
    step = max(1, SPAN // per_series)
    with path.open("w") as out:
        out.write("metric,time,value,region\n")
        for m in range(METRICS):
            for region in REGIONS:
                value, rows = 100.0, []
                for i in range(per_series):
                    value += rng.random() - 0.5
                    rows.append(f"m{m},{START + i * step},{value:.3f},{region}\n")
                out.writelines(rows)


def pg_bench_server():
    """A throwaway PostgreSQL server sized for a 10M-point store (the tests' fixture)."""
    from tests.pg_server import start_server

    return start_server(settings=("shared_buffers=256MB", "max_wal_size=4GB", "work_mem=32MB"))


def store_size(db: Path | str) -> float:
    """MB the store takes: the SQLite file, or the PostgreSQL database."""
    if isinstance(db, str):
        import psycopg

        with psycopg.connect(db) as con:
            return con.execute("SELECT pg_database_size(current_database())").fetchone()[0] / 1e6
    return db.stat().st_size / 1e6


def time_import(csv_path: Path, db: Path | str, points: int) -> tuple[float, str]:
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "kpitui", "import", str(csv_path), "--db", str(db)],
        capture_output=True,
        text=True,
        check=False,
        cwd=Path(__file__).resolve().parent.parent,
    )
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"import failed: {done.stderr.strip()}")
    return seconds, done.stdout.strip()


def time_query(fn: Callable[[], object], repeat: int) -> tuple[float, float, object]:
    result = fn()  # warm the page cache and the statement cache, as a running app has
    runs = []
    for _ in range(repeat):
        started = time.perf_counter()
        result = fn()
        runs.append(time.perf_counter() - started)
    return statistics.median(runs) * 1000, min(runs) * 1000, result


def reader_queries(db: Path | str) -> list[tuple[str, Callable[[], object]]]:
    r = open_reader(db)
    hi = max(s.last_ts for s in r.stats())
    m, one = "m0", {"region": "eu"}

    def win(days: int) -> int:
        return hi - days * DAY + 1

    aligned = win(365) - win(365) % DAY
    return [
        ("last (5 series summed)", lambda: r.last(m, None, hi)),
        ("last_ts_in 30d", lambda: r.last_ts_in(m, None, win(30), hi)),
        ("aggregate sum 30d", lambda: r.aggregate(m, None, "sum", win(30), hi)),
        ("aggregate avg 30d", lambda: r.aggregate(m, None, "avg", win(30), hi)),
        ("aggregate max 1y", lambda: r.aggregate(m, None, "max", win(365), hi)),
        ("aggregate p90 7d (1 series)", lambda: r.aggregate(m, one, "p90", win(7), hi)),
        ("aggregate p90 7d (5 series)", lambda: r.aggregate(m, None, "p90", win(7), hi)),
        ("aggregate nps 7d (5 series)", lambda: r.aggregate(m, None, "nps", win(7), hi)),
        (
            "aggregate_by_label sum 30d",
            lambda: r.aggregate_by_label(m, None, "sum", win(30), hi, "region"),
        ),
        ("buckets sum 30d/1d (spark)", lambda: r.buckets(m, None, "sum", win(30), hi, DAY)),
        ("buckets sum 30d/1d (1 series)", lambda: r.buckets(m, one, "sum", win(30), hi, DAY)),
        ("buckets last 30d/1d", lambda: r.buckets(m, None, "last", win(30), hi, DAY)),
        ("buckets sum 1y/1d (1 series)", lambda: r.buckets(m, one, "sum", win(365), hi, DAY)),
        ("buckets sum 1y/1d", lambda: r.buckets(m, None, "sum", win(365), hi, DAY)),
        ("buckets avg 1y/1d", lambda: r.buckets(m, None, "avg", win(365), hi, DAY)),
        ("buckets avg 1y/1d (UTC-aligned)", lambda: r.buckets(m, None, "avg", aligned, hi, DAY)),
        ("buckets sum 1y/7d", lambda: r.buckets(m, None, "sum", win(365), hi, 7 * DAY)),
        ("buckets sum 7d/1h", lambda: r.buckets(m, None, "sum", win(7), hi, 3600)),
        ("buckets p90 7d/1d (1 series)", lambda: r.buckets(m, one, "p90", win(7), hi, DAY)),
        (
            "buckets_by_label sum 30d/1d",
            lambda: r.buckets_by_label(m, None, "sum", win(30), hi, DAY, "region"),
        ),
        (
            "buckets_by_label avg 1y/1d",
            lambda: r.buckets_by_label(m, None, "avg", win(365), hi, DAY, "region"),
        ),
        ("stats (all 50 series)", r.stats),
        ("data_version", r.data_version),
    ]


def measure(csv_path: Path, db: Path | str, points: int, repeat: int) -> None:
    """Import the CSV into the store `db`, then time the reader's queries on it."""
    kind = "PostgreSQL" if isinstance(db, str) else "SQLite"
    seconds, said = time_import(csv_path, db, points)
    rate = points / seconds
    verdict = "ok" if rate >= 400_000 else "BELOW the 400,000/s bar"
    print(
        f"\n{kind}: kpitui import: {seconds:.2f} s wall (process start to exit)"
        f" = {rate:,.0f} points/s  [{verdict}]"
    )
    print(f"  {said}")
    print(f"  store: {store_size(db):,.0f} MB")
    print(
        f"\n{kind}: reader queries on metric m0 (5 series × {points // 50:,} points),"
        f" median of {repeat}:"
    )
    print(f"  {'query':34s} {'median':>9s} {'best':>9s}  result")
    for name, fn in reader_queries(db):
        median, best, result = time_query(fn, repeat)
        shown = (
            f"{len(result)} buckets/rows" if isinstance(result, list | dict) else repr(result)[:40]
        )
        print(f"  {name:34s} {median:7.2f} ms {best:7.2f} ms  {shown}", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--points", type=int, default=10_000_000, help="points in the CSV (default 10M)"
    )
    parser.add_argument("--repeat", type=int, default=20, help="runs per query (default 20)")
    parser.add_argument("--keep", metavar="DIR", help="write the CSV and store here and keep them")
    parser.add_argument(
        "--db",
        default="sqlite",
        metavar="STORE",
        help="sqlite (default), postgresql (a throwaway server), both (the same CSV into"
        " each, in one run), or a postgresql:// URL",
    )
    args = parser.parse_args(argv)

    backends = ["sqlite", "postgresql"] if args.db == "both" else [args.db]
    server = None
    with tempfile.TemporaryDirectory(prefix="kpitui-bench-") as tmp:
        where = Path(args.keep or tmp)
        where.mkdir(parents=True, exist_ok=True)
        csv_path = where / "points.csv"
        print(f"writing {args.points:,} points over 50 series to {csv_path} …", flush=True)
        started = time.perf_counter()
        write_csv(csv_path, args.points)
        print(f"  {time.perf_counter() - started:.1f} s, {csv_path.stat().st_size / 1e6:,.0f} MB")
        for backend in backends:
            db: Path | str = where / "bench.db"
            if backend == "postgresql":
                server = server or pg_bench_server()
                db = server.new_database("bench")
            elif is_url(backend):
                db = backend
            if isinstance(db, Path):
                for suffix in ("", "-wal", "-shm"):
                    Path(f"{db}{suffix}").unlink(missing_ok=True)
            measure(csv_path, db, args.points, args.repeat)
            if args.keep:
                print(f"\nkept {csv_path} and {db}")
        if server is not None:
            server.destroy()
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONDONTWRITEBYTECODE", "1")
    raise SystemExit(main())
