"""`kpitui sync` from a PostgreSQL table of 1M rows: a 90-day backfill, then the next run.

Starts a throwaway PostgreSQL server (`tests/pg_server.py`), fills `accounts(created_at,
plan, amount)` with N rows spread over the last 90 days, and times `kpitui sync --once
--backfill 90d` (process start to exit, into a new SQLite store) for two pulls:

- `daily`: signups per day and plan (`date_trunc('day', …)`, `count(*)`): ~270 points;
- `raw`: every row as a point (`created_at`, `amount`, labelled by plan): N points.

each with and without an index on `created_at`, and then the incremental run that follows
(which reads only from the newest day on).

Run: `.venv/bin/python benchmarks/bench_sync.py [--rows 1000000]` (~1–2 min).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.pg_server import PgServer, missing_reason  # noqa: E402

QUERIES = {
    "daily": (
        "SELECT date_trunc('day', created_at) AS time, plan, count(*) AS value FROM accounts"
        " WHERE created_at >= :start AND created_at < :end GROUP BY 1, 2"
    ),
    "raw": (
        "SELECT created_at AS time, plan, amount AS value FROM accounts"
        " WHERE created_at >= :start AND created_at < :end"
    ),
}


def fill(url: str, rows: int) -> None:
    import psycopg

    with psycopg.connect(url, autocommit=True) as con:
        con.execute(
            "CREATE TABLE accounts (created_at timestamptz NOT NULL, plan text, amount float8)"
        )
        # Whole seconds, so no two rows of a plan share a second by chance too often.
        con.execute(
            "INSERT INTO accounts SELECT date_trunc('second', now() - random() * interval '90 days'),"
            " (ARRAY['free','pro','team'])[1 + floor(random() * 3)::int], round(random() * 100)"
            " FROM generate_series(1, %s)",
            (rows,),
        )
        con.execute("ANALYZE accounts")


def sync(folder: Path, url: str, name: str, *extra: str) -> tuple[float, str]:
    spec = folder / f"{name}.yaml"
    spec.write_text(
        json.dumps(
            {
                "title": "bench",
                "store": f"{name}.db",
                "sources": {"app": {"url": url, "timeout": "120s"}},
                "pull": [
                    {"metric": "signups", "source": "app", "backfill": "90d",
                     "query": QUERIES[name.split("-")[0]]}
                ],
                "kpis": [{"metric": "signups", "agg": "sum", "indicator": "leading"}],
            }
        )
    )  # fmt: skip
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "kpitui", "sync", str(spec), "--once", *extra],
        capture_output=True,
        text=True,
        cwd=folder,
    )
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"sync failed: {done.stderr}")
    return seconds, done.stdout.strip()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args(argv)
    reason = missing_reason()
    if reason:
        raise SystemExit(f"bench_sync: {reason}")
    server = PgServer()
    try:
        server.start()
        url = server.new_database("bench")
        started = time.perf_counter()
        fill(url, args.rows)
        print(
            f"filled accounts with {args.rows:,} rows over 90 days in {time.perf_counter() - started:.1f} s"
        )
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            for indexed in (False, True):
                if indexed:
                    import psycopg

                    with psycopg.connect(url, autocommit=True) as con:
                        con.execute("CREATE INDEX ON accounts (created_at)")
                for name in QUERIES:
                    label = f"{name}-{'indexed' if indexed else 'no-index'}"
                    backfill, said = sync(folder, url, label, "--backfill", "90d")
                    print(f"{label:18} backfill 90d: {backfill:6.2f} s   {said}")
                    again, said = sync(folder, url, label)
                    print(f"{label:18} next run:     {again:6.2f} s   {said}")
    finally:
        server.destroy()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
