"""Measure the dashboard against SPEC §5 on stores of growing size.

For each store size (default 1M, 3M and 10M points over 50 series) it builds a store and a
12-panel dashboard in a temp dir, then prints:
  - first screen: seconds from process start until KPI values are drawn in a pty (best
    and median of 5 starts; next to it, the same for a bare Textual app, the SPEC's reference),
  - the first `evaluate` (all queries + maths, cold), and a live refresh: one point
    written by another connection, as-of moved on, `evaluate` again (best, median of 20),
  - RSS after the first screen, in MB,
and on the largest store:
  - idle CPU over --idle-seconds with no new data, and with one new point per second,
  - bytes written to the terminal per refresh when nothing changed and when one KPI did.

    .venv/bin/python benchmarks/bench_app.py                  # the full run (~6 min)
    .venv/bin/python benchmarks/bench_app.py --points 1000000 --idle-seconds 10
    .venv/bin/python benchmarks/bench_app.py --db both --points 10000000   # SQLite, then PostgreSQL

`--db postgresql` (or `both`: each size on SQLite, then on PostgreSQL, in the same run)
puts the stores in databases of a throwaway PostgreSQL server it starts itself (see
`bench_store.pg_bench_server`); `--db postgresql://…` uses that server, a new database
per size (the role must be allowed to create databases).
"""

from __future__ import annotations

import argparse
import compileall
import random
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.ptyrun import PtyApp, kpitui_argv
from kpitui.engine import evaluate
from kpitui.engine.board import Board
from kpitui.spec import load_dashboard
from kpitui.store import open_reader, open_writer

METRICS = [f"m{i}" for i in range(10)]
SHARDS = ["a", "b", "c", "d", "e"]  # 10 metrics × 5 shards = 50 series
DAYS = 400

SPEC = """\
title: Benchmark board
store: bench.db
refresh: 1s
timezone: Europe/Berlin
metrics:
  ratio: {formula: "m6 / m7", format: percent}
kpis:
  - {metric: m0, north_star: true, target: 1000, warn: "90%", indicator: lagging, spark: {window: 90d, bucket: 1d}}
  - {metric: m1, agg: sum, window: 7d, indicator: leading}
  - {metric: m2, agg: avg, window: 30d, target: 50}
  - {metric: m3, agg: p90, window: 7d, direction: down, warn: 90, crit: 95}
  - {metric: m4, agg: max, window: 30d}
  - {metric: m5, labels: {shard: a}, stale_after: 1h}
  - {id: ratio, metric: ratio, agg: sum, window: 30d}
  - {metric: m8, agg: count, window: mtd}
  - {metric: m9, agg: min, window: qtd}
charts:
  - {id: split, title: m0 by shard, metrics: [m0], split_by: shard, window: 90d, bucket: 1d}
  - {id: pair, title: m1 and m2, metrics: [m1, m2], window: 365d, bucket: 7d, agg: avg}
okrs:
  - title: Grow m0
    key_results:
      - {title: m0 to 1200, metric: m0, start: 900, target: 1200}
      - {title: m1 volume, metric: m1, agg: sum, start: 0, target: 5000000}
      - {title: Ship it, done: false}
"""


def build_store(path: Path | str, points: int, end: int) -> float:
    per_series = points // (len(METRICS) * len(SHARDS))
    step = DAYS * 86400 // per_series
    start = end - per_series * step
    rng = random.Random(1)
    began = time.perf_counter()
    with open_writer(path) as writer:
        for metric in METRICS:
            for shard in SHARDS:
                base = rng.uniform(10, 100)
                labels = {"shard": shard}
                writer.write_points(
                    (metric, labels, start + k * step, base + rng.random() * 10)
                    for k in range(1, per_series + 1)
                )
    return time.perf_counter() - began


def reeval_times(spec_path: Path, db: Path | str, as_of: int) -> tuple[float, float, float, Board]:
    """(first, best, median) seconds of one full evaluate, and the last Board. After the
    first, each round is what a live refresh does: another program wrote one point, and
    as-of moved on."""
    reader = open_reader(db)
    loaded = load_dashboard(spec_path, known_metrics=reader.metric_names())
    began = time.perf_counter()
    evaluate(loaded.dashboard, reader, as_of)
    first = time.perf_counter() - began
    times = []
    with open_writer(db) as writer:
        for step in range(1, 21):
            now = as_of + 2 * step
            # Into m1 (a 7-day sum and a chart read it), not into the `last` KPIs whose
            # values the first screen is recognised by.
            writer.write_points([("m1", {"shard": "a"}, now, random.random())])
            began = time.perf_counter()
            board = evaluate(loaded.dashboard, reader, now)
            times.append(time.perf_counter() - began)
    reader.close()
    return first, min(times), statistics.median(times), board


def expected_values(board: Board) -> list[bytes]:
    """What the first full screen must show: the values of the `last` KPIs, which do not
    move with the clock between that evaluation and the app's (but the North Star's,
    drawn in big digits, not as text), and a plotted chart (plotext's frame corner:
    Textual's borders here are round). The OKR tree is below the first 48 lines."""
    values = [k.display.encode() for k in board.kpis if k.agg == "last" and not k.north_star]
    return [*values, "┌".encode()]


def first_screen(
    spec_path: Path, db: Path | str, needles: list[bytes], rounds: int = 5
) -> tuple[list[float], float, PtyApp]:
    """Seconds to the first screen of `rounds` starts, the RSS after the last, and the
    last app, left running."""
    times = []
    for n in range(rounds):
        app = PtyApp(kpitui_argv("run", str(spec_path), "--db", str(db)), width=160, height=48)
        times.append(max(app.wait_for(needle) for needle in needles))
        if n < rounds - 1:
            app.close()
    return times, app.rss_mb(), app


def compile_bytecode() -> None:
    """Give kpitui its bytecode, as an installed package has it (pip compiles at install;
    an editable install writes it at first import — unless PYTHONDONTWRITEBYTECODE is set,
    and then every start compiles ~60 modules from source, ~0.1 s here)."""
    import kpitui

    compileall.compile_dir(Path(kpitui.__file__).parent, quiet=1)


def bare_first_screen(rounds: int = 5) -> list[float]:
    """Seconds to the first screen of the reference bare Textual app, per start."""
    from benchmarks.bare_app import DONE

    script = Path(__file__).resolve().parent / "bare_app.py"
    times = []
    for _ in range(rounds):
        app = PtyApp([sys.executable, str(script)], width=160, height=48)
        times.append(app.wait_for(DONE.encode()))
        app.close()
    return times


def idle_cpu(app: PtyApp, seconds: float, writer_db: Path | str | None) -> float:
    stop = threading.Event()

    def feed() -> None:
        with open_writer(writer_db) as writer:
            while not stop.wait(1.0):
                writer.write_points([("m5", {"shard": "a"}, int(time.time()), random.random())])

    thread = threading.Thread(target=feed, daemon=True) if writer_db else None
    if thread:
        thread.start()
    cpu0, t0 = app.cpu_seconds(), time.perf_counter()
    app.pump(seconds)
    cpu1, t1 = app.cpu_seconds(), time.perf_counter()
    stop.set()
    if thread:
        thread.join()
    return 100.0 * (cpu1 - cpu0) / (t1 - t0)


def bytes_per_refresh(app: PtyApp, db: Path | str) -> tuple[int, int]:
    """Bytes written per 1 s refresh with nothing new (averaged over 6), then the bytes
    for the refresh after one point that changes a KPI's value."""
    app.pump(8.0)  # settle: start-up notifications time out
    # The header's "as of" moves on each minute (a real change): measure within one.
    left = 60 - time.time() % 60
    if left < 7:
        app.pump(left + 1)
    quiet = app.pump(6.0) // 6
    with open_writer(db) as writer:
        writer.write_points([("m5", {"shard": "a"}, int(time.time()), 12345.0)])
    changed = app.pump(1.5)
    return quiet, changed


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--points",
        default="1000000,3000000,10000000",
        help="comma-separated store sizes (default: %(default)s)",
    )
    parser.add_argument("--idle-seconds", type=float, default=30.0)
    parser.add_argument(
        "--db",
        default="sqlite",
        metavar="BACKEND",
        help="sqlite (default), postgresql, both, or a postgresql:// URL of a server",
    )
    args = parser.parse_args()
    sizes = [int(s) for s in args.points.split(",")]
    backends = ["sqlite", "postgresql"] if args.db == "both" else [args.db]
    server = None
    if any(b == "postgresql" for b in backends):
        from benchmarks.bench_store import pg_bench_server

        server = pg_bench_server()

    def new_store(backend: str, tmp: str, n: int) -> Path | str:
        if backend == "sqlite":
            return Path(tmp) / f"bench{n}.db"
        if server is not None:
            return server.new_database(f"bench{n}")
        import psycopg

        name = f"kpitui_bench_{n}_{int(time.time())}"
        with psycopg.connect(backend, autocommit=True) as con:
            con.execute(f'CREATE DATABASE "{name}"')
        return backend.rstrip("/").rsplit("/", 1)[0] + "/" + name

    compile_bytecode()
    bare = bare_first_screen()
    print(
        f"reference: a bare Textual app (12 widgets, a plotext chart) draws its first "
        f"screen in {min(bare):.3f} s best, {statistics.median(bare):.3f} s median of "
        f"{len(bare)} here (SPEC §5: about 0.25 s where the bars were set)\n"
    )
    print(
        f"{'store':>10} {'points':>12} {'build s':>8} {'first screen best / median s':>29} "
        f"{'first eval ms':>14} "
        f"{'refresh best ms':>16} {'refresh median ms':>18} {'RSS MB':>7}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        runs = [(size, backend) for size in sizes for backend in backends]
        for n, (size, backend) in enumerate(runs):
            spec_path = Path(tmp) / f"dash{n}.yaml"
            db = new_store(backend, tmp, n)
            spec_path.write_text(SPEC.replace("bench.db", f"bench{n}.db"))
            end = int(time.time())
            build = build_store(db, size, end)
            first, best, median, board = reeval_times(spec_path, db, end)
            needles = expected_values(board)
            starts, rss, app = first_screen(spec_path, db, needles)
            shown = f"{min(starts):.3f} / {statistics.median(starts):.3f}"
            kind = "sqlite" if isinstance(db, Path) else "postgresql"
            print(
                f"{kind:>10} {size:>12,} {build:>8.1f} {shown:>29} {first * 1000:>14.1f} "
                f"{best * 1000:>16.2f} {median * 1000:>18.2f} {rss:>7.1f}",
                flush=True,
            )
            if size == sizes[-1]:
                quiet, changed = bytes_per_refresh(app, db)
                idle = idle_cpu(app, args.idle_seconds, None)
                live = idle_cpu(app, args.idle_seconds, db)
                print(f"\n{kind}, {size:,} points:")
                print(f"  idle CPU, no new data ({args.idle_seconds:.0f} s): {idle:.2f}% of a core")
                print(
                    f"  idle CPU, one point/s ({args.idle_seconds:.0f} s):  {live:.2f}% of a core"
                )
                print(f"  bytes to the terminal per refresh, nothing changed: {quiet}")
                print(f"  bytes to the terminal for a refresh where one KPI changed: {changed}\n")
            app.close()
    if server is not None:
        server.destroy()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
