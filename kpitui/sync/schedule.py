"""`kpitui sync` left running: each pull runs when it is due (every `every:` after its
last run), one at a time, and the process sleeps until the next one is due. The clock
and the wait are injected, so a test runs a day of schedule in no time.

A store locked past the busy timeout (another writer's long import) is passing trouble:
the pull is said to have missed its run and is tried again a minute later, where a
one-off `--once` would fail. A store that is gone still ends the process (exit 1), for
its supervisor to restart."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence

from kpitui.errors import StoreLockedError
from kpitui.spec.models import Pull
from kpitui.sync.runner import PullResult, Runner
from kpitui.timeutil import Clock

MIN_WAIT = 1.0
LOCKED_RETRY = 60


def run_forever(
    runner: Runner,
    pulls: Sequence[tuple[int, Pull]],
    clock: Clock,
    report: Callable[[PullResult], None],
    stop: threading.Event,
    locked: Callable[[Pull, StoreLockedError], None],
    *,
    wait: Callable[[float], object] | None = None,
) -> None:
    """Run `pulls` on their schedules until `stop` is set (the first round right away)."""
    sleep = wait if wait is not None else stop.wait
    due = {pull.id: 0 for _, pull in pulls}
    while not stop.is_set():
        for index, pull in pulls:
            now = clock.now()
            if due[pull.id] <= now and not stop.is_set():
                try:
                    result = runner.run(pull, index, now)
                except StoreLockedError as exc:
                    locked(pull, exc)
                    due[pull.id] = now + min(pull.every.seconds, LOCKED_RETRY)
                    continue
                report(result)
                due[pull.id] = now + pull.every.seconds
        sleep(max(MIN_WAIT, min(due.values()) - clock.now()))
