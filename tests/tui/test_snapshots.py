"""SVG snapshots of the real dashboard (pytest-textual-snapshot).

Create or refresh them with `pytest tests/tui/test_snapshots.py --snapshot-update`, then
LOOK at the SVGs under tests/tui/__snapshots__/ before committing them.
"""

from __future__ import annotations

from pathlib import Path

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
