"""The KPI card and the safe text it is built from, in a small host app."""

from __future__ import annotations

import dataclasses

import pytest

from kpitui.engine.board import STATE_GLYPHS
from kpitui.tui.text import safe_plain, safe_text, state_label
from kpitui.tui.widgets import KpiCard
from tests.tui.board_fixtures import (
    CRIT_KPI,
    ERROR_KPI,
    ESC_KPI,
    ESC_SHOWN,
    MARKUP_KPI,
    MARKUP_TITLE,
    NORTH_STAR,
    OK_KPI,
    STALE_KPI,
    STATE_KPIS,
    with_value,
)
from tests.tui.widget_host import Host, card, count_refreshes, screen_has_raw_escape, screen_text

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
