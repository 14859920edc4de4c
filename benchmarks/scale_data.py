"""The data of the scale benchmark: CSV files of points over 1,000 series, imported
through `kpitui import` as a team's ETL would, the rate of each file timed.

The store holds 50 metrics, each in 20 series (labels `shard: a` … `e` times `region: eu`,
`us`, `apac`, `latam`), over 400 days, newest point at `end`: `m0` … `m46` are gauges (values in 10..110), `nps` answers of 0–10,
`csat` answers of 1–5 and `latency` milliseconds (a long tail), so survey scores and
percentiles have dense responses to read. A store of N points holds N / 1000 per series,
evenly spaced; a big one arrives in files of at most `CHUNK` points, each the next span of
time for every series (rows sorted by time, series interleaved: the slower order to
import), so the rate of the last file is the rate into a store that already holds nearly
everything.

Everything is named by a store *name* (a path here; `kpitui import --db` takes any name a
store can have), so another backend only needs another name.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from msgspec import Struct

GAUGES = [f"m{i}" for i in range(47)]
SURVEYS = ["nps", "csat", "latency"]
METRICS = [*GAUGES, *SURVEYS]
SHARDS = ["a", "b", "c", "d", "e"]
REGIONS = ["eu", "us", "apac", "latam"]
LABELS = [(shard, region) for shard in SHARDS for region in REGIONS]
SERIES = len(METRICS) * len(LABELS)  # 1,000
DAYS = 400
CHUNK = 10_000_000
"""Points per imported file."""

_REPO = Path(__file__).resolve().parent.parent


def _value_table(metric: str) -> list[str]:
    """1,009 value texts (a prime: series offsets do not line up) the rows cycle through."""
    n = 1009
    if metric == "nps":  # promoters ~45 %, detractors ~20 %: an NPS near +25
        return [str(10 if i % 20 < 9 else 8 if i % 20 < 16 else i % 7) for i in range(n)]
    if metric == "csat":
        return [str(5 if i % 10 < 5 else 4 if i % 10 < 8 else 1 + i % 3) for i in range(n)]
    if metric == "latency":  # 20 ms .. ~2 s, most under 200
        return [f"{20 + (i * 7919 % n) ** 2 / 500:.1f}" for i in range(n)]
    return [f"{10 + (i * 7919 % n) / 10.09:.2f}" for i in range(n)]


class Layout(Struct, frozen=True):
    """Where the points of a store of `points` points ending at `end` fall."""

    points: int
    end: int

    @property
    def per_series(self) -> int:
        return self.points // SERIES

    @property
    def step(self) -> int:
        return DAYS * 86400 // self.per_series

    @property
    def start(self) -> int:
        return self.end - self.per_series * self.step

    def chunks(self) -> Iterator[tuple[int, int]]:
        """(first, last + 1) row indices per series of each imported file."""
        rows = max(1, CHUNK // SERIES)
        for k in range(0, self.per_series, rows):
            yield k, min(k + rows, self.per_series)


def write_chunk(path: Path, layout: Layout, first: int, stop: int) -> int:
    """Rows `first` … `stop - 1` of every series, sorted by time; returns the points."""
    series = [
        (f"{metric},", f",{shard},{region}\n", _value_table(metric), j)
        for j, (metric, (shard, region)) in enumerate((m, x) for m in METRICS for x in LABELS)
    ]
    start, step = layout.start, layout.step
    with path.open("w") as out:
        out.write("metric,time,value,shard,region\n")
        for k in range(first + 1, stop + 1):
            ts = start + k * step
            # Series are a second apart within a step, so every row has its own time.
            out.write(
                "".join(
                    f"{head}{ts - j % step},{table[(k + j * 31) % 1009]}{tail}"
                    for head, tail, table, j in series
                )
            )
    return (stop - first) * SERIES


class ImportRun(Struct, frozen=True):
    points: int
    """Points in the file."""
    before: int
    """Points in the store before it."""
    seconds: float
    """Wall time of `kpitui import`, process start to exit."""
    max_rss_mb: float

    @property
    def rate(self) -> float:
        return self.points / self.seconds


def import_file(csv_path: Path, store: str) -> tuple[float, float]:
    """(wall seconds, peak RSS in MB) of `kpitui import FILE --db STORE` in a new process."""
    started = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "kpitui", "import", str(csv_path), "--db", store],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        cwd=_REPO,
    )
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    stderr = proc.stderr.read().decode() if proc.stderr else ""
    if proc.returncode not in (0, None):
        raise SystemExit(f"import failed: {stderr.strip()}")
    return seconds, usage.ru_maxrss / 1024


def build_store(store: str, layout: Layout, tmp: Path, *, say=print) -> list[ImportRun]:
    """Import `layout` into `store` file by file; the CSV files are deleted as they go."""
    runs: list[ImportRun] = []
    done = 0
    for first, stop in layout.chunks():
        csv_path = tmp / f"chunk-{first}.csv"
        points = write_chunk(csv_path, layout, first, stop)
        seconds, rss = import_file(csv_path, store)
        csv_path.unlink()
        runs.append(ImportRun(points, done, seconds, rss))
        done += points
        if len(runs) > 1 or points < layout.points:
            say(
                f"    file {len(runs)}: {points:,} points into {runs[-1].before:,}:"
                f" {seconds:.1f} s, {runs[-1].rate:,.0f} points/s",
                flush=True,
            )
    return runs
