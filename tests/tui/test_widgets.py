"""The OKR tree and the alerts log, each in a small host app, fed hand-built views."""

from __future__ import annotations

import re

import msgspec
import pytest
from rich.cells import cell_len

from kpitui.engine.board import STATE_GLYPHS, KrView, ObjectiveView
from kpitui.report import progress_bar as report_bar
from kpitui.tui.screens.detail_base import progress_text
from kpitui.tui.widgets import Alert, AlertsLog, OkrTree
from kpitui.tui.widgets.okr_labels import percent_text, progress_bar
from tests.tui.board_fixtures import (
    AS_OF,
    ESC_KPI,
    ESC_SHOWN,
    ESC_TITLE,
    EXPECTED,
    KR_ACTIVATION,
    KR_LOGOS,
    KR_MRR,
    MARKUP_LABEL,
    MARKUP_TITLE,
    OBJ_DELIGHT,
    OBJ_REVENUE,
    OBJECTIVES,
    STATE_KPIS,
    kr,
)
from tests.tui.widget_host import (
    SNAPSHOT_APPS,
    Host,
    count_refreshes,
    screen_has_raw_escape,
    screen_text,
)

# -- OKR tree ----------------------------------------------------------------------------


def node(progress: float | None, raw: float | None = None) -> KrView:
    """A key result at `progress` (clamped) and `raw` (as is, default: the same)."""
    return kr("k", "K", progress=progress, progress_raw=progress if raw is None else raw)


def test_progress_bar_and_percent():
    # Given 62% done while 60% of the period elapsed
    assert progress_bar(node(0.62), 0.6) == "██████░░░░"
    # Given 20% done while 60% elapsed: the expected cell is marked
    assert progress_bar(node(0.2), 0.6) == "██░░░│░░░░"
    # Then over-achievement shows its raw percent; nothing measured shows a dash
    assert percent_text(node(1.0, 1.25)) == "125%"
    assert percent_text(node(0.4125)) == " 41%"
    assert percent_text(node(None, None)) == "   —"


@pytest.mark.parametrize(("progress", "cells"), [(0.25, 3), (0.45, 5), (0.65, 7), (0.85, 9)])
def test_a_bar_half_way_rounds_up_alike_in_the_tree_the_details_and_the_report(progress, cells):
    # Given a key result exactly half way into a bar cell
    view = node(progress)
    # Then the tree, the detail tables and the text report fill the same cells, half up
    # as its percent rounds (the details had rounded half to even: 0.25 → 2 cells)
    assert progress_bar(view, None).count("█") == cells
    assert progress_text(view).plain.count("█") == cells
    assert report_bar(view).count("#") == cells
    assert view.bar_cells == cells


def tree_lines(tree: OkrTree) -> list[str]:
    return [line.node.label.plain for line in tree._tree_lines]


async def test_tree_labels_show_progress_status_owner_and_marks():
    # Given the fixture objectives
    tree = OkrTree(OBJECTIVES, expected=EXPECTED)
    app = Host(tree)
    async with app.run_test(size=(140, 20)) as pilot:
        await pilot.pause()
        text = screen_text(app)
        lines = tree_lines(tree)
        raw_escape = screen_has_raw_escape(app)
    # Then over-achievement shows 125%, a check-in due is marked, markup is literal
    logos = next(line for line in lines if "Sign 4 enterprise logos" in line)
    assert "██████████ 125% ★ achieved" in logos
    assert "conf: on track" in logos
    berlin = next(line for line in lines if "Open the Berlin office" in line)
    # (the due mark right after the status, before the owner: it is never the part cut)
    assert re.search(rf"off track +⏰ due  @{re.escape(MARKUP_LABEL)}", berlin), berlin
    empty = next(line for line in lines if MARKUP_TITLE in line)
    assert "   —" in empty and "○ not started" in empty
    assert "⚠ no such metric" in text
    assert not raw_escape
    # And the node data is (kind, id)
    assert tree.node_for("kr", "kr_logos").data == ("kr", "kr_logos")


async def test_tree_labels_follow_the_theme_but_are_not_rebuilt_on_focus(monkeypatch):
    # Given a tree beside another focusable widget, its labels counted as rebuilt
    tree = OkrTree(OBJECTIVES, expected=EXPECTED)
    app = Host(tree)
    relabels: list[int] = []
    relabel = OkrTree._relabel_all
    monkeypatch.setattr(OkrTree, "_relabel_all", lambda self: relabels.append(1) or relabel(self))
    async with app.run_test(size=(100, 20)) as pilot:
        await pilot.pause()
        relabels.clear()  # the first layout may size the title column
        before = str(tree.root.children[0].label.spans)
        # When focus moves in and out of the tree five times
        for _ in range(5):
            tree.focus()
            await pilot.pause()
            app.set_focus(None)
            await pilot.pause()
        # Then no label was rebuilt
        assert relabels == []
        # When the theme changes: the labels take its colours
        app.theme = "textual-light" if app.theme != "textual-light" else "nord"
        await pilot.pause()
        assert relabels
        assert str(tree.root.children[0].label.spans) != before


async def test_tree_starts_expanded_with_cursor_on_first_objective():
    tree = OkrTree(OBJECTIVES, expected=EXPECTED)
    app = Host(tree)
    async with app.run_test(size=(120, 20)) as pilot:
        await pilot.pause()
        # Then every objective is expanded and the cursor on the first one
        assert tree.expanded_ids() == {"obj_revenue", "obj_eu", "obj_delight"}
        assert tree.cursor_node.data == ("objective", "obj_revenue")


async def test_tree_reveal_asked_before_mount_is_done_once_mounted():
    # Given a tree asked to reveal an objective before it has any nodes
    tree = OkrTree(OBJECTIVES, expected=EXPECTED)
    tree.reveal("objective", "obj_delight")
    app = Host(tree)
    async with app.run_test(size=(120, 20)) as pilot:
        await pilot.pause()
        # Then, once mounted, the cursor is on it, not on the first objective
        assert tree.cursor_node.data == ("objective", "obj_delight")


async def test_tree_reveal_opens_the_ancestors_and_moves_the_cursor_at_once():
    tree = OkrTree(OBJECTIVES, expected=EXPECTED)
    app = Host(tree)
    async with app.run_test(size=(120, 20)) as pilot:
        await pilot.pause()
        # Given "Grow revenue" collapsed
        tree.node_for("objective", "obj_revenue").collapse()
        # When one of its key results is revealed
        tree.reveal("kr", "kr_logos")
        # Then, with no refresh in between, it is open and the cursor on the key result
        assert tree.node_for("objective", "obj_revenue").is_expanded
        assert tree.cursor_node.data == ("kr", "kr_logos")
        # And an unknown id leaves the cursor where it is
        tree.reveal("objective", "nope")
        assert tree.cursor_node.data == ("kr", "kr_logos")


async def test_tree_left_right_space_collapse_and_expand():
    # Given the tree focused, cursor on "Grow revenue"
    tree = OkrTree(OBJECTIVES, expected=EXPECTED)
    app = Host(tree)
    async with app.run_test(size=(120, 20)) as pilot:
        tree.focus()
        await pilot.pause()
        node = tree.node_for("objective", "obj_revenue")
        # When ← is pressed; Then it collapses
        await pilot.press("left")
        assert node.is_collapsed
        # When → is pressed; Then it expands
        await pilot.press("right")
        assert node.is_expanded
        # When Space is pressed twice; Then it toggles closed and open
        await pilot.press("space")
        assert node.is_collapsed
        await pilot.press("space")
        assert node.is_expanded
        # When → is pressed on an expanded objective; Then the cursor goes to its first KR
        await pilot.press("right")
        assert tree.cursor_node.data == ("kr", "kr_mrr")
        # When ↓ then ← on a key result; Then the cursor goes back to the objective
        await pilot.press("down")
        assert tree.cursor_node.data == ("kr", "kr_logos")
        await pilot.press("left")
        assert tree.cursor_node.data == ("objective", "obj_revenue")


async def test_tree_enter_posts_drill_down():
    # Given the cursor on a key result
    tree = OkrTree(OBJECTIVES, expected=EXPECTED)
    app = Host(tree)
    async with app.run_test(size=(120, 20)) as pilot:
        tree.focus()
        await pilot.press("down", "down")
        # When Enter is pressed
        await pilot.press("enter")
        await pilot.pause()
        # Then the app is asked for that key result's detail, and nothing toggled
        assert [(m.kind, m.node_id) for m in app.messages] == [("kr", "kr_logos")]
        assert tree.node_for("objective", "obj_revenue").is_expanded


async def test_tree_update_relabels_in_place_keeping_expansion_and_cursor(monkeypatch):
    # Given the tree with "Delight users" collapsed and the cursor on "Sign 4 enterprise logos"
    tree = OkrTree(OBJECTIVES, expected=EXPECTED)
    app = Host(tree)
    async with app.run_test(size=(140, 20)) as pilot:
        tree.focus()
        await pilot.pause()
        tree.node_for("objective", "obj_delight").collapse()
        tree.move_cursor(tree.node_for("kr", "kr_logos"))
        await pilot.pause()
        logos_node = tree.node_for("kr", "kr_logos")
        clears: list[bool] = []
        monkeypatch.setattr(tree, "clear", lambda: clears.append(True))
        # When a refresh moves MRR to 55% and adds a key result above the cursor
        mrr = msgspec.structs.replace(KR_MRR, current=51000.0, progress_raw=0.55, progress=0.55)
        new_kr = kr("kr_expansion", "Expansion revenue 10%", owner="dan", status="on_track")
        revenue = msgspec.structs.replace(OBJ_REVENUE, key_results=(new_kr, mrr, KR_LOGOS))
        tree.update_objectives((revenue, OBJ_DELIGHT, OBJECTIVES[2]), EXPECTED)
        await pilot.pause()
        lines = tree_lines(tree)
        # Then the tree was not cleared, the new node is in place, MRR is relabelled
        assert clears == []
        assert tree.node_for("kr", "kr_expansion") is not None
        assert lines.index(next(ln for ln in lines if "Expansion revenue" in ln)) == 1
        assert " 55% " in next(ln for ln in lines if "MRR reaches" in ln)
        # And expansion and the cursor are where they were, on the same node object
        assert "obj_delight" not in tree.expanded_ids()
        assert tree.node_for("kr", "kr_logos") is logos_node
        assert tree.cursor_node is logos_node


async def test_tree_update_removes_nodes_and_moves_cursor_to_parent():
    # Given the cursor on "Activation to 40%"
    tree = OkrTree(OBJECTIVES, expected=EXPECTED)
    app = Host(tree)
    async with app.run_test(size=(140, 20)) as pilot:
        await pilot.pause()
        tree.move_cursor(tree.node_for("kr", KR_ACTIVATION.id))
        # When that key result leaves the spec
        delight = msgspec.structs.replace(OBJ_DELIGHT, key_results=OBJ_DELIGHT.key_results[1:])
        tree.update_objectives((OBJ_REVENUE, delight, OBJECTIVES[2]), EXPECTED)
        await pilot.pause()
        # Then its node is gone and the cursor sits on its objective
        assert tree.node_for("kr", KR_ACTIVATION.id) is None
        assert not any("Activation to 40%" in line for line in tree_lines(tree))
        assert tree.cursor_node.data == ("objective", "obj_delight")


async def test_tree_update_with_equal_objectives_touches_nothing(monkeypatch):
    # Given the tree on screen
    tree = OkrTree(OBJECTIVES, expected=EXPECTED)
    app = Host(tree)
    async with app.run_test(size=(140, 20)) as pilot:
        await pilot.pause()
        calls = count_refreshes(tree, monkeypatch)
        walked: list[int] = []
        expanded_ids = type(tree).expanded_ids
        monkeypatch.setattr(
            type(tree), "expanded_ids", lambda self: walked.append(1) or expanded_ids(self)
        )
        # When an equal copy arrives
        tree.update_objectives(tuple(msgspec.structs.replace(o) for o in OBJECTIVES), EXPECTED)
        await pilot.pause()
        # Then nothing is redrawn, nor even walked
        assert calls == []
        assert walked == []


async def test_tree_objective_getting_its_first_key_result_opens():
    # Given an objective with nothing under it (no ▼ to press)
    tree = OkrTree(OBJECTIVES, expected=EXPECTED)
    app = Host(tree)
    async with app.run_test(size=(140, 20)) as pilot:
        await pilot.pause()
        empty = tree.node_for("objective", OBJECTIVES[2].id)
        assert not empty.allow_expand
        # When a key result is added to it
        grown = msgspec.structs.replace(OBJECTIVES[2], key_results=(KR_ACTIVATION,))
        tree.update_objectives((OBJ_REVENUE, OBJ_DELIGHT, grown), EXPECTED)
        await pilot.pause()
        # Then it can expand, is expanded, and shows the key result
        assert empty.allow_expand and empty.is_expanded
        assert [child.data for child in empty.children] == [("kr", KR_ACTIVATION.id)]


async def test_tree_expanded_ids_round_trip():
    tree = OkrTree(OBJECTIVES, expected=EXPECTED)
    app = Host(tree)
    async with app.run_test(size=(140, 20)) as pilot:
        await pilot.pause()
        # When only "Expand in the EU" is asked to stay expanded
        tree.restore_expanded({"obj_eu"})
        # Then exactly that one is
        assert tree.expanded_ids() == {"obj_eu"}
        assert tree.node_for("objective", "obj_revenue").is_collapsed


# -- alerts log --------------------------------------------------------------------------


def alert(
    minutes_ago: int, title: str = "Logo churn", old: str = "warn", new: str = "crit"
) -> Alert:
    return Alert(AS_OF - 60 * minutes_ago, "churn", title, old, new, zone="Europe/Berlin")


async def test_alerts_newest_first_with_local_time():
    # Given three alerts added oldest first
    log = AlertsLog()
    app = Host(log)
    async with app.run_test(size=(60, 10)) as pilot:
        log.add_alert(alert(30, "MRR", "ok", "warn"))
        log.add_alert(alert(20, MARKUP_TITLE, "neutral", "ok"))
        log.add_alert(alert(10, ESC_TITLE, "ok", "crit"))
        await pilot.pause()
        lines = [line for line in screen_text(app).splitlines() if ":" in line]
        raw_escape = screen_has_raw_escape(app)
    # Then the newest is on top, times in Berlin (09:20Z → 10:20:00), titles literal
    assert [a.title for a in log.alerts] == [ESC_TITLE, MARKUP_TITLE, "MRR"]
    assert "10:20:00 ✖ " + ESC_SHOWN + "  ok → crit" in lines[0]
    assert lines[0].lstrip("│ ").startswith("▶")
    assert "10:10:00 ✔ [bold red]x[/]  neutral → ok" in lines[1]
    assert "10:00:00 ▲ MRR  ok → warn" in lines[2]
    assert not raw_escape


async def test_acknowledge_marks_newest_unacknowledged():
    # Given two alerts
    log = AlertsLog()
    app = Host(log)
    async with app.run_test(size=(60, 10)) as pilot:
        older, newer = alert(20), alert(10, "MRR")
        log.add_alert(older)
        log.add_alert(newer)
        # When `a` acknowledges twice, then once more
        assert log.acknowledge_latest() == newer
        await pilot.pause()
        first_lines = screen_text(app).splitlines()
        assert log.acknowledge_latest() == older
        # Then the newest first, then the older; then there is nothing left
        assert log.acknowledge_latest() is None
        await pilot.pause()
        lines = screen_text(app).splitlines()
    assert "✓ ack" in first_lines[1] and "✓ ack" not in first_lines[2]
    assert "▶" in first_lines[2]
    assert all("✓ ack" in line for line in lines[1:3])
    assert not any("▶" in line for line in lines)


async def test_an_acknowledged_line_can_be_scrolled_to_its_mark():
    # Given a log narrower than its one line, acknowledged after it was added
    log = AlertsLog()
    app = Host(log)
    async with app.run_test(size=(40, 6)) as pilot:
        log.add_alert(alert(10, "Monthly recurring revenue"))
        log.acknowledge_latest()
        # When it is scrolled all the way right
        log.scroll_to(x=log.max_scroll_x, animate=False)
        await pilot.pause()
        # Then the end of the line, its mark, is on screen
        assert "✓ ack" in screen_text(app)


async def test_replaying_two_hundred_alerts_draws_each_line_a_bounded_number_of_times(
    monkeypatch,
):
    log = AlertsLog()
    app = Host(log)
    async with app.run_test(size=(60, 10)) as pilot:
        drawn: list[int] = []
        line = AlertsLog._line
        monkeypatch.setattr(
            AlertsLog, "_line", lambda self, *args: drawn.append(1) or line(self, *args)
        )
        for minute in range(200, 0, -1):
            log.add_alert(alert(minute), acknowledged=True)
        await pilot.pause()
    assert len(drawn) < 400  # was every line on every add: ~20,000


async def test_alerts_log_keeps_two_hundred():
    log = AlertsLog()
    app = Host(log)
    async with app.run_test(size=(60, 10)) as pilot:
        # When 205 alerts arrive
        for minute in range(205, 0, -1):
            log.add_alert(alert(minute))
        await pilot.pause()
        # Then the 200 newest are kept
        assert len(log.alerts) == 200
        assert log.alerts[0].at == AS_OF - 60
        assert log.virtual_size.height == 200


async def test_empty_alerts_log_says_so():
    log = AlertsLog()
    app = Host(log)
    async with app.run_test(size=(60, 6)) as pilot:
        await pilot.pause()
        assert "No alerts yet" in screen_text(app)


# -- snapshots ---------------------------------------------------------------------------


def test_snapshot_cards_every_state(snap_compare):
    # Given a grid of cards in every state, the North Star above; Then it looks as approved
    assert snap_compare(SNAPSHOT_APPS / "cards_grid.py", terminal_size=(100, 30))


def test_snapshot_cards_every_state_no_color(snap_compare, monkeypatch):
    # Given NO_COLOR; Then borders, glyphs and words still tell the states apart
    monkeypatch.setenv("NO_COLOR", "1")
    assert snap_compare(SNAPSHOT_APPS / "cards_grid.py", terminal_size=(100, 30))


def test_snapshot_cards_narrow(snap_compare):
    # Given an 80×24 terminal (three columns); Then titles and values still fit
    assert snap_compare(SNAPSHOT_APPS / "cards_grid.py", terminal_size=(80, 24))


def test_snapshot_panels(snap_compare):
    # Given a chart, an empty chart, the OKR tree and the alerts log
    assert snap_compare(SNAPSHOT_APPS / "panels.py", terminal_size=(120, 36))


def test_snapshot_panels_no_color(snap_compare, monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    assert snap_compare(SNAPSHOT_APPS / "panels.py", terminal_size=(120, 36))


def test_fixture_titles_are_hostile():
    # The fixtures must keep exercising the safety cases the tests above rely on.
    assert "\x1b" in ESC_KPI.title and MARKUP_TITLE == "[bold red]x[/]"
    assert {k.state for k in STATE_KPIS.values()} == set(STATE_GLYPHS)


@pytest.mark.parametrize("width", [79, 160])
async def test_titles_are_cut_only_where_a_row_needs_the_columns_to_their_right(width):
    # Given long titles, and one key result with a check-in due, an owner and a
    # confidence (the busiest marks), in a tree as wide as on an 80- or a 160-column board
    long = "Mobile app launched (share of the launch plan done)"
    busy = kr(
        "busy",
        "Hire 4 support leads",
        owner="Priya",
        confidence="at_risk",
        checkin_due=True,
        status="at_risk",
    )
    objective = ObjectiveView(
        id="o",
        title="Grow revenue efficiently",
        owner="Maya",
        weight=1.0,
        progress=0.5,
        expected=EXPECTED,
        status="off_track",
        key_results=(kr("long", long, status="on_track"), busy),
    )
    tree = OkrTree((objective,), expected=EXPECTED)
    tree.styles.scrollbar_size_vertical = 1  # as the board's stylesheet has it
    async with Host(tree).run_test(size=(width, 10)) as pilot:
        await pilot.pause()
        lines = tree_lines(tree)
        room = tree.size.width - tree.styles.scrollbar_size_vertical
        guides = tree._prefix_width(("kr", "busy"))
    shown_long = next(line for line in lines if line.startswith("Mobile"))
    hire = next(line for line in lines if line.startswith("Hire"))
    # Then the busiest row keeps every mark whole
    assert re.search(r"⏰ due  @Priya  (▲ conf|conf: at risk)$", hire), hire
    if "…" in shown_long:
        # And a title is cut only as far as that row reaches the right edge: no column
        # is empty in every row beside a cut title
        assert guides + cell_len(hire) == room, (room, lines)
    else:
        # And where there is room a title is whole (titles were capped at 48 cells,
        # cut beside 60 empty columns at 160)
        assert width == 160 and shown_long.startswith(long + " "), shown_long
    assert ("…" in shown_long) == (width == 79)
