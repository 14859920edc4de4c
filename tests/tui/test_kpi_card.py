"""The KPI card and the safe text it is built from, in a small host app."""

from __future__ import annotations

import msgspec
import pytest
from rich.segment import Segment
from rich.style import Style
from textual._compositor import ChopsUpdate
from textual.app import App
from textual.geometry import Region

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
    WARN_KPI,
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


# -- what a test reads off the card -----------------------------------------------------

DIGIT_ONE_TOP = "╺┓"
"""The top row of a big (bold) 1: the North Star's big digits are on screen."""


def card_lines(app: App, widget: KpiCard) -> list[str]:
    """The text of the card's content lines, as on screen."""
    region = widget.content_region
    rows = screen_text(app).splitlines()[region.y : region.bottom]
    return [row[region.x : region.right].rstrip() for row in rows]


def card_segments(app: App, widget: KpiCard, line: int) -> list[Segment]:
    """The segments drawn on one content line of the card."""
    region = widget.content_region
    strip = app.screen._compositor.render_strips()[region.y + line]
    return list(strip.crop(region.x, region.right))


def style_of(app: App, widget: KpiCard, text: str) -> Style:
    """The style of `text` where the card draws it."""
    for line in range(widget.content_region.height):
        for segment in card_segments(app, widget, line):
            if text in segment.text:
                return segment.style or Style()
    raise AssertionError(f"{text!r} is not on the card")


def part_colour(widget: KpiCard, component: str):
    """The colour a component class gives, blended over the card like it is drawn."""
    return widget._part(component).color


def spy_refreshes(widget: KpiCard, monkeypatch: pytest.MonkeyPatch) -> list[tuple]:
    """Record the regions and the layout flag of every refresh of the card."""
    calls: list[tuple] = []
    original = widget.refresh

    def spy(*regions: Region, **kwargs):
        calls.append((regions, kwargs.get("layout", False)))
        return original(*regions, **kwargs)

    monkeypatch.setattr(widget, "refresh", spy)
    return calls


def spy_screen_writes(app: App, monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """Record every update the screen sends to the terminal."""
    compositor = app.screen._compositor
    updates: list[object] = []
    original = compositor.render_update

    def spy(*args, **kwargs):
        update = original(*args, **kwargs)
        if update is not None:
            updates.append(update)
        return update

    monkeypatch.setattr(compositor, "render_update", spy)
    return updates


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
        # Then each delta is drawn in its component's colour, and they differ
        good_colour = style_of(app, good, OK_KPI.delta_display).color
        bad_colour = style_of(app, bad, CRIT_KPI.delta_display).color
        assert good_colour == part_colour(good, "kpi-card--delta-good")
        assert bad_colour == part_colour(bad, "kpi-card--delta-bad")
        assert good_colour != bad_colour


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
        lines = card_lines(app, star)
        # Then the North Star is drawn larger (a 2-line trend), with a ★
        assert star.size.height == normal.size.height + 1 == 6
        assert star.has_class("-north-star", "-digits")
        assert lines[0].startswith("★ Weekly active teams")
        # And its value is three rows of big digits (1,284), its facts beside them
        assert lines[1] == "╺┓  ╺━┓┏━┓╻ ╻  ✔ ok"
        assert lines[2] == " ┃  ┏━┛┣━┫┗━┫  ▲ +84 (+7.0%)"
        assert lines[3] == "╺┻╸,┗━╸┗━┛  ╹  target 1,200"


async def test_north_star_falls_back_to_a_plain_value_when_narrow():
    # Given a North Star too narrow for its big digits
    view = with_value(NORTH_STAR, 1284567.0, "$1,284,567.00")
    star = card(view)
    app = Host(star)
    async with app.run_test(size=(26, 14)) as pilot:
        await pilot.pause()
        lines = card_lines(app, star)
        # Then the value is the plain line, with its state, and no big digits
        assert not star.has_class("-digits")
        assert lines[1].startswith("$1,284,567.00") and lines[1].endswith("✔ ok")
        assert DIGIT_ONE_TOP not in screen_text(app)


async def test_update_view_with_equal_view_does_nothing(monkeypatch):
    # Given a card on screen
    widget = card(OK_KPI)
    app = Host(widget)
    async with app.run_test(size=(40, 12)) as pilot:
        await pilot.pause()
        calls = count_refreshes(widget, monkeypatch)
        shown: list[object] = []
        monkeypatch.setattr(widget, "_show", shown.append)
        # When a refresh hands it an equal (not identical) view
        widget.update_view(msgspec.structs.replace(OK_KPI))
        await pilot.pause()
        # Then nothing at all is refreshed, nor even compared line by line
        assert calls == []
        assert shown == []


async def test_update_view_changes_only_what_changed(monkeypatch):
    # Given a card on screen (its value on content line 1)
    widget = card(OK_KPI)
    app = Host(widget, card(CRIT_KPI))
    async with app.run_test(size=(40, 20)) as pilot:
        await pilot.pause()
        calls = spy_refreshes(widget, monkeypatch)
        writes = spy_screen_writes(app, monkeypatch)
        # When only the value changes (1,532 → 1,600)
        widget.update_view(with_value(OK_KPI, 1600.0, "1,600"))
        await pilot.pause()
        text = screen_text(app)
        value_row = widget.content_region.y + 1
        content = widget.content_region
        refreshed, written = list(calls), list(writes)  # before the app's exit blurs it
    # Then the new value shows
    assert "1,600" in text
    assert "1,532" not in text
    # And only the value line was refreshed, without a new layout
    assert refreshed == [((Region(0, 1, content.width, 1),), False)]
    # And only that line was written to the terminal
    assert written and all(isinstance(update, ChopsUpdate) for update in written)
    assert {y for update in written for y, _, _ in update.spans} == {value_row}
    assert {(x1, x2) for update in written for _, x1, x2 in update.spans} == {
        (content.x, content.right)
    }


async def test_a_hidden_card_shows_its_new_value_when_shown_again():
    # Given a card drawn once, then hidden (as on another page)
    widget = card(OK_KPI)
    app = Host(widget, card(CRIT_KPI))
    async with app.run_test(size=(40, 20)) as pilot:
        await pilot.pause()
        widget.display = False
        await pilot.pause()
        # When its value changes while hidden, and it is shown again
        widget.update_view(with_value(OK_KPI, 1600.0, "1,600"))
        await pilot.pause()
        widget.display = True
        await pilot.pause()
        # Then it shows the new value
        assert card_lines(app, widget)[1].startswith("1,600")
        assert "1,532" not in screen_text(app)


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


async def test_a_card_has_no_child_widgets_and_big_digits_only_for_the_north_star():
    # Given a plain card and the North Star card
    plain, star = card(OK_KPI), card(NORTH_STAR)
    app = Host(plain, star)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        # Then each card draws all its lines itself: no child widgets
        assert list(plain.walk_children()) == []
        assert list(star.walk_children()) == []
        # And only the North Star draws its value in big digits, beside its state
        assert not plain.has_class("-digits")
        assert card_lines(app, plain)[1].startswith("1,532")
        assert star.has_class("-digits")
        assert card_lines(app, star)[1].startswith(DIGIT_ONE_TOP)
        assert card_lines(app, star)[1].endswith("✔ ok")


async def test_a_card_that_becomes_the_north_star_gains_big_digits():
    # Given a plain card at 80 columns
    widget = card(OK_KPI)
    app = Host(widget)
    async with app.run_test(size=(80, 12)) as pilot:
        await pilot.pause()
        height = widget.size.height
        # When a spec edit makes it the North Star
        widget.update_view(msgspec.structs.replace(OK_KPI, north_star=True))
        await pilot.pause()
        lines = card_lines(app, widget)
        # Then it has big digits (1,532), the star, its state beside them, a taller trend
        assert widget.has_class("-north-star", "-digits")
        assert lines[0].startswith("★ Signups")
        assert lines[1].startswith(DIGIT_ONE_TOP) and lines[1].endswith("✔ ok")
        assert widget.size.height == height + 1
        # And back: the digits go, the value returns to its line
        widget.update_view(OK_KPI)
        await pilot.pause()
        lines = card_lines(app, widget)
        assert not widget.has_class("-north-star") and not widget.has_class("-digits")
        assert lines[0].startswith("Signups")
        assert lines[1].startswith("1,532")
        assert DIGIT_ONE_TOP not in screen_text(app)
        assert widget.size.height == height


# -- styles: component classes follow the card's classes ------------------------------


async def test_value_and_state_colours_follow_band_and_state():
    # Given an ok card and a crit card
    ok, crit = card(OK_KPI), card(CRIT_KPI)
    app = Host(ok, crit)
    async with app.run_test(size=(40, 20)) as pilot:
        await pilot.pause()
        ok_value = style_of(app, ok, "1,532")
        crit_value = style_of(app, crit, "4.8%")
        crit_state = style_of(app, crit, "✖ crit")
        # Then each value has its band's colour (from the component class), bold
        assert ok_value.color == part_colour(ok, "kpi-card--value")
        assert crit_value.color == part_colour(crit, "kpi-card--value")
        assert ok_value.color != crit_value.color
        assert ok_value.bold and crit_value.bold
        # And the crit state word is reversed and bold
        assert crit_state.reverse and crit_state.bold
        assert not style_of(app, ok, "✔ ok").reverse
        # When the ok KPI turns crit
        ok.update_view(with_value(OK_KPI, 900.0, "900", state="crit", band="crit"))
        await pilot.pause()
        # Then its value takes the crit colour
        assert style_of(app, ok, "900").color == crit_value.color


async def test_stale_value_is_dimmed_and_its_age_is_shown():
    # Given a stale KPI (its value in the warn band) and a fresh warn KPI
    widget, warn = card(STALE_KPI), card(WARN_KPI)
    app = Host(widget, warn)
    async with app.run_test(size=(40, 20)) as pilot:
        await pilot.pause()
        value = style_of(app, widget, "312")
        age = style_of(app, widget, "3h ago")
        # Then the value is dim, not bold (Textual draws dim as a blended colour)
        assert widget._part("kpi-card--value").dim
        assert not value.bold
        assert value.color != style_of(app, warn, "$48,250.00").color
        # And the age is on the line of the target, right-aligned, in its colour
        assert age.color == part_colour(widget, "kpi-card--problem")
        assert card_lines(app, widget)[3].endswith("3h ago")


async def test_title_is_reversed_while_the_card_has_focus():
    # Given two cards, the first one focused
    first, second = card(OK_KPI), card(CRIT_KPI)
    app = Host(first, second)
    async with app.run_test(size=(40, 20)) as pilot:
        first.focus()
        await pilot.pause()
        # Then only the focused card's title is reversed (and bold)
        assert style_of(app, first, "Signups").reverse
        assert style_of(app, first, "Signups").bold
        assert not style_of(app, second, "Logo churn").reverse
        # When focus moves
        second.focus()
        await pilot.pause()
        # Then the reversed title moves with it
        assert not style_of(app, first, "Signups").reverse
        assert style_of(app, second, "Logo churn").reverse


async def test_muted_words_are_blended_not_full_foreground():
    # Given a card with a target
    widget = card(OK_KPI)
    app = Host(widget)
    async with app.run_test(size=(40, 12)) as pilot:
        await pilot.pause()
        target_word = style_of(app, widget, "target")
        muted = widget.get_component_styles("kpi-card--muted").color
        # Then "target" is drawn in the translucent muted colour blended over the card
        # (a partial style alone would drop the alpha and draw it at full foreground)
        assert muted.a < 1
        assert target_word.color == (widget.background_colors[1] + muted).rich_color


async def test_no_color_keeps_values_bright_and_marks_crit(monkeypatch):
    # Given NO_COLOR and a crit card
    monkeypatch.setenv("NO_COLOR", "1")
    widget = card(CRIT_KPI)
    app = Host(widget)
    async with app.run_test(size=(40, 12)) as pilot:
        await pilot.pause()
        value = style_of(app, widget, "4.8%")
        state = style_of(app, widget, "✖ crit")
        # Then the value is underlined (not coloured by its band) and the state reversed
        assert app.no_color
        assert value.underline and value.bold
        assert state.reverse
        assert value.color == state.color


async def test_a_theme_change_draws_the_parts_in_the_new_colours():
    # Given an ok card on the dark theme
    widget = card(OK_KPI)
    app = Host(widget)
    async with app.run_test(size=(40, 12)) as pilot:
        app.theme = "textual-dark"
        await pilot.pause()
        dark_value = style_of(app, widget, "1,532").color
        dark_target = style_of(app, widget, "target").color
        # When the theme changes to a light one
        app.theme = "textual-light"
        await pilot.pause()
        await pilot.pause()
        light_value = style_of(app, widget, "1,532").color
        light_target = style_of(app, widget, "target").color
        # Then the parts are drawn again in the new theme's colours
        assert light_value != dark_value
        assert light_target != dark_target
        assert light_value == part_colour(widget, "kpi-card--value")
        assert light_target == part_colour(widget, "kpi-card--muted")


async def test_parts_that_look_alike_share_a_component_class():
    # Textual styles every component class of every card on each styling pass (a node
    # of its own each time): the card declares one class per look, not one per part.
    assert len(KpiCard.COMPONENT_CLASSES) == 11
    # Given a focused card with an indicator tag and a description, a card whose delta
    # has no direction, a stale card and a card in error
    tagged = card(OK_KPI)
    flat = card(msgspec.structs.replace(OK_KPI, id="flat", delta_display="n/a", delta_good=None))
    stale, failed = card(STALE_KPI), card(ERROR_KPI)
    app = Host(tagged, flat, stale, failed)
    async with app.run_test(size=(60, 40)) as pilot:
        tagged.focus()
        await pilot.pause()
        # Then the description is drawn like the tag (muted, italic)
        tag = style_of(app, tagged, OK_KPI.indicator)
        assert tag.italic and tag.color == part_colour(tagged, "kpi-card--note")
        assert style_of(app, tagged, OK_KPI.description) == tag
        # And a delta without direction like the word "target"
        assert style_of(app, flat, "Δ n/a") == style_of(app, flat, "target")
        # And the age of a stale value and the reason of an error take the same class,
        # in the colour of the card's state: warning for the one, error for the other
        age = style_of(app, stale, "3h ago").color
        reason = style_of(app, failed, "⚠ store").color
        assert age == part_colour(stale, "kpi-card--problem")
        assert reason == part_colour(failed, "kpi-card--problem")
        assert age != reason
        assert reason == part_colour(failed, "kpi-card--delta-bad")  # both $text-error


# -- lines: description and error reason ------------------------------------------------


async def test_a_long_description_wraps_to_at_most_four_lines():
    # Given a focused card with a description far longer than four lines at 30 columns
    long = msgspec.structs.replace(OK_KPI, description=" ".join(["accounts created"] * 20))
    widget = card(long)
    app = Host(widget)
    async with app.run_test(size=(30, 20)) as pilot:
        widget.focus()
        await pilot.pause()
        lines = card_lines(app, widget)
        # Then the description takes the four lines under the trend, the last one cut
        assert widget.size.height == 5 + 4
        assert lines[5].startswith("accounts created")
        assert lines[8].endswith("…")
        assert style_of(app, widget, "accounts created").italic
        # When the card loses focus; Then the description goes and the card shrinks
        widget.blur()
        await pilot.pause()
        assert widget.size.height == 5
        assert "accounts created" not in screen_text(app)


async def test_error_reason_replaces_delta_target_and_trend_at_the_same_height():
    # Given an ok card, a card in error with a long reason, and the same for the North Star
    reason = "store is locked (database is locked) while a writer holds it for long"
    error = msgspec.structs.replace(ERROR_KPI, error=reason)
    star_error = msgspec.structs.replace(
        NORTH_STAR, id="star_error", state="error", display="—", error=reason
    )
    ok, failed, star, failed_star = card(OK_KPI), card(error), card(NORTH_STAR), card(star_error)
    app = Host(failed, ok, failed_star, star)  # focus on `failed`: no description shows
    async with app.run_test(size=(40, 40)) as pilot:
        await pilot.pause()
        lines = card_lines(app, failed)
        star_lines = card_lines(app, failed_star)
        reason_colour = style_of(app, failed, "⚠ store").color
        # Then the reason is wrapped over the three lines under the value, in error colour
        assert lines[2].startswith("⚠ store is locked")
        assert reason_colour == part_colour(failed, "kpi-card--problem")
        assert all("target" not in line and "Δ" not in line for line in lines)
        # And the card keeps the height of a card with delta, target and trend
        assert failed.size.height == ok.size.height
        # And so does the North Star, its reason beside its digits
        assert failed_star.size.height == star.size.height
        assert star_lines[1].endswith("⚠ error")
        assert "⚠ store is locked" in star_lines[2]


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
