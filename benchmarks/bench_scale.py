"""The scale benchmark (issue 16, SPEC §5): stores of 1M, 10M and 100M points over 1,000
series, each built by `kpitui import` of CSV files (`scale_data`), then the board.

For each size it prints:
  - import: points/s of each file (a 100M store arrives in ten files of 10M, so the last
    is the rate into a store that already holds 90M), and the importer's peak RSS;
  - first screen of the 12-panel board of `bench_app` in a pty, paired with the bare
    Textual app of `bare_app` in the same run (bare, kpitui, bare, kpitui, …): best and
    median of each, and the median of the per-pair ratios (bar: 1.5×);
  - the first `evaluate` (cold) and a live refresh (one point written by another
    connection, as-of moved on: best / median of 20; bar 20 ms), RSS after the first
    screen (bar 100 MB);
  - the same refresh for a board of survey scores and percentiles over 90 days of dense
    responses (nps, csat, latency p50/p95/p99);
  - `kpitui metrics` and `kpitui snapshot --format json`, whole processes (bar 0.5 s);
and on the largest store: idle CPU with no new data and with one point a second, and
the bytes written to the terminal per refresh.

    .venv/bin/python benchmarks/bench_scale.py                        # 1M, 10M, 100M (~25 min)
    .venv/bin/python benchmarks/bench_scale.py --points 1000000 --rounds 3
    .venv/bin/python benchmarks/bench_scale.py --points 100000000 --keep /tmp/kpi-100m
    .venv/bin/python benchmarks/bench_scale.py --reuse /tmp/kpi-100m  # measure a kept store

The stores live in a temporary directory (`--keep DIR` keeps them; ~45 bytes a point on
disk), the CSV files are deleted as soon as they are imported. Check the machine's load
(`uptime`) beside the figures: they are whole-process wall times on shared cores.
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
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import scale_data
from benchmarks.bare_app import DONE
from benchmarks.bench_app import (
    SPEC,
    bytes_per_refresh,
    compile_bytecode,
    expected_values,
    idle_cpu,
)
from benchmarks.ptyrun import PtyApp, kpitui_argv
from kpitui.engine import evaluate
from kpitui.spec import load_dashboard
from kpitui.store import open_reader, open_writer

SURVEY_SPEC = """\
title: Survey board
store: bench.db
refresh: 1s
timezone: Europe/Berlin
kpis:
  - {metric: nps, agg: nps, window: 90d, target: 30}
  - {metric: csat, agg: csat, window: 90d, format: percent, target: 0.8}
  - {id: lat50, metric: latency, agg: p50, window: 90d, direction: down}
  - {id: lat95, metric: latency, agg: p95, window: 90d, direction: down, target: 1500}
  - {id: lat99, metric: latency, agg: p99, window: 90d, direction: down}
  - {id: nps_a, metric: nps, agg: nps, window: 90d, labels: {shard: a}}
"""
_BARE = Path(__file__).resolve().parent / "bare_app.py"


def _size(text: str) -> int:
    text = text.strip().upper()
    scale = {"K": 1_000, "M": 1_000_000}.get(text[-1:], 1)
    return int(float(text.rstrip("KM")) * scale)


def paired_first_screens(spec: Path, store: str, needles: list[bytes], rounds: int):
    """(kpitui seconds, bare seconds, kpitui/bare per pair, RSS MB after the last kpitui
    start, the last kpitui app, left running)."""
    ours, bare, ratios = [], [], []
    app = None
    for n in range(rounds):
        ref = PtyApp([sys.executable, str(_BARE)], width=160, height=48)
        bare.append(ref.wait_for(DONE.encode()))
        ref.close()
        app = PtyApp(kpitui_argv("run", str(spec), "--db", store), width=160, height=48)
        ours.append(max(app.wait_for(needle) for needle in needles))
        ratios.append(ours[-1] / bare[-1])
        if n < rounds - 1:
            app.close()
    assert app is not None
    return ours, bare, ratios, app.rss_mb(), app


def refresh_times(spec: Path, store: str, metric: str, labels: dict, as_of: int, value):
    """(first evaluate, best, median) seconds, and the last Board: the first on a cold
    reader, then 20 live refreshes, each after another connection wrote one point into
    `metric` and as-of moved on 2 s."""
    reader = open_reader(store)
    loaded = load_dashboard(spec, known_metrics=reader.metric_names())
    began = time.perf_counter()
    board = evaluate(loaded.dashboard, reader, as_of)
    first = time.perf_counter() - began
    times = []
    with open_writer(store) as writer:
        for step in range(1, 21):
            now = as_of + 2 * step
            writer.write_points([(metric, labels, now, value())])
            began = time.perf_counter()
            board = evaluate(loaded.dashboard, reader, now)
            times.append(time.perf_counter() - began)
    reader.close()
    return first, min(times), statistics.median(times), board


def command_times(argv: list[str], rounds: int) -> list[float]:
    """Wall seconds of a whole kpitui process, per run (after one warm-up run)."""
    times = []
    for n in range(rounds + 1):
        began = time.perf_counter()
        done = subprocess.run(argv, capture_output=True, check=False)
        if done.returncode != 0:
            raise SystemExit(f"{' '.join(argv[2:])} failed: {done.stderr.decode().strip()}")
        if n:
            times.append(time.perf_counter() - began)
    return times


def best_median(values: list[float], scale: float = 1.0, fmt: str = ".3f") -> str:
    return f"{min(values) * scale:{fmt}} / {statistics.median(values) * scale:{fmt}}"


def measure(where: Path, store: str, size: int, end: int, args: argparse.Namespace) -> None:
    spec = where / "dash.yaml"
    survey = where / "survey.yaml"
    spec.write_text(SPEC.replace("bench.db", store))
    survey.write_text(SURVEY_SPEC.replace("bench.db", store))
    print(f"  load: {os.getloadavg()[0]:.2f} (1-minute average)")

    first, best, median, board = refresh_times(
        spec, store, "m1", {"shard": "a", "region": "eu"}, end, random.random
    )
    print(
        f"  board: first evaluate {first * 1000:.1f} ms; live refresh"
        f" {best * 1000:.2f} / {median * 1000:.2f} ms (best / median of 20)"
    )
    s_first, s_best, s_median, _ = refresh_times(
        survey, store, "nps", {"shard": "a", "region": "eu"}, end, lambda: random.randint(0, 10)
    )
    print(
        f"  survey board (nps, csat, p50/p95/p99 over 90d): first evaluate"
        f" {s_first * 1000:.1f} ms; live refresh {s_best * 1000:.2f} / {s_median * 1000:.2f} ms"
    )
    for name, argv in (
        ("kpitui metrics", kpitui_argv("metrics", "--db", store)),
        ("snapshot --format json", kpitui_argv("snapshot", str(spec), "--format", "json")),
    ):
        times = command_times(argv, args.rounds)
        print(f"  {name}: {best_median(times)} s (best / median of {len(times)})")

    ours, bare, ratios, rss, app = paired_first_screens(
        spec, store, expected_values(board), args.rounds
    )
    print(
        f"  first screen: kpitui {best_median(ours)} s, bare Textual {best_median(bare)} s"
        f" (best / median of {len(ours)}, paired); ratio median {statistics.median(ratios):.2f}×"
        f" (pairs {', '.join(f'{r:.2f}' for r in ratios)}); RSS {rss:.0f} MB",
        flush=True,
    )
    try:
        if args.idle_seconds:
            quiet, changed = bytes_per_refresh(app, Path(store))
            idle = idle_cpu(app, args.idle_seconds, None)
            live = idle_cpu(app, args.idle_seconds, Path(store))
            print(f"  idle CPU, no new data ({args.idle_seconds:.0f} s): {idle:.2f}% of a core")
            print(f"  idle CPU, one point/s ({args.idle_seconds:.0f} s): {live:.2f}% of a core")
            print(f"  bytes per refresh, nothing changed / one KPI changed: {quiet} / {changed}")
    finally:
        app.close()


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--points", default="1M,10M,100M", help="store sizes (%(default)s)")
    parser.add_argument("--rounds", type=int, default=5, help="starts per measure (%(default)s)")
    parser.add_argument(
        "--idle-seconds",
        type=float,
        default=30.0,
        help="idle CPU measure on the largest store, 0 to skip (%(default)s)",
    )
    parser.add_argument("--keep", metavar="DIR", help="build the stores here and keep them")
    parser.add_argument("--reuse", metavar="DIR", help="measure the stores kept in DIR")
    args = parser.parse_args()
    sizes = [_size(s) for s in args.points.split(",")]
    compile_bytecode()
    with tempfile.TemporaryDirectory(prefix="kpitui-scale-") as tmp:
        root = Path(args.reuse or args.keep or tmp)
        root.mkdir(parents=True, exist_ok=True)
        for n, size in enumerate(sizes):
            where = root / f"{size}"
            where.mkdir(exist_ok=True)
            store = str(where / "bench.db")
            largest = n == len(sizes) - 1
            print(f"\n{size:,} points over {scale_data.SERIES:,} series", flush=True)
            if args.reuse:
                reader = open_reader(store)
                try:
                    end = max(s.last_ts for s in reader.stats())
                finally:
                    reader.close()
            else:
                end = int(time.time())
                began = time.perf_counter()
                runs = scale_data.build_store(store, scale_data.Layout(size, end), where, say=print)
                total = sum(r.points for r in runs)
                wall = sum(r.seconds for r in runs)
                print(
                    f"  import: {total:,} points in {wall:.1f} s = {total / wall:,.0f} points/s"
                    f" overall, last file {runs[-1].rate:,.0f} points/s; importer peak RSS"
                    f" {max(r.max_rss_mb for r in runs):.0f} MB; store"
                    f" {Path(store).stat().st_size / 1e9:.2f} GB"
                    f" (built in {time.perf_counter() - began:.0f} s with the CSV writing)",
                    flush=True,
                )
            saved = args.idle_seconds
            args.idle_seconds = saved if largest else 0
            measure(where, store, size, end, args)
            args.idle_seconds = saved
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
