"""Measure `kpitui serve` in Debian's Chromium (headless, through Playwright).

On the sample dashboard (`dashboard.yaml`, refresh 2s) over a fresh sample store, with
the demo's live feed writing a batch of points every 2 s so that every refresh has
something to draw, it prints:
  - first board: seconds from `page.goto` until the terminal in the page holds the
    board's values (the North Star's title, the MRR chart, the alerts log), best and
    median of --starts fresh tabs, each a new session (a new `kpitui run` process),
  - the memory of one session's process (RSS and PSS, in MB) and of the server,
  - CPU of the server and its boards (% of one core, over --seconds) with 1, 2, 4 and 8
    tabs open, and from that the sessions two cores hold.

    .venv/bin/python benchmarks/bench_serve.py                 # ~2 min
    .venv/bin/python benchmarks/bench_serve.py --sessions 1,4 --seconds 10
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from kpitui.demo import LiveFeed, ensure_sample_store  # noqa: E402
from kpitui.timeutil import SystemClock  # noqa: E402
from tests.serve.browser import Tab, launched  # noqa: E402
from tests.serve.served import CHROMIUM, child_pids  # noqa: E402

BOARD_TEXTS = ("Monthly recurring revenue", "MRR by plan", "Alerts")
TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (0 once it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICK


def memory_mb(pid: int) -> tuple[float, float]:
    """(RSS, PSS) of a process in MB: PSS shares the pages boards have in common."""
    rss = pss = 0.0
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
        if line.startswith("Rss:"):
            rss = int(line.split()[1]) / 1024
        elif line.startswith("Pss:"):
            pss = int(line.split()[1]) / 1024
    return rss, pss


def start_server(folder: Path, store: Path, max_sessions: int) -> tuple[subprocess.Popen, str]:
    out = folder / "serve.out"
    argv = [sys.executable, "-m", "kpitui", "serve", str(ROOT / "dashboard.yaml")]
    with out.open("wb") as stdout:
        server = subprocess.Popen(
            [*argv, "--db", str(store), "--port", "0", "--max-sessions", str(max_sessions)],
            stdout=stdout,
            stderr=subprocess.DEVNULL,
        )
    deadline = time.monotonic() + 30
    while not out.read_text().strip():
        if server.poll() is not None or time.monotonic() > deadline:
            raise SystemExit("kpitui serve did not start")
        time.sleep(0.05)
    return server, out.read_text().splitlines()[0]


def wait_boards(server: subprocess.Popen, count: int) -> list[int]:
    deadline = time.monotonic() + 30
    while len(boards := child_pids(server.pid)) != count:
        if time.monotonic() > deadline:
            raise SystemExit(f"expected {count} boards, found {len(boards)}")
        time.sleep(0.05)
    return boards


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--starts", type=int, default=5)
    parser.add_argument("--sessions", default="1,2,4,8")
    parser.add_argument("--seconds", type=float, default=20.0)
    args = parser.parse_args()
    counts = [int(n) for n in args.sessions.split(",")]
    if not CHROMIUM.exists():
        raise SystemExit(f"{CHROMIUM} is missing (apt-get install chromium)")

    print("load average at start: {:.1f} {:.1f} {:.1f}".format(*os.getloadavg()))
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        store = folder / "sample.db"
        ensure_sample_store(store, SystemClock())
        feed = LiveFeed(store, interval=2.0)
        server, url = start_server(folder, store, max(counts))
        try:
            with launched() as browser:
                first_board(browser, server, url, args.starts)
                feed.start()
                sessions(browser, server, url, counts, args.seconds)
        finally:
            feed.stop()
            server.send_signal(2)
            server.wait(30)
    print("load average at end: {:.1f} {:.1f} {:.1f}".format(*os.getloadavg()))


def first_board(browser, server: subprocess.Popen, url: str, starts: int) -> None:
    times, loads = [], []
    for _ in range(starts):
        tab = Tab(browser, viewport={"width": 1280, "height": 800})
        began = time.monotonic()
        tab.open(url)  # returns at the page's load event: html, script, css and font
        loads.append(time.monotonic() - began)
        tab.wait_for(*BOARD_TEXTS)
        times.append(time.monotonic() - began)
        tab.close()
        wait_boards(server, 0)
    print(
        f"first board in Chromium, 1280x800: {min(times):.2f} s best, "
        f"{statistics.median(times):.2f} s median of {starts} "
        f"(the page itself loaded in {statistics.median(loads):.2f} s median; the rest is "
        "the board's process starting and drawing)"
    )


def sessions(browser, server: subprocess.Popen, url: str, counts: list[int], seconds: float):
    tabs: list[Tab] = []
    print(f"CPU over {seconds:.0f} s, live feed and refresh every 2 s:")
    per_session = []
    for count in counts:
        while len(tabs) < count:
            tab = Tab(browser, viewport={"width": 1280, "height": 800})
            tab.open(url)
            tab.wait_for(*BOARD_TEXTS)
            tabs.append(tab)
        boards = wait_boards(server, count)
        time.sleep(3)  # past the first screens
        pids = [server.pid, *boards]
        before = sum(cpu_seconds(pid) for pid in pids)
        began = time.monotonic()
        time.sleep(seconds)
        used = sum(cpu_seconds(pid) for pid in pids) - before
        share = 100 * used / (time.monotonic() - began)
        per_session.append(share / count)
        if count == counts[0]:
            rss, pss = memory_mb(boards[0])
            server_rss, _ = memory_mb(server.pid)
            print(f"  one session's process: RSS {rss:.0f} MB, PSS {pss:.0f} MB")
            print(f"  the server: RSS {server_rss:.0f} MB")
        total_rss = sum(memory_mb(pid)[0] for pid in pids)
        print(
            f"  {count} sessions: {share:.1f} % of a core in all "
            f"({share / count:.1f} % each), RSS of server and boards {total_rss:.0f} MB"
        )
    for tab in tabs:
        tab.close()
    worst = max(per_session)
    print(
        f"two cores hold about {int(200 / worst)} sessions by CPU "
        f"(at the highest per-session share measured, {worst:.1f} %)"
    )


if __name__ == "__main__":
    main()
