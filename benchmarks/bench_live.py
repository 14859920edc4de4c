"""CPU of a live board (SPEC §5: idle ≤ 0.5 % of a core, one new point a second ≤ 1 %)
on a store that is already built, without building anything.

It starts `kpitui run` on `bench_app`'s 12-panel board over STORE in a pseudo-terminal
(160×48, refresh 1s), lets it settle, then measures the process's CPU over --seconds
with no new data and over --seconds with another connection writing one point a second
(into m5 shard a, as `bench_app` does), --rounds times each, alternating.

    .venv/bin/python benchmarks/bench_live.py /tmp/kpi-scale/10000000/bench.db
    .venv/bin/python benchmarks/bench_live.py STORE --seconds 30 --rounds 3

Before the first measure one point is written and the board left to take it: the
poller's first board after the one `kpitui run` drew at start is a cold evaluation
(~0.1–0.2 s, once a session), which would otherwise land in the first window.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.bench_app import SPEC, compile_bytecode, idle_cpu
from benchmarks.ptyrun import PtyApp, kpitui_argv
from kpitui.store import open_writer


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("store", help="a store built by bench_scale or bench_app")
    parser.add_argument("--seconds", type=float, default=30.0, help="per measure (%(default)s)")
    parser.add_argument("--rounds", type=int, default=2, help="measures of each (%(default)s)")
    args = parser.parse_args()
    compile_bytecode()
    store = str(Path(args.store).resolve())
    with tempfile.TemporaryDirectory(prefix="kpitui-live-") as tmp:
        spec = Path(tmp) / "dash.yaml"
        spec.write_text(SPEC.replace("bench.db", store))
        app = PtyApp(kpitui_argv("run", str(spec)), width=160, height=48)
        try:
            app.wait_for("┌".encode())
            app.pump(8.0)  # start-up notifications time out
            # The first board came from `kpitui run`'s child: the poller's first board is
            # a cold one (~0.1-0.2 s, once a session). Out of the window measured.
            with open_writer(store) as writer:
                writer.write_points([("m5", {"shard": "a"}, int(time.time()), random.random())])
            app.pump(3.0)
            print(f"load {os.getloadavg()[0]:.2f}; {args.seconds:.0f} s per measure", flush=True)
            quiet, live = [], []
            for n in range(args.rounds):
                quiet.append(idle_cpu(app, args.seconds, None))
                live.append(idle_cpu(app, args.seconds, Path(store)))
                print(
                    f"  round {n + 1}: no new data {quiet[-1]:.2f} %, one point/s"
                    f" {live[-1]:.2f} % of a core",
                    flush=True,
                )
            print(
                f"idle, no new data: {statistics.median(quiet):.2f} % median of {len(quiet)};"
                f" one point a second: {statistics.median(live):.2f} % median of {len(live)}"
            )
        finally:
            app.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
