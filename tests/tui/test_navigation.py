"""Moving focus: Tab in layout order, arrows and h/j/k/l by geometry (SPEC §4)."""

from __future__ import annotations

from pathlib import Path

from textual.geometry import Region

from kpitui.tui.navigation import nearest
from tests.tui.snapshot_apps.app_world import make_app, settle

# A 2×2 grid of cards (width 39, height 7, gutter 1) above a full-width chart.
A, B = Region(0, 0, 39, 7), Region(40, 0, 39, 7)
C, D = Region(0, 7, 39, 7), Region(40, 7, 39, 7)
CHART = Region(0, 14, 79, 12)
GRID = [("a", A), ("b", B), ("c", C), ("d", D), ("chart", CHART)]


def others(origin: Region):
    return [(name, box) for name, box in GRID if box != origin]


def test_right_and_left_stay_in_the_row():
    assert nearest(A, others(A), "right") == "b"
    assert nearest(B, others(B), "left") == "a"
    assert nearest(B, others(B), "right") is None


def test_down_prefers_the_panel_straight_below():
    assert nearest(A, others(A), "down") == "c"
    assert nearest(B, others(B), "down") == "d"
    assert nearest(D, others(D), "down") == "chart"


def test_up_from_a_wide_panel_takes_the_first_of_equals():
    # Both cards overlap the chart and are equally far: layout order breaks the tie.
    assert nearest(CHART, others(CHART), "up") == "c"


def test_a_tall_panel_beside_two_short_ones_is_right_not_down():
    tall = Region(40, 0, 39, 14)
    boxes = [("a", A), ("c", C), ("tall", tall)]
    assert nearest(C, boxes[:1] + boxes[2:], "right") == "tall"
    assert nearest(A, boxes[1:], "down") == "c"


def test_hidden_panels_are_never_chosen():
    assert nearest(A, [("gone", Region(40, 0, 0, 0))], "right") is None


async def test_focus_starts_on_the_first_card_and_tab_follows_layout_order(tmp_path: Path):
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        order = [
            "p0-kpi-mrr",
            "p0-kpi-signups",
            "p0-kpi-churn",
            "p0-kpi-activation",
            "p0-chart-revenue",
            "p0-alerts-alerts",
        ]
        assert app.focused.id == order[0]
        for expected in order[1:]:
            await pilot.press("tab")
            assert app.focused.id == expected
        for expected in reversed(order[:-1]):
            await pilot.press("shift+tab")
            assert app.focused.id == expected


async def test_arrows_and_hjkl_move_by_geometry_at_80_columns(tmp_path: Path):
    # Given the KPI row reflowed to 2×2 at 80 columns: mrr signups / churn activation
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        moves = [
            ("right", "signups"),
            ("down", "activation"),
            ("left", "churn"),
            ("up", "mrr"),
            ("j", "churn"),
            ("l", "activation"),
            ("k", "signups"),
            ("h", "mrr"),
            ("left", "mrr"),  # nothing there: focus stays
        ]
        for key, kpi_id in moves:
            await pilot.press(key)
            assert app.focused.id == f"p0-kpi-{kpi_id}", key
        # Down from the cards reaches the chart, then the alerts log, and back up
        await pilot.press("j", "j")
        assert app.focused.id == "p0-chart-revenue"
        await pilot.press("j")
        assert app.focused.id == "p0-alerts-alerts"
        await pilot.press("k")
        assert app.focused.id == "p0-chart-revenue"


async def test_arrows_at_160_columns_follow_the_one_row_layout(tmp_path: Path):
    app = make_app(tmp_path)
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        for key, kpi_id in [("l", "signups"), ("l", "churn"), ("l", "activation")]:
            await pilot.press(key)
            assert app.focused.id == f"p0-kpi-{kpi_id}"
        await pilot.press("j")
        assert app.focused.id == "p0-chart-revenue"


async def test_inside_the_okr_tree_the_keys_move_the_cursor_and_fold(tmp_path: Path):
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("2")
        await pilot.pause()
        tree = app.focused
        assert tree.id == "p1-okrs-okrs"
        assert tree.cursor_node.data == ("objective", "grow")
        node = tree.cursor_node
        assert node.is_expanded  # objectives start expanded
        # ↓ and j move between nodes, ↑ and k back
        await pilot.press("down")
        assert tree.cursor_node.data == ("kr", "reach-100k-mrr")
        await pilot.press("j")
        assert tree.cursor_node.data == ("kr", "ship-billing-v2")
        await pilot.press("k", "up")
        assert tree.cursor_node is node
        # ← / h collapse, → / l expand, space toggles
        await pilot.press("left")
        assert not node.is_expanded
        await pilot.press("l")
        assert node.is_expanded
        await pilot.press("h")
        assert not node.is_expanded
        await pilot.press("right")
        assert node.is_expanded
        await pilot.press("j")
        assert tree.cursor_node.data[0] == "kr"
        await pilot.press("left")  # from a key result: back to its objective
        assert tree.cursor_node is node
        await pilot.press("space")
        assert not node.is_expanded
        # With it collapsed, ↓ reaches the next objective
        await pilot.press("down")
        assert tree.cursor_node.data == ("objective", "delight")
        # And focus stayed in the tree the whole time
        assert app.focused is tree


async def test_keys_typed_ahead_each_move_on_from_the_last(tmp_path: Path):
    # Given keys arriving faster than the screen refreshes (jjj in a real terminal)
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        # When two moves run back to back, with no refresh between them
        app.action_move("down")
        app.action_move("down")
        await pilot.pause()
        # Then focus went two panels down: mrr → churn → chart
        assert app.focused.id == "p0-chart-revenue"
