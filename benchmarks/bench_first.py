"""First screen of `bench_app`'s 12-panel board against the bare Textual app (SPEC §5:
within 1.5×), on a store that is already built, paired start by start.

    .venv/bin/python benchmarks/bench_first.py STORE --rounds 9
    .venv/bin/python benchmarks/bench_first.py STORE --one kpitui --needles N.txt  # one start
    .venv/bin/python benchmarks/bench_first.py STORE --one bare

Each round starts the bare app (`bare_app.py`) and then kpitui in a 160×48 pseudo-terminal
and times each from process start to its first full screen (kpitui: the values of the
board's `last` KPIs and a plotted chart, as `bench_app` recognises it); the ratio is taken
pair by pair, so a machine whose speed drifts (other work on its cores) moves both; beside
it the CPU each had spent by its first screen (kpitui's with the child that evaluates its
first board), which other work on the machine moves much less. `--one` prints one start's
seconds and CPU seconds, for a harness that pairs whole processes itself.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.bare_app import DONE
from benchmarks.bench_app import SPEC, compile_bytecode, expected_values
from benchmarks.ptyrun import PtyApp, kpitui_argv

_BARE = Path(__file__).resolve().parent / "bare_app.py"


def needles_for(spec: Path, store: str) -> list[bytes]:
    from kpitui.engine import evaluate
    from kpitui.spec import load_dashboard
    from kpitui.store import open_reader

    reader = open_reader(store)
    try:
        loaded = load_dashboard(spec, known_metrics=reader.metric_names())
        return expected_values(evaluate(loaded.dashboard, reader, int(time.time())))
    finally:
        reader.close()


def cpu_so_far(app: PtyApp) -> float:
    """CPU seconds of the process and of its children it has reaped (the first board's)."""
    fields = Path(f"/proc/{app.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
    return sum(int(f) for f in fields[11:15]) / os.sysconf("SC_CLK_TCK")


def kpitui_start(spec: Path, store: str, needles: list[bytes]) -> tuple[float, float]:
    """(seconds to the first screen, CPU seconds spent by then)."""
    app = PtyApp(kpitui_argv("run", str(spec), "--db", store), width=160, height=48)
    try:
        return max(app.wait_for(needle) for needle in needles), cpu_so_far(app)
    finally:
        app.close()


def bare_start() -> tuple[float, float]:
    app = PtyApp([sys.executable, str(_BARE)], width=160, height=48)
    try:
        return app.wait_for(DONE.encode()), cpu_so_far(app)
    finally:
        app.close()


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("store", help="a store built by bench_scale or bench_app")
    parser.add_argument("--rounds", type=int, default=7, help="pairs (%(default)s)")
    parser.add_argument("--one", choices=["kpitui", "bare"], help="one start, its seconds")
    parser.add_argument(
        "--needles", metavar="FILE", help="keep what the first screen is recognised by here"
    )
    args = parser.parse_args()
    store = str(Path(args.store).resolve())
    with tempfile.TemporaryDirectory(prefix="kpitui-first-") as tmp:
        spec = Path(tmp) / "dash.yaml"
        spec.write_text(SPEC.replace("bench.db", store))
        if args.one == "bare":
            print("{:.3f} {:.3f}".format(*bare_start()))
            return 0
        if args.needles and Path(args.needles).is_file():
            needles = [bytes.fromhex(h) for h in Path(args.needles).read_text().split()]
        else:
            needles = needles_for(spec, store)
            if args.needles:
                Path(args.needles).write_text(" ".join(n.hex() for n in needles))
        if args.one == "kpitui":
            print("{:.3f} {:.3f}".format(*kpitui_start(spec, store, needles)))
            return 0
        compile_bytecode()
        ours, bare, ratios, cpu_ratios = [], [], [], []
        for _ in range(args.rounds):
            (b, b_cpu), (k, k_cpu) = bare_start(), kpitui_start(spec, store, needles)
            bare.append(b)
            ours.append(k)
            ratios.append(k / b)
            cpu_ratios.append(k_cpu / b_cpu)
            print(
                f"  kpitui {k:.3f} s ({k_cpu:.2f} s CPU), bare {b:.3f} s ({b_cpu:.2f} s CPU):"
                f" {ratios[-1]:.2f}× ({cpu_ratios[-1]:.2f}× CPU)",
                flush=True,
            )
        print(
            f"first screen: kpitui {min(ours):.3f} / {statistics.median(ours):.3f} s, bare"
            f" {min(bare):.3f} / {statistics.median(bare):.3f} s (best / median of"
            f" {len(ours)}); ratio median {statistics.median(ratios):.2f}×, of the CPU"
            f" spent by the first screen {statistics.median(cpu_ratios):.2f}×"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
