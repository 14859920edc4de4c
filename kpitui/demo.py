"""`kpitui demo`: the sample store and a simulated live feed writing into it.

The feed is a plain thread that writes a few points every couple of seconds through the
normal writer (`kpitui.store.open_writer`), exactly as a cron job or ETL script would:
the dashboard sees them through its usual poll, nothing is special-cased. The sample
data itself (what is written) lives in `kpitui/sample_data/generate.py`.
"""

from __future__ import annotations

import os
import random
import threading
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

from kpitui.errors import KpituiError
from kpitui.store import StoreName, open_reader
from kpitui.timeutil import Clock, SystemClock

FEED_INTERVAL = 2.0
"""Seconds between two batches of the live feed."""
FEED_SEED = 11


DEMO_SPEC = Path(__file__).resolve().parent / "sample_data" / "dashboard.yaml"
"""The sample board, installed with the package: what `kpitui demo` opens in a folder
without a `dashboard.yaml` of its own."""

DEMO_STORE = "kpitui-demo.db"
"""The sample store `kpitui demo` builds beside the user when it opens `DEMO_SPEC`: a
name of its own, so the demo never writes its sample points into a real `metrics.db`."""


def sample_data_module() -> ModuleType:
    """`kpitui.sample_data.generate`, imported on first use (the demo's data and feed)."""
    from kpitui.sample_data import generate

    return generate


def ensure_sample_store(store: Path | StoreName, clock: Clock) -> bool:
    """Build the sample store ending now, unless it exists (a file) or holds series (a
    database). True when built."""
    name = StoreName.parse(store)
    if name.path is None:
        return _ensure_sample_database(name, clock)
    path = name.path
    if path.exists():
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    # Built beside and renamed into place: an interrupted build (Ctrl-C) must not leave
    # a store that exists, so that every later demo would open it empty.
    building = path.with_name(path.name + ".building")
    leftovers = [building, building.with_name(building.name + "-wal")]
    leftovers.append(building.with_name(building.name + "-shm"))
    for leftover in leftovers:
        leftover.unlink(missing_ok=True)
    try:
        sample_data_module().generate(building, end=clock.now())
        os.replace(building, path)
    finally:
        for leftover in leftovers:
            leftover.unlink(missing_ok=True)
    return True


def _ensure_sample_database(name: StoreName, clock: Clock) -> bool:
    from kpitui.store import open_writer

    open_writer(name).close()  # creates the schema, for the reader to see
    reader = open_reader(name)
    try:
        if reader.metric_names():
            return False
    finally:
        reader.close()
    sample_data_module().generate(name, end=clock.now())
    return True


class LiveFeed:
    """Writes `feed_step` points into the store every `interval` seconds until stopped.

    Errors (a locked store, a deleted file) never stop the feed nor crash the app: they
    are reported through `on_error` (once per distinct message, None when it recovers)
    and the next step tries again.
    """

    def __init__(
        self,
        store_path: Path | StoreName,
        *,
        clock: Clock | None = None,
        interval: float = FEED_INTERVAL,
        seed: int = FEED_SEED,
        step: Callable[[Any, int, random.Random], object] | None = None,
    ) -> None:
        self.store_path = store_path
        self.clock = clock or SystemClock()
        self.interval = interval
        self.rng = random.Random(seed)
        self._step = step
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._on_error: Callable[[str | None], None] = lambda message: None
        self._last_error: str | None = None
        self.steps = 0
        """Batches written so far."""

    def start(self, on_error: Callable[[str | None], None] | None = None) -> None:
        if on_error is not None:
            self._on_error = on_error
        if self._thread is not None:
            return
        self._thread = threading.Thread(target=self._run, name="kpitui-demo-feed", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        thread, self._thread = self._thread, None
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)

    def step_once(self) -> None:
        """Write one batch now (what the thread does every interval)."""
        from kpitui.store import open_writer

        if self._step is None:
            # Loaded here, on the feed's thread: `start` runs on the app's UI thread.
            self._step = sample_data_module().feed_step
        with open_writer(self.store_path) as writer:
            self._step(writer, self.clock.now(), self.rng)
        self.steps += 1

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.step_once()
            except (KpituiError, OSError) as exc:
                self._report(f"demo feed: {exc}")
            except Exception as exc:  # a bug in the feed must not take the dashboard down
                self._report(f"demo feed failed: {exc.__class__.__name__}: {exc}")
            else:
                self._report(None)

    def _report(self, message: str | None) -> None:
        if message == self._last_error:
            return
        self._last_error = message
        self._on_error(message)
