"""Moving focus: Tab in layout order, arrows and h/j/k/l by geometry (SPEC §4)."""

from __future__ import annotations

from pathlib import Path

from textual.geometry import Region

from kpitui.tui.navigation import nearest
from kpitui.tui.widgets import KpiCard
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


async def test_arrows_leave_the_okr_tree_past_its_first_and_last_node(tmp_path: Path):
    from kpitui.tui.widgets.okr_tree import OkrTree
    from tests.tui.snapshot_apps.sample_world import make_sample_app

    # Given the sample board's second page at 160×48: cards, the OKR tree, then a chart
    app = make_sample_app(tmp_path)
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        await pilot.press("2")
        await settle(pilot)
        tree = app.query_one("#p1-okrs-okrs", OkrTree)
        app.screen.set_focus(tree)
        await pilot.pause()
        assert tree.cursor_line == 0
        # When ↑ is pressed on the first node / Then the card above its middle has focus
        await pilot.press("up")
        assert app.focused.id == "p1-kpi-arpu"
        # And ↓ comes back into the tree, on the node it left
        await pilot.press("down")
        assert app.focused is tree and tree.cursor_line == 0
        # When ↓ runs to the last node, then once more / Then the chart below has focus
        for _ in range(tree.last_line):
            await pilot.press("down")
        assert app.focused is tree and tree.cursor_line == tree.last_line
        await pilot.press("down")
        assert app.focused.id == "p1-chart-latency"
        # And k / j do the same as ↑ / ↓
        await pilot.press("k")
        assert app.focused is tree and tree.cursor_line == tree.last_line
        await pilot.press("j")
        assert app.focused.id == "p1-chart-latency"
        # And ← / → / space still fold the node under the cursor
        await pilot.press("k", "up")
        node = tree.cursor_node
        assert app.focused is tree and node.parent.is_root is False
        await pilot.press("left")
        assert tree.cursor_node is node.parent
        await pilot.press("left")
        assert not node.parent.is_expanded
        await pilot.press("space")
        assert node.parent.is_expanded


async def test_with_no_panel_below_the_okr_trees_last_node_keeps_focus(tmp_path: Path):
    # Given the OKR page of the test board: the tree alone
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("2")
        await pilot.pause()
        tree = app.focused
        # When ↑ on the first node, ↓ past the last / Then focus and cursor stay put
        await pilot.press("up", "k")
        assert app.focused is tree and tree.cursor_line == 0
        for _ in range(tree.last_line + 2):
            await pilot.press("down")
        assert app.focused is tree and tree.cursor_line == tree.last_line


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


# -- the sample board, where a tall card sits beside short ones (QA) ----------------------


def test_a_panel_overlapping_the_origin_along_the_move_is_not_beyond_it():
    # Given the sample board at 160 columns: a tall North Star beside two cards, a row
    # of four under them
    mrr = Region(0, 1, 52, 12)
    signups, conversion = Region(53, 1, 53, 7), Region(107, 1, 53, 7)
    stickiness, churn = Region(0, 13, 39, 7), Region(40, 13, 39, 7)
    boxes = [
        ("mrr", mrr),
        ("signups", signups),
        ("conversion", conversion),
        ("stickiness", stickiness),
        ("churn", churn),
    ]

    def move(origin: Region, direction: str):
        return nearest(origin, [(n, b) for n, b in boxes if b != origin], direction)

    # Then right from MRR is the card beside it, not churn on the next row
    assert move(mrr, "right") == "signups"
    # And nothing is left of MRR, or above the top row
    assert move(mrr, "left") is None
    assert move(signups, "up") is None
    # And a card grown by its description (signups 9 tall) still has nothing above it
    assert move(Region(53, 1, 53, 9), "up") is None
    # And down from MRR is the card below its left part
    assert move(mrr, "down") == "stickiness"


async def test_moves_on_the_sample_board_at_160x48(tmp_path: Path):
    from tests.tui.snapshot_apps.sample_world import make_sample_app

    app = make_sample_app(tmp_path)
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        assert app.focused.id == "p0-kpi-mrr"
        # Given the seven cards flowing four then three (the layout's rows of 3 and 4)
        # When h is pressed on the leftmost card: focus stays
        await pilot.press("h")
        assert app.focused.id == "p0-kpi-mrr"
        # When l / → are pressed: along the top row, into the second layout row
        await pilot.press("l")
        assert app.focused.id == "p0-kpi-signups"
        await pilot.press("right", "right")
        assert app.focused.id == "p0-kpi-stickiness"
        # When k is pressed on the top row: focus stays
        await pilot.press("k")
        assert app.focused.id == "p0-kpi-stickiness"
        await pilot.press("left", "up")
        assert app.focused.id == "p0-kpi-conversion"
        # When j is pressed under the tall North Star: the card below it, then back up
        await pilot.press("h", "h", "j")
        assert app.focused.id == "p0-kpi-churn"
        await pilot.press("k")
        assert app.focused.id == "p0-kpi-mrr"
        # And up from NPS is signups, which it sits under
        await pilot.press("j", "l")
        assert app.focused.id == "p0-kpi-nps"
        await pilot.press("k")
        assert app.focused.id == "p0-kpi-signups"
        # And down from the card over the last row's hole is the panel under the hole
        await pilot.press("l", "l", "j")
        assert app.focused.id == "p0-alerts-alerts"


async def test_palette_go_to_on_another_page_scrolls_the_card_into_view(tmp_path: Path):
    from tests.tui.snapshot_apps.sample_world import make_sample_app

    app = make_sample_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        # Given page 1 scrolled to its bottom (Shift+Tab wraps to the alerts log), then page 2
        await pilot.press("shift+tab", "2")
        await settle(pilot)
        # When the palette's "Go to Monthly churn" runs
        await pilot.press("ctrl+p", *"churn")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        # Then the churn card has focus and is wholly on screen, under the header
        assert app.focused.id == "p0-kpi-churn"
        region = app.focused.region
        assert region.y >= 1 and region.bottom <= app.size.height - 1, region


async def test_going_back_to_a_page_restores_its_focused_panel(tmp_path: Path):
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        # Given focus moved to the activation card on page 1
        await pilot.press("tab", "tab", "tab")
        assert app.focused.id == "p0-kpi-activation"
        # When page 2 is shown for the first time: its first panel
        await pilot.press("2")
        await pilot.pause()
        assert app.focused.id == "p1-okrs-okrs"
        # When page 1 is shown again: the activation card, in view
        await pilot.press("1")
        await pilot.pause()
        assert app.focused.id == "p0-kpi-activation"
        region = app.focused.region
        assert region.y >= 1 and region.bottom <= app.size.height - 1, region
        # And pressing the number of the page already shown keeps the focus where it is
        await pilot.press("1")
        await pilot.pause()
        assert app.focused.id == "p0-kpi-activation"


async def test_the_okr_page_comes_back_to_its_tree_with_the_same_cursor(tmp_path: Path):
    from tests.tui.snapshot_apps.sample_world import make_sample_app

    app = make_sample_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        # Given the OKR tree focused on page 2 with its cursor on the second node
        await pilot.press("2")
        await pilot.pause()
        app.go_to("okrs", "okrs")
        await settle(pilot)
        tree = app.focused
        assert tree.id == "p1-okrs-okrs"
        await pilot.press("down")
        node = tree.cursor_node
        # When page 1 then page 2 are shown
        await pilot.press("1")
        await pilot.pause()
        assert app.focused.id == "p0-kpi-mrr"
        await pilot.press("2")
        await pilot.pause()
        # Then the tree has focus again, its cursor where it was
        assert app.focused is tree
        assert tree.cursor_node is node


async def test_the_north_star_card_comes_first_and_is_the_largest(tmp_path: Path):
    from tests.tui.snapshot_apps.sample_world import make_sample_app

    # Given the sample board, whose North Star (MRR) is listed first in its layout
    app = make_sample_app(tmp_path)
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        cards = sorted(
            (w for w in app.query(KpiCard) if w.region.area),
            key=lambda w: (w.region.y, w.region.x),
        )
        # Then it is the first card on the page, focused, and larger than every other
        north_star = cards[0]
        assert north_star.view.north_star and app.focused is north_star
        assert all(north_star.region.area > c.region.area for c in cards[1:])
