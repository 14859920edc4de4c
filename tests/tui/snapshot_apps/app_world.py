"""A small real world for app tests: a spec file and a SQLite store made in a temp dir.

Everything is fixed to `AS_OF` in UTC, so screens and values are reproducible.
`make_app` gives a `KpituiApp` on it with a `FixedClock` and a refresh of one hour, so
only the polls a test asks for (`app.poll_now()`, `r`) ever run.
"""

from __future__ import annotations

import os
from pathlib import Path

from kpitui.spec import load_dashboard
from kpitui.store import open_writer
from kpitui.timeutil import FixedClock, parse_time
from kpitui.tui.app import KpituiApp

AS_OF = parse_time("2026-11-24T12:00:00Z")
DAY = 86400

SPEC = """\
title: Test board
store: metrics.db
refresh: 1h
timezone: UTC
period: {quarter: 2026-Q4}
kpis:
  - metric: mrr
    title: MRR
    format: currency
    currency: USD
    target: 100000
    warn: 90000
    crit: 80000
    indicator: lagging
    description: Monthly recurring revenue, all plans.
  - metric: signups
    title: Signups
    agg: sum
    window: 7d
    target: 700
    indicator: leading
    spark: {window: 30d, bucket: 1d}
  - metric: churn
    title: Churn
    direction: down
    format: percent
    warn: 0.03
    crit: 0.05
  - metric: activation
    title: Activation
    format: percent
    target: 0.4
charts:
  - id: revenue
    title: Revenue
    metrics: [mrr]
okrs:
  - id: grow
    title: Grow revenue
    owner: ana
    key_results:
      - title: Reach 100k MRR
        metric: mrr
        start: 50000
        target: 100000
      - title: Ship billing v2
        done: false
  - id: delight
    title: Delight users
    owner: bo
    key_results:
      - title: Keep churn low
        metric: churn
        kind: maintain_below
        target: 0.03
layout:
  pages:
    - title: Overview
      rows:
        - [mrr, signups, churn, activation]
        - [revenue]
        - [alerts]
    - title: OKRs
      rows:
        - [okrs]
"""


def history(as_of: int = AS_OF, days: int = 60) -> list[tuple[str, dict, int, float]]:
    """Daily points up to `as_of`: MRR 95,000 today falling 300 a day into the past,
    signups 100–106 a day (721 over the last 7 days), churn 2.0%, activation 38%."""
    points: list[tuple[str, dict, int, float]] = []
    for d in range(days):
        ts = as_of - d * DAY
        points.append(("mrr", {}, ts, 95000.0 - d * 300))
        points.append(("signups", {}, ts, 100.0 + d % 7))
        points.append(("churn", {}, ts, 0.02))
        points.append(("activation", {}, ts, 0.38))
    return points


def write_points(store: Path, points: list[tuple[str, dict, int, float]]) -> None:
    """Write through the normal writer, as another program would."""
    with open_writer(store) as writer:
        writer.write_points(points)


def make_world(tmp_path: Path, spec_text: str = SPEC) -> tuple[Path, Path]:
    """(spec path, store path) of a fresh world in `tmp_path`."""
    spec = tmp_path / "dashboard.yaml"
    spec.write_text(spec_text, encoding="utf-8")
    store = tmp_path / "metrics.db"
    write_points(store, history())
    return spec, store


def edit_spec(spec: Path, text: str) -> None:
    """Rewrite the spec and move its mtime on, so the poll sees the edit even when the
    file system's clock is coarse."""
    before = spec.stat().st_mtime_ns
    spec.write_text(text, encoding="utf-8")
    after = max(spec.stat().st_mtime_ns, before + 1_000_000_000)
    os.utime(spec, ns=(after, after))


def make_app(tmp_path: Path, spec_text: str = SPEC, **kwargs: object) -> KpituiApp:
    spec, store = make_world(tmp_path, spec_text)
    loaded = load_dashboard(spec)
    return KpituiApp(loaded, store_path=store, clock=FixedClock(AS_OF), **kwargs)


async def settle(pilot) -> None:  # type: ignore[no-untyped-def]
    """Wait until no poll is running and every resulting message was handled."""
    app = pilot.app
    for _ in range(50):
        await app.workers.wait_for_complete()
        await pilot.pause()
        if not app._polling and not app.workers:
            break
    await pilot.pause()


async def still(pilot, toasts: bool = False) -> None:  # type: ignore[no-untyped-def]
    """Settle, then hold the picture still for a snapshot: a card's flash blinks on a
    timer (stopped; the card stays marked until acknowledged), and a toast (an alert "at
    start") covers the board for a few seconds (cleared unless `toasts`)."""
    await settle(pilot)
    for card in pilot.app.query("KpiCard"):
        card._stop_timer()
        card.remove_class("-flash")
    if not toasts:
        pilot.app.clear_notifications()
    await pilot.pause()


def screen_text(app: KpituiApp) -> str:
    """What the terminal shows, as plain text (screens underneath a modal included)."""
    import io

    from rich.console import Console

    width, height = app.size
    console = Console(
        width=width,
        height=height,
        file=io.StringIO(),
        record=True,
        color_system=None,
        legacy_windows=False,
    )
    console.print(
        app.screen._compositor.render_update(full=True, screen_stack=app._background_screens)
    )
    return console.export_text()
