"""A host app for the drill-down screens, and a small world for them to show.

`DetailHost` stands in for `KpituiApp` with exactly what the detail screens use:
`.loaded.dashboard`, `.board`, `.tz`, `.as_of()`, `.open_reader()`, `.open_kpi_detail()`
and `.open_kr_detail()`. The world is a spec and a temporary SQLite store written through
the normal writer, everything fixed at `AS_OF` in UTC.
"""

from __future__ import annotations

import sys
import threading
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from textual.app import App, ComposeResult
from textual.widgets import Static

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))

from kpitui import timeutil
from kpitui.engine import evaluate
from kpitui.spec.models import convert
from kpitui.timeutil import parse_time

AS_OF = parse_time("2026-11-24T12:00:00Z")
HOUR = 3600
DAY = 86400
Q4_START = parse_time("2026-10-01")

SPEC: dict[str, Any] = {
    "title": "Detail world",
    "timezone": "UTC",
    "period": {"quarter": "2026-Q4"},
    "metrics": {
        "conversion": {
            "formula": "signups / visits",
            "format": "percent",
            "description": "Signups per visit, a ratio of sums.",
        }
    },
    "kpis": [
        {
            "id": "signups",
            "title": "Signups",
            "metric": "signups",
            "agg": "sum",
            "window": "7d",
            "target": 1600,
            "warn": 1400,
            "crit": 1000,
            "description": "New accounts, all plans, over the last 7 days.",
        },
        {
            "id": "mrr",
            "title": "MRR",
            "metric": "mrr",
            "format": "currency",
            "currency": "USD",
            "target": 20000,
        },
        {
            "id": "conversion",
            "title": "Conversion",
            "metric": "conversion",
            "agg": "sum",
            "window": "7d",
        },
        {"id": "empty", "title": "Nothing yet", "metric": "nothing", "target": 10},
        {"id": "single", "title": "One point", "metric": "single"},
        {"id": "future", "title": "Future only", "metric": "future", "agg": "sum", "window": "7d"},
        {
            "id": "p90",
            "title": "Busiest plan-day",
            "metric": "signups",
            "agg": "p90",
            "window": "7d",
        },
    ],
    "okrs": [
        {
            "id": "grow",
            "title": "Grow the business",
            "owner": "ana",
            "key_results": [
                {
                    "id": "signups-kr",
                    "title": "10,000 signups this quarter",
                    "metric": "signups",
                    "agg": "sum",
                    "start": 0,
                    "target": 10000,
                    "owner": "ana",
                },
                {
                    "id": "mrr-kr",
                    "title": "MRR to $20k",
                    "metric": "mrr",
                    "start": 8000,
                    "target": 20000,
                },
            ],
            "children": [
                {
                    "id": "delight",
                    "title": "Delight users",
                    "owner": "bo",
                    "key_results": [
                        {
                            "id": "nps-score",
                            "title": "NPS to 50",
                            "start": 10,
                            "target": 50,
                            "owner": "bo",
                        },
                        {
                            "id": "empty-kr",
                            "title": "Nothing measured yet",
                            "metric": "nothing",
                            "start": 0,
                            "target": 5,
                        },
                    ],
                },
            ],
        },
    ],
}


def signup_points() -> list[tuple[str, dict[str, str], int, float]]:
    """One point a day at 14:00 UTC for 60 days, per plan: on day d (d = 1 is yesterday)
    free is 100 + d, pro is 10 * d and team, the one growing, 50 - d / 2.
    Visits are 1,000 a day."""
    points: list[tuple[str, dict[str, str], int, float]] = []
    for d in range(1, 61):
        ts = AS_OF - d * DAY + 2 * HOUR
        points.append(("signups", {"plan": "free"}, ts, 100.0 + d))
        points.append(("signups", {"plan": "pro"}, ts, 10.0 * d))
        points.append(("signups", {"plan": "team"}, ts, 50.0 - d / 2))
        points.append(("visits", {}, ts, 1000.0))
    return points


def world_points() -> list[tuple[str, dict[str, str], int, float]]:
    points = signup_points()
    for d in range(0, 90):
        points.append(("mrr", {}, AS_OF - d * DAY - HOUR, 16000.0 - d * 50))
    points.append(("single", {}, AS_OF - 3 * DAY, 42.0))
    points.append(("future", {}, AS_OF + DAY, 7.0))
    return points


CHECKINS: list[tuple[str, int, float, str | None, str | None]] = [
    ("nps-score", parse_time("2026-10-15T09:00:00Z"), 20.0, "on_track", "first survey"),
    ("nps-score", parse_time("2026-11-02T09:00:00Z"), 26.0, "at_risk", "[bold]slipping[/]"),
    ("nps-score", parse_time("2026-12-01T09:00:00Z"), 40.0, "on_track", "after as-of"),
]


def make_store(path: Path, points=None, checkins=None) -> Path:
    from kpitui.store import open_writer

    with open_writer(path) as writer:
        writer.write_points(world_points() if points is None else points)
        for kr_id, ts, value, confidence, note in CHECKINS if checkins is None else checkins:
            writer.write_checkin(kr_id, ts, value, confidence=confidence, note=note)
    return path


def open_store(path: Path) -> Any:
    from kpitui.store import open_reader

    return open_reader(path)


class DetailHost(App[None]):
    """What KpituiApp offers the drill-down screens, over a store file."""

    CSS = "Screen { layout: vertical; }"

    def __init__(
        self,
        store_path: Path,
        first: tuple[str, ...],
        *,
        spec: dict | None = None,
        as_of: int = AS_OF,
    ) -> None:
        super().__init__()
        dashboard = convert(spec or SPEC)
        self.loaded = SimpleNamespace(dashboard=dashboard, path=None)
        self.store_path = store_path
        self.tz = timeutil.resolve_timezone(dashboard.timezone)
        self._as_of = as_of
        self._first = first
        self.board = self.evaluate_board() if store_path.exists() else None
        self.reader_threads: list[str] = []
        """The thread each reader was opened on (the screens must never use the UI's)."""

    def evaluate_board(self) -> Any:
        reader = open_store(self.store_path)
        try:
            return evaluate(self.loaded.dashboard, reader, self._as_of)
        finally:
            reader.close()

    def compose(self) -> ComposeResult:
        yield Static("the board", id="board")

    def on_mount(self) -> None:
        if self._first[0] == "kpi":
            self.open_kpi_detail(self._first[1])
        elif self._first:
            self.open_kr_detail(self._first[0], self._first[1])

    def as_of(self) -> int:
        return self._as_of

    def open_reader(self) -> Any:
        self.reader_threads.append(threading.current_thread().name)
        return open_store(self.store_path)

    def open_kpi_detail(self, kpi_id: str) -> None:
        from kpitui.tui.screens.kpi_detail import KpiDetailScreen

        self.push_screen(KpiDetailScreen(kpi_id))

    def open_kr_detail(self, kind: str, node_id: str) -> None:
        from kpitui.tui.screens.kr_detail import KrDetailScreen

        self.push_screen(KrDetailScreen(kind, node_id))  # type: ignore[arg-type]


async def until(pilot, condition, what: str, timeout: float = 20.0) -> None:  # type: ignore[no-untyped-def]
    """Pause until `condition()` holds, failing with `what` after `timeout` seconds.

    A scroll into view runs after the refresh that laid the widget out (Textual's
    `call_after_refresh`), and a region moves only at the compositor update after that:
    on a loaded machine neither is done by the time one pause returns, so a test waits
    for the state itself.
    """
    import time

    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"never reached: {what}")
        await pilot.pause()
        await pilot.wait_for_scheduled_animations()


async def settle(pilot) -> None:  # type: ignore[no-untyped-def]
    """Wait until every detail worker finished and its result was applied."""
    app = pilot.app
    for _ in range(50):
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()
        if not app.workers and getattr(app.screen, "loads", 1):
            break
    await pilot.pause()
