"""The dashboard's widgets, each in a small host app, fed hand-built views."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from textual.app import App, ComposeResult
from textual.message import Message
from textual.widget import Widget
from textual_plotext import PlotextPlot

from kpitui.engine.board import STATE_GLYPHS, ChartSeries, KpiView
from kpitui.tui.text import safe_plain, safe_text, state_label
from kpitui.tui.widgets import Alert, AlertsLog, ChartPanel, KpiCard, OkrTree
from kpitui.tui.widgets.chart_panel import axis_label, nice_ticks, time_ticks
from kpitui.tui.widgets.okr_tree import percent_text, progress_bar
from tests.tui.board_fixtures import (
    AS_OF,
    CRIT_KPI,
    EMPTY_CHART,
    ERROR_CHART,
    ERROR_KPI,
    ESC_KPI,
    ESC_SHOWN,
    ESC_TITLE,
    EXPECTED,
    KR_ACTIVATION,
    KR_LOGOS,
    KR_MRR,
    MARKUP_KPI,
    MARKUP_LABEL,
    MARKUP_TITLE,
    NORTH_STAR,
    OBJ_DELIGHT,
    OBJ_REVENUE,
    OBJECTIVES,
    OK_KPI,
    REVENUE_CHART,
    SIGNUPS_CHART,
    STALE_KPI,
    STATE_KPIS,
    TZ,
    kr,
    with_value,
)

SNAPSHOT_APPS = Path(__file__).parent / "snapshot_apps"


def screen_text(app: App) -> str:
    """The plain text on the app's screen, one line per row."""
    return "\n".join(strip.text for strip in app.screen._compositor.render_strips())


def screen_has_raw_escape(app: App) -> bool:
    """True when a raw ESC would reach the terminal."""
    return any("\x1b" in strip.text for strip in app.screen._compositor.render_strips())


class Host(App[None]):
    """Mounts the given widgets and records the messages they post."""

    def __init__(self, *widgets: Widget) -> None:
        super().__init__()
        self._widgets = widgets
        self.messages: list[Message] = []

    def compose(self) -> ComposeResult:
        yield from self._widgets

    def on_kpi_card_drill_down(self, message: KpiCard.DrillDown) -> None:
        self.messages.append(message)

    def on_chart_panel_drill_down(self, message: ChartPanel.DrillDown) -> None:
        self.messages.append(message)

    def on_okr_tree_drill_down(self, message: OkrTree.DrillDown) -> None:
        self.messages.append(message)


def card(view: KpiView) -> KpiCard:
    return KpiCard(view, tz=TZ, id=f"kpi-{view.id}")


def count_refreshes(widget: Widget, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Record every refresh of `widget` and of its descendants."""
    calls: list[str] = []
    for node in [widget, *widget.walk_children(Widget)]:
        original = node.refresh

        def spy(*args, _node=node, _original=original, **kwargs):
            calls.append(_node.id or type(_node).__name__)
            return _original(*args, **kwargs)

        monkeypatch.setattr(node, "refresh", spy)
    return calls


# -- safe text ---------------------------------------------------------------------------


def test_safe_text_keeps_markup_literal():
    # Given a title written like console markup
    # When it becomes text
    text = safe_text(MARKUP_TITLE)
    # Then it reads exactly as typed, unstyled
    assert text.plain == "[bold red]x[/]"
    assert text.spans == []


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("a\x1b[31mb", "a\\x1b[31mb"),
        ("bell\x07", "bell\\x07"),
        ("line\nbreak\ttab\r", "line\\nbreak\\ttab\\r"),
        ("del\x7f", "del\\x7f"),
        ("csi\x9b31m", "csi\\x9b31m"),
        ("rtl\u202eevil", "rtl\\u202eevil"),
        ("emoji 🚀 ünïcode", "emoji 🚀 ünïcode"),
    ],
)
def test_safe_text_escapes_control_characters(raw, shown):
    # Given data holding control characters; When made safe; Then they show as escapes
    assert safe_plain(raw) == shown
    assert safe_text(raw, "bold").plain == shown


def test_state_label_has_glyph_and_word():
    # Given every state; Then its label is glyph, space, word (underscores spaced)
    assert state_label("no_data").plain == "∅ no data"
    assert state_label("crit").plain == "✖ crit"


# -- KPI card ----------------------------------------------------------------------------


@pytest.mark.parametrize("state", list(STATE_GLYPHS))
async def test_card_shows_glyph_and_word_for_every_state(state):
    # Given a KPI in `state`
    view = STATE_KPIS[state]
    app = Host(card(view))
    async with app.run_test(size=(40, 12)) as pilot:
        await pilot.pause()
        text = screen_text(app)
        widget = app.query_one(KpiCard)
    # Then its glyph and word are on screen, with the title and value
    assert f"{STATE_GLYPHS[state]} {state.replace('_', ' ')}" in text
    assert view.title in text
    assert view.display in text
    # And the card carries its state and band classes for the styling
    assert widget.has_class(f"-state-{state}")
    assert widget.has_class(f"-band-{view.band}")


async def test_card_shows_delta_target_and_age_when_stale():
    # Given a stale KPI (its last point 3h old)
    app = Host(card(STALE_KPI))
    async with app.run_test(size=(40, 12)) as pilot:
        await pilot.pause()
        text = screen_text(app)
    # Then the value, delta, target and age are all shown
    assert "312" in text
    assert "▲ +12 (+4.0%)" in text
    assert "target 350" in text
    assert "3h ago" in text


async def test_card_shows_error_reason():
    # Given a KPI whose query failed
    app = Host(card(ERROR_KPI))
    async with app.run_test(size=(60, 12)) as pilot:
        await pilot.pause()
        text = screen_text(app)
    # Then the reason is on the card, not only in a log
    assert "store is locked" in text
    assert "⚠ error" in text


async def test_card_colours_delta_by_good_or_bad():
    # Given a good change and a bad change
    good, bad = card(OK_KPI), card(CRIT_KPI)
    app = Host(good, bad)
    async with app.run_test(size=(40, 20)) as pilot:
        await pilot.pause()
        good_style = good.get_component_rich_style("kpi-card--delta-good", partial=True)
        bad_style = bad.get_component_rich_style("kpi-card--delta-bad", partial=True)
        # Then each delta carries its component's colour
        assert good._delta_text(OK_KPI).spans[0].style == good_style
        assert bad._delta_text(CRIT_KPI).spans[0].style == bad_style
        assert good_style.color != bad_style.color


async def test_card_title_markup_and_escape_render_literally():
    # Given cards titled `[bold red]x[/]` and with an ESC in the title
    app = Host(card(MARKUP_KPI), card(ESC_KPI))
    async with app.run_test(size=(40, 20)) as pilot:
        await pilot.pause()
        text = screen_text(app)
        raw_escape = screen_has_raw_escape(app)
    # Then both read as typed, the ESC as a visible \x1b, and no raw ESC is drawn
    assert MARKUP_TITLE in text
    assert ESC_SHOWN in text
    assert not raw_escape


async def test_card_description_only_while_focused():
    # Given two cards, the second one described
    first, second = card(NORTH_STAR), card(OK_KPI)
    app = Host(first, second)
    async with app.run_test(size=(60, 30)) as pilot:
        first.focus()
        await pilot.pause()
        # Then the description is hidden while another card has focus
        assert OK_KPI.description not in screen_text(app)
        # When the card gets focus; Then its description shows
        second.focus()
        await pilot.pause()
        assert OK_KPI.description in screen_text(app)


async def test_north_star_card_is_taller_with_big_digits():
    # Given the North Star and a normal card
    star, normal, other = card(NORTH_STAR), card(OK_KPI), card(CRIT_KPI)
    app = Host(star, normal, other)
    async with app.run_test(size=(60, 30)) as pilot:
        other.focus()
        await pilot.pause()
        # Then the North Star is drawn larger, with big digits and a ★
        assert star.size.height > normal.size.height
        assert star.has_class("-north-star", "-digits")
        assert "★ Weekly active teams" in screen_text(app)


async def test_north_star_falls_back_to_a_plain_value_when_narrow():
    # Given a North Star too narrow for its big digits
    view = with_value(NORTH_STAR, 1284567.0, "$1,284,567.00")
    star = card(view)
    app = Host(star)
    async with app.run_test(size=(26, 14)) as pilot:
        await pilot.pause()
        # Then the value is the plain line
        assert not star.has_class("-digits")
        assert "$1,284,567.00" in screen_text(app)


async def test_update_view_with_equal_view_does_nothing(monkeypatch):
    # Given a card on screen
    widget = card(OK_KPI)
    app = Host(widget)
    async with app.run_test(size=(40, 12)) as pilot:
        await pilot.pause()
        calls = count_refreshes(widget, monkeypatch)
        # When a refresh hands it an equal (not identical) view
        widget.update_view(dataclasses.replace(OK_KPI))
        await pilot.pause()
        # Then nothing at all is refreshed
        assert calls == []


async def test_update_view_changes_only_what_changed(monkeypatch):
    # Given a card on screen
    widget = card(OK_KPI)
    app = Host(widget)
    async with app.run_test(size=(40, 12)) as pilot:
        await pilot.pause()
        calls = count_refreshes(widget, monkeypatch)
        # When only the value changes (1,532 → 1,600)
        widget.update_view(with_value(OK_KPI, 1600.0, "1,600"))
        await pilot.pause()
        text = screen_text(app)
        touched = set(calls)
    # Then the new value shows, and only the value line (value and state) was touched
    assert "1,600" in text
    assert "1,532" not in text
    assert "headline" in touched
    assert not touched & {"heading", "delta", "meta", "spark", "kpi-signups"}


async def test_update_view_moves_state_classes():
    # Given an ok card
    widget = card(OK_KPI)
    app = Host(widget)
    async with app.run_test(size=(40, 12)) as pilot:
        await pilot.pause()
        # When its KPI turns crit
        widget.update_view(with_value(OK_KPI, 900.0, "900", state="crit", band="crit"))
        await pilot.pause()
        text = screen_text(app)
        # Then the classes and the words follow
        assert widget.has_class("-state-crit", "-band-crit")
        assert not widget.has_class("-state-ok")
        assert "✖ crit" in text and "900" in text


async def test_a_card_has_few_widgets_and_big_digits_only_for_the_north_star():
    # Given a plain card and the North Star card
    plain, star = card(OK_KPI), card(NORTH_STAR)
    app = Host(plain, star)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        # Then the plain card is a handful of widgets, without big digits
        assert len(list(plain.walk_children())) <= 8
        assert not plain.query("Digits")
        # And the North Star draws its value in big digits beside its state
        assert star.query_one("Digits").display
        assert star.has_class("-digits")


async def test_a_card_that_becomes_the_north_star_gains_big_digits():
    # Given a plain card at 80 columns
    widget = card(OK_KPI)
    app = Host(widget)
    async with app.run_test(size=(80, 12)) as pilot:
        await pilot.pause()
        # When a spec edit makes it the North Star
        widget.update_view(dataclasses.replace(OK_KPI, north_star=True))
        await pilot.pause()
        await pilot.pause()
        text = screen_text(app)
        # Then it is rebuilt with big digits, the star and its state beside them
        assert widget.has_class("-north-star", "-digits")
        assert widget.query_one("Digits").display
        assert "★ Signups" in text and "✔ ok" in text
        # And back: the digits go, the value returns to its line
        widget.update_view(OK_KPI)
        await pilot.pause()
        await pilot.pause()
        assert not widget.query("Digits")
        assert "1,532" in screen_text(app)


async def test_flash_until_acknowledged():
    # Given a card that changed state
    widget = card(CRIT_KPI)
    app = Host(widget)
    async with app.run_test(size=(40, 12)) as pilot:
        await pilot.pause()
        # When it flashes
        widget.flash()
        await pilot.pause()
        # Then it blinks and is marked
        assert widget.flashing
        assert widget.alerted and widget.has_class("-alerted")
        # When the alert is acknowledged
        widget.acknowledge()
        await pilot.pause()
        # Then the blinking stops and the mark goes
        assert not widget.flashing
        assert not widget.has_class("-flash") and not widget.has_class("-alerted")


async def test_flash_blinks_a_few_times_then_stays_marked():
    # Given a flashing card
    widget = card(CRIT_KPI)
    app = Host(widget)
    async with app.run_test(size=(40, 12)) as pilot:
        await pilot.pause()
        widget.flash()
        widget._flash_timer.pause()  # the test drives the ticks itself
        blinks = []
        # When its timer ticks through the whole flash (3 bursts of 3 blinks)
        while widget.flashing:
            widget._flash_tick()
            blinks.append(widget.has_class("-flash"))
        # Then it blinked on and off, ended off, and stays marked until acknowledged
        assert 20 <= len(blinks) <= 40
        assert blinks.count(True) >= 6
        assert blinks[-1] is False
        assert widget.alerted and widget.has_class("-alerted")


async def test_enter_on_card_posts_drill_down():
    # Given a focused card
    app = Host(card(OK_KPI), card(CRIT_KPI))
    async with app.run_test(size=(40, 20)) as pilot:
        app.query_one("#kpi-churn").focus()
        # When Enter is pressed
        await pilot.press("enter")
        await pilot.pause()
    # Then the app is asked to drill into that KPI
    assert [type(m) for m in app.messages] == [KpiCard.DrillDown]
    assert app.messages[0].kpi_id == "churn"


# -- chart panel -------------------------------------------------------------------------


def test_nice_ticks_and_labels():
    # Given a range 0..50,000 and about 5 ticks; Then steps are round numbers
    assert nice_ticks(0, 50000, 5) == [0, 10000, 20000, 30000, 40000, 50000]
    assert axis_label(48500, "currency") == "48.5K"
    assert axis_label(0.021, "percent") == "2.1%"
    assert axis_label(7200, "duration") == "2h"


def test_time_ticks_are_in_the_dashboard_timezone():
    # Given a one-day span ending at 09:30 UTC (10:30 in Berlin)
    positions, labels = time_ticks(AS_OF - 86400, AS_OF, 3, TZ)
    # Then the labels are Berlin hours
    assert positions[-1] == AS_OF
    assert labels[-1] == "10:30"


async def test_chart_with_no_points_says_no_data():
    # Given a chart without any point
    app = Host(ChartPanel(EMPTY_CHART, tz=TZ))
    async with app.run_test(size=(50, 14)) as pilot:
        await pilot.pause()
        text = screen_text(app)
    # Then it says so, in the middle
    lines = text.splitlines()
    middle = next(i for i, line in enumerate(lines) if "no data" in line)
    assert 3 <= middle <= 10
    assert "Refunds" in text


async def test_chart_shows_its_error():
    # Given a chart whose query failed
    app = Host(ChartPanel(ERROR_CHART, tz=TZ))
    async with app.run_test(size=(60, 14)) as pilot:
        await pilot.pause()
        text = screen_text(app)
    # Then the reason is shown
    assert "⚠ error: no such metric: latency_ms" in text


async def test_chart_draws_series_legend_and_time_axis():
    # Given the revenue chart split by plan, one plan named `[/]`
    panel = ChartPanel(REVENUE_CHART, tz=TZ)
    app = Host(panel)
    async with app.run_test(size=(100, 24)) as pilot:
        await pilot.pause()
        await pilot.pause()
        text = screen_text(app)
        raw_escape = screen_has_raw_escape(app)
    # Then the legend names every series literally and the reference lines
    assert "pro" in text and "team" in text and MARKUP_LABEL in text
    assert "target 50K" in text and "crit 45K" in text
    # And the time axis is labelled with dates, the y axis with short numbers
    assert "Nov 24" in text
    assert "40K" in text
    assert panel.replots == 1
    assert not raw_escape


async def test_chart_replots_only_when_data_changed():
    # Given a chart on screen
    panel = ChartPanel(SIGNUPS_CHART, tz=TZ)
    app = Host(panel)
    async with app.run_test(size=(80, 20)) as pilot:
        await pilot.pause()
        await pilot.pause()
        first = panel.replots
        # When an equal view, then a retitled one arrive
        panel.update_view(dataclasses.replace(SIGNUPS_CHART))
        panel.update_view(dataclasses.replace(SIGNUPS_CHART, title="Signups per day"))
        await pilot.pause()
        # Then the chart was not redrawn, but the title changed
        assert panel.replots == first
        assert "Signups per day" in screen_text(app)
        # When a point is added
        points = (*SIGNUPS_CHART.series[0].points, (AS_OF + 86400, 250.0))
        panel.update_view(
            dataclasses.replace(SIGNUPS_CHART, series=(ChartSeries("signups", points),))
        )
        await pilot.pause()
        # Then it is redrawn once
        assert panel.replots == first + 1


async def test_chart_title_markup_is_literal():
    # Given a chart titled with markup
    app = Host(ChartPanel(SIGNUPS_CHART, tz=TZ))
    async with app.run_test(size=(80, 20)) as pilot:
        await pilot.pause()
        text = screen_text(app)
    # Then the title reads as typed
    assert f"Signups {MARKUP_TITLE}" in text


async def test_chart_enter_posts_drill_down():
    # Given a focused chart
    panel = ChartPanel(SIGNUPS_CHART, tz=TZ, compact=True)
    app = Host(panel)
    async with app.run_test(size=(60, 16)) as pilot:
        panel.focus()
        # When Enter is pressed
        await pilot.press("enter")
        await pilot.pause()
        legend_shown = panel.query_one("#legend").display
    # Then the app is asked to open it (and a compact chart has no legend line)
    assert not legend_shown
    assert [(type(m), m.chart_id) for m in app.messages] == [
        (ChartPanel.DrillDown, "signups_daily")
    ]


async def test_chart_without_colour_uses_the_clear_theme(monkeypatch):
    # Given NO_COLOR in the environment
    monkeypatch.setenv("NO_COLOR", "1")
    panel = ChartPanel(REVENUE_CHART, tz=TZ)
    app = Host(panel)
    async with app.run_test(size=(80, 20)) as pilot:
        await pilot.pause()
        await pilot.pause()
        # Then the plot is drawn without colours
        assert app.no_color
        assert panel.query_one(PlotextPlot).theme == "clear"


# -- OKR tree ----------------------------------------------------------------------------


def test_progress_bar_and_percent():
    # Given 62% done while 60% of the period elapsed
    assert progress_bar(0.62, 0.6) == "██████░░░░"
    # Given 20% done while 60% elapsed: the expected cell is marked
    assert progress_bar(0.2, 0.6) == "██░░░│░░░░"
    # Then over-achievement shows its raw percent; nothing measured shows a dash
    assert percent_text(1.25) == "125%"
    assert percent_text(0.4125) == " 41%"
    assert percent_text(None) == "   —"


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
    assert f"off track  ⏰ due  @{MARKUP_LABEL}" in berlin
    empty = next(line for line in lines if MARKUP_TITLE in line)
    assert "   —" in empty and "○ not started" in empty
    assert "⚠ no such metric" in text
    assert not raw_escape
    # And the node data is (kind, id)
    assert tree.node_for("kr", "kr_logos").data == ("kr", "kr_logos")


async def test_tree_starts_expanded_with_cursor_on_first_objective():
    tree = OkrTree(OBJECTIVES, expected=EXPECTED)
    app = Host(tree)
    async with app.run_test(size=(120, 20)) as pilot:
        await pilot.pause()
        # Then every objective is expanded and the cursor on the first one
        assert tree.expanded_ids() == {"obj_revenue", "obj_eu", "obj_delight"}
        assert tree.cursor_node.data == ("objective", "obj_revenue")


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
        mrr = dataclasses.replace(KR_MRR, current=51000.0, progress_raw=0.55, progress=0.55)
        new_kr = kr("kr_expansion", "Expansion revenue 10%", owner="dan", status="on_track")
        revenue = dataclasses.replace(OBJ_REVENUE, key_results=(new_kr, mrr, KR_LOGOS))
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
        delight = dataclasses.replace(OBJ_DELIGHT, key_results=OBJ_DELIGHT.key_results[1:])
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
        # When an equal copy arrives
        tree.update_objectives(tuple(dataclasses.replace(o) for o in OBJECTIVES), EXPECTED)
        await pilot.pause()
        # Then nothing is redrawn
        assert calls == []


async def test_tree_objective_getting_its_first_key_result_opens():
    # Given an objective with nothing under it (no ▼ to press)
    tree = OkrTree(OBJECTIVES, expected=EXPECTED)
    app = Host(tree)
    async with app.run_test(size=(140, 20)) as pilot:
        await pilot.pause()
        empty = tree.node_for("objective", OBJECTIVES[2].id)
        assert not empty.allow_expand
        # When a key result is added to it
        grown = dataclasses.replace(OBJECTIVES[2], key_results=(KR_ACTIVATION,))
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
    return Alert(AS_OF - 60 * minutes_ago, "churn", title, old, new)


async def test_alerts_newest_first_with_local_time():
    # Given three alerts added oldest first
    log = AlertsLog(tz=TZ)
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
    log = AlertsLog(tz=TZ)
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


async def test_alerts_log_keeps_two_hundred():
    log = AlertsLog(tz=TZ)
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
    log = AlertsLog(tz=TZ)
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
