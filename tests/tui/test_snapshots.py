"""SVG snapshots of the real dashboard (pytest-textual-snapshot).

Create or refresh them with `pytest tests/tui/test_snapshots.py --snapshot-update`, then
LOOK at the SVGs under tests/tui/__snapshots__/ before committing them.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.tui.snapshot_apps.app_world import AS_OF, make_app, still, write_points


def test_dashboard_at_80x24(snap_compare, tmp_path: Path):
    assert snap_compare(make_app(tmp_path), terminal_size=(80, 24), run_before=still)


def test_dashboard_at_160x48(snap_compare, tmp_path: Path):
    assert snap_compare(make_app(tmp_path), terminal_size=(160, 48), run_before=still)


def test_okr_page_at_120x30(snap_compare, tmp_path: Path):
    async def okr_page(pilot) -> None:
        await still(pilot)
        await pilot.press("2", "right")

    assert snap_compare(make_app(tmp_path), terminal_size=(120, 30), run_before=okr_page)


def test_help_screen(snap_compare, tmp_path: Path):
    async def open_help(pilot) -> None:
        await still(pilot)
        await pilot.press("question_mark")

    assert snap_compare(make_app(tmp_path), terminal_size=(100, 40), run_before=open_help)


def test_dashboard_with_no_color(snap_compare, tmp_path: Path, monkeypatch):
    # Given NO_COLOR, states still read by their glyphs and words
    monkeypatch.setenv("NO_COLOR", "1")
    assert snap_compare(make_app(tmp_path), terminal_size=(100, 30), run_before=still)


def test_an_alert_in_the_log_and_on_the_card(snap_compare, tmp_path: Path):
    app = make_app(tmp_path)

    async def crit_churn(pilot) -> None:
        await still(pilot)
        write_points(app.store_path, [("churn", {}, AS_OF, 0.06)])
        app.poll_now()
        await still(pilot, toasts=True)

    assert snap_compare(app, terminal_size=(160, 48), run_before=crit_churn)


def test_render_svg_for_the_snapshot_command(tmp_path: Path):
    from kpitui.engine import evaluate
    from kpitui.spec import load_dashboard
    from kpitui.store import open_reader
    from kpitui.tui.snapshot import render_svg
    from tests.tui.snapshot_apps.app_world import make_world

    spec, store = make_world(tmp_path)
    loaded = load_dashboard(spec)
    reader = open_reader(store)
    try:
        board = evaluate(loaded.dashboard, reader, AS_OF)
    finally:
        reader.close()
    svg = render_svg(loaded, board, store, AS_OF, 100, 30)
    # Then it is an SVG of the real screen: title, values, fixed as-of, no live marker
    assert svg.startswith("<svg")
    for words in ("Test", "board", "Churn", "2.0%", "2026-11-24", "snapshot"):
        assert words in svg, words
    assert "live" not in svg


def svg_rows(svg: str) -> list[str]:
    """The text of each row of an SVG screenshot, top first."""
    import html
    import re

    rows: dict[float, list[tuple[float, str]]] = {}
    for x, y, text in re.findall(
        r'<text class="[^"]*" x="([\d.]+)" y="([\d.]+)"[^>]*>(.*?)</text>', svg
    ):
        rows.setdefault(float(y), []).append((float(x), html.unescape(text).replace("\xa0", " ")))
    return ["".join(t for _, t in sorted(parts)) for _, parts in sorted(rows.items())]


def panel_lines(rows: list[str], title: str) -> tuple[int, int]:
    """(first, last) row of the panel whose top border carries `title`."""
    top = next(i for i, row in enumerate(rows) if f"─ {title} " in row or f" {title} ─" in row)
    column = rows[top].index(title) - 3
    bottom = next(i for i in range(top + 1, len(rows)) if rows[i][column : column + 1] == "╰")
    return top, bottom


@pytest.mark.parametrize("width", [80, 120])
def test_svg_of_the_sample_page_2_draws_the_alerts_log_as_tall_as_it_holds(
    tmp_path: Path, width: int
):
    from kpitui.engine import evaluate
    from kpitui.store import open_reader
    from kpitui.tui.snapshot import render_svg
    from tests.tui.snapshot_apps.sample_world import AS_OF as SAMPLE_AS_OF
    from tests.tui.snapshot_apps.sample_world import make_sample_world

    # Given the sample board, whose page 2 ends with a row [latency chart, alerts] and no
    # alert yet
    loaded = make_sample_world(tmp_path)
    reader = open_reader(loaded.store_path)
    try:
        board = evaluate(loaded.dashboard, reader, SAMPLE_AS_OF)
    finally:
        reader.close()
    # When its page 2 is drawn as an SVG with no height given
    svg = render_svg(loaded, board, loaded.store_path, SAMPLE_AS_OF, width, None, page=2)
    rows = svg_rows(svg)
    chart = panel_lines(rows, "Page latency p90 (ms)")
    log = panel_lines(rows, "Alerts")
    assert any("No alerts yet" in row for row in rows[log[0] : log[1]])
    if width == 80:
        # Then at 80 columns, the log under the chart is as tall as its line and a few
        # more (5 rows, its least), not a chart's height, and nothing is drawn under it
        assert log[0] == chart[1] + 1
        assert log[1] - log[0] + 1 == 5
        assert log[1] == len(rows) - 1
    else:
        # Then beside the chart it is exactly as tall, the two aligned
        assert log == chart
