"""The dashboard app on a real store and spec made in the test (SPEC §4)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from kpitui.tui.header import ProblemsLine
from kpitui.tui.screens.help import HelpScreen
from kpitui.tui.widgets.kpi_card import KpiCard
from tests.tui.snapshot_apps.app_world import (
    AS_OF,
    SPEC,
    edit_spec,
    make_app,
    screen_text,
    settle,
    write_points,
)


def card(app, kpi_id: str) -> KpiCard:
    return app.query_one(f"#p0-kpi-{kpi_id}", KpiCard)


async def test_first_board_shows_every_kpi_title_and_value_at_80x24(tmp_path: Path):
    # Given the test world, opened at 80×24
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        # Then the board is evaluated at the fixed clock's time
        assert app.board is not None and app.board.as_of == AS_OF
        # And the header names the board, the page, the as-of time and the live marker
        text = screen_text(app)
        assert "Test board" in text
        assert "1/2 Overview" in text
        assert "as of 2026-11-24 12:00" in text
        assert "● live" in text
        # And each KPI card shows its title and its formatted value once scrolled to
        for kpi_id, title, display in [
            ("mrr", "MRR", "$95,000.00"),
            ("signups", "Signups", "721"),
            ("churn", "Churn", "2.0%"),
            ("activation", "Activation", "38.0%"),
        ]:
            widget = card(app, kpi_id)
            widget.scroll_visible(animate=False)
            await pilot.pause()
            assert widget.view.display == display
            shown = screen_text(app)
            assert title in shown and display in shown, kpi_id


@pytest.mark.parametrize(
    ("width", "status"),
    [
        (80, "1/2 Overview │ as of 2026-11-24 12:00 │ ● live"),
        (40, "1/2 │ 12:00 │ ● live"),
        (30, "1/2 │ ● live"),
    ],
)
async def test_a_narrow_header_keeps_the_title_and_gives_up_status_words(
    tmp_path: Path, width: int, status: str
):
    # Given the test world on a screen as narrow as a phone under `serve`
    app = make_app(tmp_path)
    async with app.run_test(size=(width, 24)) as pilot:
        await settle(pilot)
        header = screen_text(app).splitlines()[0]
        # Then the title is whole, and the status says what fits, the live marker always
        assert header.startswith(" Test board"), header
        assert header.rstrip().endswith(status), header
        assert len(header.rstrip()) <= width


async def test_cards_do_not_overlap_and_reflow_with_the_width(tmp_path: Path):
    # Given the four-KPI row
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        regions = [card(app, k).region for k in ("mrr", "signups", "churn", "activation")]
        # Then at 80 columns they sit two to a row, without overlapping
        assert len({r.y for r in regions}) == 2
        for i, a in enumerate(regions):
            for b in regions[i + 1 :]:
                assert not a.overlaps(b)
        # When the terminal grows to 160 columns
        await pilot.resize_terminal(160, 48)
        await pilot.pause()
        regions = [card(app, k).region for k in ("mrr", "signups", "churn", "activation")]
        # Then all four share one row
        assert len({r.y for r in regions}) == 1


@pytest.mark.parametrize("width", [92, 123])
async def test_cards_never_get_narrower_than_their_minimum(tmp_path: Path, width: int):
    from kpitui.tui.board_view import MIN_PANEL_WIDTH

    app = make_app(tmp_path)
    async with app.run_test(size=(80, 30)) as pilot:
        await settle(pilot)
        # When the terminal is resized to a width where one more column nearly fits
        await pilot.resize_terminal(width, 30)
        await settle(pilot)
        widths = [card(app, k).region.width for k in ("mrr", "signups", "churn", "activation")]
        # Then the grid takes only the columns the rows' width holds
        assert min(widths) >= MIN_PANEL_WIDTH["kpi"], widths


async def test_pages_switch_with_number_keys_and_the_header_follows(tmp_path: Path):
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        # When 2 is pressed
        await pilot.press("2")
        await pilot.pause()
        # Then the OKR page shows, its tree has focus, and the header says so
        assert "2/2 OKRs" in screen_text(app)
        assert app.focused is not None and app.focused.id == "p1-okrs-okrs"
        assert "Grow revenue" in screen_text(app)
        # When 9 (no such page) then 1 are pressed
        await pilot.press("9", "1")
        await pilot.pause()
        # Then the first page is back with focus on its first card
        assert "1/2 Overview" in screen_text(app)
        assert app.focused is card(app, "mrr")


async def test_a_point_written_by_another_connection_appears_after_the_next_poll(tmp_path):
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert card(app, "churn").view.display == "2.0%"
        # Given another program records churn 2.5% now
        write_points(app.store_path, [("churn", {}, AS_OF, 0.025)])
        # When the poll runs
        app.poll_now()
        await settle(pilot)
        # Then the card shows it
        assert card(app, "churn").view.display == "2.5%"
        assert "2.5%" in screen_text(app)


async def test_a_poll_with_no_change_updates_nothing(tmp_path: Path):
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        board = app.board
        # When polls run and nothing was written (and the clock did not move)
        app.poll_now()
        await settle(pilot)
        # Then the board object is the same one: nothing was re-evaluated or re-applied
        assert app.board is board


async def test_pause_stops_updates_until_resumed(tmp_path: Path):
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        # Given the dashboard is paused
        await pilot.press("p")
        await pilot.pause()
        assert "❚❚ paused" in screen_text(app)
        # When a point is written and the poll timer fires
        write_points(app.store_path, [("churn", {}, AS_OF, 0.025)])
        app.poll_now()
        await settle(pilot)
        # Then the card still shows the old value
        assert card(app, "churn").view.display == "2.0%"
        # When resumed
        await pilot.press("p")
        await settle(pilot)
        # Then the new value appears and the marker is live again
        assert card(app, "churn").view.display == "2.5%"
        assert "● live" in screen_text(app)


async def test_r_refreshes_even_while_paused(tmp_path: Path):
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("p")
        write_points(app.store_path, [("churn", {}, AS_OF, 0.025)])
        # When r is pressed
        await pilot.press("r")
        await settle(pilot)
        # Then the board was re-read
        assert card(app, "churn").view.display == "2.5%"


async def test_a_refresh_with_nothing_new_rebuilds_no_widget(tmp_path: Path, monkeypatch):
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        # Given the board on screen, and every page rebuild and card update counted
        churn = card(app, "churn")
        shown = churn.view
        before = app.board
        rebuilds: list[object] = []
        real_build = app._build_pages

        async def build_pages(board):  # type: ignore[no-untyped-def]
            rebuilds.append(board)
            await real_build(board)

        monkeypatch.setattr(app, "_build_pages", build_pages)
        shows: list[object] = []
        monkeypatch.setattr(churn, "_show", shows.append)
        # When r re-reads a store in which nothing changed
        await pilot.press("r")
        await settle(pilot)
        # Then an equal board was evaluated and applied, yet no page was rebuilt and the
        # card is the same widget, shown nothing new
        assert app.board is not before and app.board == before
        assert rebuilds == [] and shows == []
        assert card(app, "churn") is churn and churn.view is shown


async def test_a_state_change_flashes_logs_and_a_acknowledges_it(tmp_path: Path):
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await settle(pilot)
        log = app.query_one("#p0-alerts-alerts")
        # Activation, already at warn when the board opened, is told "at start"
        assert [(a.kpi_id, a.old_state, a.new_state) for a in log.alerts] == [
            ("activation", "", "warn")
        ]
        # Given churn jumps to 6% (crit: at or above 5%)
        write_points(app.store_path, [("churn", {}, AS_OF, 0.06)])
        app.poll_now()
        await settle(pilot)
        # Then one alert: in the log, on the card, and as a notification
        assert [(a.kpi_id, a.old_state, a.new_state) for a in log.alerts] == [
            ("churn", "ok", "crit"),
            ("activation", "", "warn"),
        ]
        assert card(app, "churn").has_class("-alerted")
        assert any("Churn: ✔ ok → ✖ crit" in str(n.message) for n in app._notifications)
        # When a is pressed (on MRR, which has no alert: the newest alert's KPI)
        await pilot.press("a")
        await pilot.pause()
        # Then the log line is marked and the card stops flashing; activation's is not
        assert log.is_acknowledged(0) and not log.is_acknowledged(1)
        assert not card(app, "churn").has_class("-alerted")
        assert not card(app, "churn").flashing
        assert card(app, "activation").has_class("-alerted")
        # And a poll with no change raises nothing new
        app.poll_now(force=True)
        await settle(pilot)
        assert len(log.alerts) == 2


async def test_a_cards_mark_clears_when_its_alert_is_acknowledged_whatever_came_before(
    tmp_path: Path,
):
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await settle(pilot)
        # Given churn ok → warn, then warn → crit: two alerts for one card
        for value in (0.04, 0.06):
            write_points(app.store_path, [("churn", {}, AS_OF, value)])
            app.poll_now(force=True)
            await settle(pilot)
        assert [(c.kpi_id, c.old_state, c.new_state) for c, _ in app._alerts] == [
            ("activation", "", "warn"),
            ("churn", "ok", "warn"),
            ("churn", "warn", "crit"),
        ]
        assert card(app, "churn").has_class("-alerted")
        # And churn's two alerts are one toast, the newest, not a stack
        assert sorted(str(n.message) for n in app._notifications) == [
            "Activation: at start → ▲ warn",
            "Churn: ▲ warn → ✖ crit",
        ]
        # When churn's card has focus and a is pressed once
        app.focus_panel(card(app, "churn"))
        await pilot.press("a")
        await pilot.pause()
        # Then both of churn's alerts are acknowledged and its mark is gone
        assert not card(app, "churn").has_class("-alerted")
        assert [acked for _, acked in app._alerts] == [False, True, True]
        # And A acknowledges the rest
        await pilot.press("A")
        await pilot.pause()
        assert not card(app, "activation").has_class("-alerted")
        assert [acked for _, acked in app._alerts] == [True, True, True]


async def test_the_bell_rings_on_an_alert_when_the_spec_asks(tmp_path: Path, monkeypatch):
    app = make_app(tmp_path, SPEC.replace("refresh: 1h\n", "refresh: 1h\nalerts: {bell: true}\n"))
    rings: list[int] = []
    monkeypatch.setattr(app, "bell", lambda: rings.append(1))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert rings == [1]  # activation, at warn when the board opened
        write_points(app.store_path, [("churn", {}, AS_OF, 0.06)])
        app.poll_now()
        await settle(pilot)
        assert rings == [1, 1]


MARKUP_SPEC = SPEC.replace("title: Churn", "title: '[bold red]x[/]'").replace(
    "title: Test board", "title: 'Board [/] \\x1b[31m'"
)


async def test_markup_and_escapes_in_titles_render_literally(tmp_path: Path):
    # Given a KPI titled `[bold red]x[/]` and a board title with `[/]` and an ESC
    app = make_app(tmp_path, MARKUP_SPEC)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        text = screen_text(app)
        # Then they show as typed, the ESC escaped, and nothing crashed
        assert "[bold red]x[/]" in text
        assert "Board [/] \\x1b[31m" in text
        # And the palette's commands carry the title as plain text
        from kpitui.tui.commands import board_commands

        texts = [c.text for c in board_commands(app, app.board)]
        assert "Go to [bold red]x[/]" in texts


async def test_a_spec_edit_reloads_and_keeps_page_and_focus(tmp_path: Path):
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("tab")  # focus Signups
        assert app.focused is card(app, "signups")
        # When the spec's title and the churn thresholds are edited on disk
        edit_spec(
            app.loaded.path,
            SPEC.replace("Test board", "Edited board").replace("warn: 0.03", "warn: 0.01"),
        )
        app.poll_now()
        await settle(pilot)
        # Then the new spec is on screen (churn 2% is now warn), focus stays
        assert "Edited board" in screen_text(app)
        assert card(app, "churn").view.state == "warn"
        assert app.focused is card(app, "signups")
        assert app.query_one(ProblemsLine).lines == ()


async def test_an_edited_store_is_followed_and_the_new_specs_warnings_are_told(tmp_path: Path):
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await settle(pilot)
        # Given another store beside the first, where churn is 6%
        write_points(tmp_path / "other.db", [("churn", {}, AS_OF - 60, 0.06)])
        # When the spec is edited to read it, with a misspelt metric in a new KPI
        edited = SPEC.replace("store: metrics.db", "store: other.db").replace(
            "kpis:\n", "kpis:\n  - {metric: sigups, agg: sum, window: 7d}\n", 1
        )
        edit_spec(app.loaded.path, edited)
        app.poll_now()
        await settle(pilot)
        # Then the board reads the new store (and drill-downs will too)
        assert app.store_path == tmp_path / "other.db"
        assert card(app, "churn").view.display == "6.0%"
        # And the new spec's warnings, checked against that store, are told
        warnings = [str(n.message) for n in app._notifications if n.title == "Spec warning"]
        assert any("sigups" in w for w in warnings), warnings


async def test_a_layout_edit_rebuilds_the_pages_keeping_page_index(tmp_path: Path):
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("2")
        await pilot.pause()
        # When the OKR page gains the revenue chart
        edit_spec(
            app.loaded.path,
            SPEC.replace("        - [okrs]\n", "        - [okrs]\n        - [revenue]\n"),
        )
        app.poll_now()
        await settle(pilot)
        # Then the second page is still shown, now with the chart, and focus is kept
        assert "2/2 OKRs" in screen_text(app)
        assert app.query("#p1-chart-revenue")
        assert app.focused is not None and app.focused.id == "p1-okrs-okrs"


async def test_an_invalid_spec_edit_keeps_the_board_and_shows_the_error(tmp_path: Path):
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await settle(pilot)
        board = app.board
        # When the spec is broken on disk (an unknown aggregation)
        edit_spec(app.loaded.path, SPEC.replace("agg: sum", "agg: total"))
        app.poll_now()
        await settle(pilot)
        # Then the last good board stays and the error is shown, with its line
        assert app.board is board
        problems = app.query_one(ProblemsLine).lines
        assert any("dashboard.yaml:" in line and "total" in line for line in problems)
        assert "⚠" in screen_text(app)
        assert any(n.severity == "error" for n in app._notifications)
        # When it is fixed
        edit_spec(app.loaded.path, SPEC)
        app.poll_now()
        await settle(pilot)
        # Then the problems line goes away
        assert app.query_one(ProblemsLine).lines == ()


async def test_a_missing_store_keeps_the_board_and_recovers(tmp_path: Path):
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        board = app.board
        store = app.store_path
        moved = store.with_suffix(".away")
        # When the store file disappears
        store.rename(moved)
        app.poll_now()
        await settle(pilot)
        # Then the board stays and the header says why
        assert app.board is board
        # (the message itself: the test's own folder name holds "missing" too)
        assert f"store: {store} is missing" in " ".join(app.query_one(ProblemsLine).lines)
        # When it is back, with a new point
        moved.rename(store)
        write_points(store, [("churn", {}, AS_OF, 0.025)])
        app.poll_now()
        await settle(pilot)
        # Then the dashboard recovers
        assert app.query_one(ProblemsLine).lines == ()
        assert card(app, "churn").view.display == "2.5%"


async def test_help_lists_every_key_from_the_bindings(tmp_path: Path):
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 40)) as pilot:
        await settle(pilot)
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        text = screen_text(app)
        for words in (
            "Pause or resume",
            "1…9",
            "Acknowledge",
            "↑ / k",
            "tab / shift+tab",
            "KPI card",
            "OKR tree",
        ):
            assert words in text, words
        # And escape closes it, back to the same focus
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, HelpScreen)
        assert app.focused is card(app, "mrr")


async def test_palette_go_to_switches_page_and_focuses(tmp_path: Path):
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        # When "Go to objective Delight users" runs
        assert app.go_to("objective", "delight")
        await pilot.pause()
        # Then the OKR page shows with the tree's cursor on that objective
        tree = app.query_one("#p1-okrs-okrs")
        assert app.focused is tree
        assert tree.cursor_node is not None and tree.cursor_node.data == ("objective", "delight")
        # When "Go to Churn" runs
        assert app.go_to("kpi", "churn")
        await pilot.pause()
        assert app.focused is card(app, "churn")


async def test_palette_commands_cover_kpis_charts_objectives_and_key_results(tmp_path):
    from kpitui.tui.commands import board_commands

    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        texts = [c.text for c in board_commands(app, app.board)]
        for expected in (
            "Go to MRR",
            "Open MRR detail",
            "Go to chart Revenue",
            "Go to objective Grow revenue",
            "Open objective Grow revenue detail",
            "Open key result Reach 100k MRR detail",
        ):
            assert expected in texts


async def test_drill_down_and_escape_return_to_the_same_focus(tmp_path: Path):
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("tab", "tab")  # Churn
        await pilot.press("enter")
        await settle(pilot)
        assert len(app.screen_stack) == 2
        # And page keys do not switch the board underneath
        await pilot.press("2")
        await pilot.pause()
        assert app.current_page().page_index == 0
        await pilot.press("escape")
        await pilot.pause()
        assert len(app.screen_stack) == 1
        assert app.focused is card(app, "churn")
        assert "1/2 Overview" in screen_text(app)


# -- `kpitui run`: problems are found before the app takes the terminal ----------------


def test_run_with_a_broken_spec_exits_2_with_one_line_and_no_traceback(
    tmp_path, capsys, monkeypatch
):
    from kpitui.cli import main
    from kpitui.tui.app import KpituiApp

    spec = tmp_path / "dashboard.yaml"
    spec.write_text(SPEC.replace("agg: sum", "agg: total"), encoding="utf-8")
    started: list[bool] = []
    monkeypatch.setattr(KpituiApp, "run", lambda self, **kw: started.append(True))
    monkeypatch.setattr("kpitui.cli.app_cmds.need_terminal", lambda: None)  # no tty here
    # When the broken spec is run
    code = main(["run", str(spec)])
    err = capsys.readouterr().err
    # Then exit 2, one line naming the file and line, no traceback, no app
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1
    assert "dashboard.yaml:" in lines[0] and "total" in lines[0]
    assert "Traceback" not in err
    assert started == []


def test_run_with_a_missing_store_exits_2_before_the_app(tmp_path, capsys, monkeypatch):
    from kpitui.cli import main
    from kpitui.tui.app import KpituiApp

    spec = tmp_path / "dashboard.yaml"
    spec.write_text(SPEC, encoding="utf-8")
    monkeypatch.setattr(KpituiApp, "run", lambda self, **kw: pytest.fail("app started"))
    code = main([str(spec)])
    err = capsys.readouterr().err
    assert code == 2
    assert "metrics.db" in err and "Traceback" not in err


def test_run_with_a_missing_spec_exits_2(tmp_path, capsys):
    from kpitui.cli import main

    code = main(["run", str(tmp_path / "nope.yaml")])
    assert code == 2
    assert "nope.yaml" in capsys.readouterr().err


def test_run_starts_the_app_on_the_spec_and_its_store(tmp_path, monkeypatch):
    from kpitui.cli import main
    from kpitui.tui.app import KpituiApp
    from tests.tui.snapshot_apps.app_world import make_world

    spec, store = make_world(tmp_path)
    seen: list[KpituiApp] = []
    monkeypatch.setattr(KpituiApp, "run", lambda self, **kw: seen.append(self))
    monkeypatch.setattr("kpitui.cli.app_cmds.need_terminal", lambda: None)  # no tty here
    # When run with --as-of
    assert main(["run", str(spec), "--as-of", "2026-11-01"]) == 0
    # Then the app got the spec, its store and the fixed as-of
    (app,) = seen
    assert app.store_path == store
    assert app.loaded.dashboard.title == "Test board"
    assert app.as_of() == 1793491200


async def test_the_command_palette_jumps_to_a_kpi(tmp_path: Path):
    from textual.command import CommandPalette

    app = make_app(tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        # When Ctrl+P is pressed and "go to churn" typed and chosen
        await pilot.press("ctrl+p")
        await pilot.pause()
        assert isinstance(app.screen, CommandPalette)
        await pilot.press(*"go to churn")
        palette = app.screen
        for _ in range(100):  # the palette searches in a task: wait for its hits
            await pilot.pause()
            if palette.query("CommandList").first().option_count:
                break
        await pilot.press("enter")
        await settle(pilot)
        # Then the Churn card has focus on the board
        assert app.focused is card(app, "churn")


async def test_a_fixed_as_of_is_marked_fixed_not_live_and_still_polls(tmp_path: Path):
    # Given the app opened with --as-of a day before the clock's now
    app = make_app(tmp_path, as_of=AS_OF - 86400)
    async with app.run_test(size=(100, 24)) as pilot:
        await settle(pilot)
        # Then the header marks the moment as fixed, not live
        text = screen_text(app)
        assert "◆ as of 2026-11-23 12:00" in text
        assert "● live" not in text
        assert card(app, "churn").view.display == "2.0%"
        # When another program rewrites the point at that moment and the poll runs
        write_points(app.store_path, [("churn", {}, AS_OF - 86400, 0.025)])
        app.poll_now()
        await settle(pilot)
        # Then the board picks it up, still at the fixed moment
        assert card(app, "churn").view.display == "2.5%"
        assert app.board.as_of == AS_OF - 86400
        assert "◆ as of 2026-11-23 12:00" in screen_text(app)


async def test_a_check_in_due_shows_in_the_okr_tree_at_80_columns(tmp_path: Path):
    from kpitui.tui.widgets.okr_tree import OkrTree
    from tests.tui.snapshot_apps.sample_world import make_sample_app

    # Given the sample board, whose "Hire 4 support leads" (manual, weekly) is overdue
    app = make_sample_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("2")
        await pilot.pause()
        tree = app.query_one("#p1-okrs-okrs", OkrTree)
        # When the tree's cursor reaches that key result
        app.go_to("okrs", "okrs")
        await settle(pilot)
        tree.move_cursor(tree.node_for("kr", "hire-support-leads"))
        await pilot.pause()
        # Then its line shows the status and the due mark right after it
        line = next(t for t in screen_text(app).splitlines() if "Hire 4 support" in t)
        assert "✖ off track  ⏰ due" in line, line
        # And no label is wider than the tree: nothing scrolls sideways
        assert tree.virtual_size.width <= tree.scrollable_content_region.width
        assert not tree.show_horizontal_scrollbar


def footer_line(app) -> str:
    return screen_text(app).splitlines()[-1]


async def test_detail_footers_fit_80_columns_without_board_only_keys(tmp_path: Path):
    from kpitui.tui.screens.kpi_detail import KpiDetailScreen
    from kpitui.tui.screens.kr_detail import KrDetailScreen
    from tests.tui.snapshot_apps.sample_world import make_sample_app

    app = make_sample_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        # Given the board's footer offers pause and acknowledge
        assert "p Pause" in footer_line(app) and "a Ack alert" in footer_line(app)
        # When the MRR card's detail is open
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, KpiDetailScreen)
        footer = footer_line(app)
        # Then back, the range keys, the buckets, help and quit all show; p and a do not
        for words in ("esc Back", "1 2 3 4 0 range", "[ ] bucket", "? Keys", "q Quit"):
            assert words in footer, footer
        assert "Pause" not in footer and "Ack" not in footer
        # And p does not pause the board underneath
        await pilot.press("p")
        await pilot.pause()
        assert not app.paused
        # When a key result's detail is open instead
        await pilot.press("escape")
        await pilot.pause()
        app.open_kr_detail("kr", "hire-support-leads")
        await settle(pilot)
        assert isinstance(app.screen, KrDetailScreen)
        footer = footer_line(app)
        for words in ("esc Back", "? Keys", "r Refresh", "q Quit"):
            assert words in footer, footer
        assert "Pause" not in footer and "Ack" not in footer


async def test_at_60x20_the_footer_keeps_quit_and_keys_and_the_detail_its_name(tmp_path: Path):
    from kpitui.tui.screens.kpi_detail import KpiDetailScreen
    from tests.tui.snapshot_apps.sample_world import make_sample_app

    app = make_sample_app(tmp_path)
    async with app.run_test(size=(60, 20)) as pilot:
        await settle(pilot)
        # Given the board at 60x20 / Then its footer still offers quit and help
        footer = footer_line(app)
        assert "q Quit" in footer and "? Keys" in footer, footer
        # When the first card's detail is open / Then its header keeps the KPI's name
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, KpiDetailScreen)
        head = screen_text(app).splitlines()[0]
        title = app.screen.detail.kpi.title
        assert f"KPI · {title[:12]}" in head, head
        footer = footer_line(app)
        assert "q Quit" in footer and "? Keys" in footer, footer


async def test_a_detail_narrowed_to_60_columns_keeps_quit_and_keys_in_its_footer(tmp_path: Path):
    from tests.tui.snapshot_apps.sample_world import make_sample_app

    app = make_sample_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        # Given a KPI's detail open at 80 columns
        await pilot.press("enter")
        await settle(pilot)
        # When the terminal narrows to 60x20 / Then the footer drops the palette's key
        # and still offers quit and help (it kept `^p palette` and cut `q Quit` to `q Qui`)
        await pilot.resize_terminal(60, 20)
        await settle(pilot)
        footer = footer_line(app)
        assert "q Quit" in footer and "? Keys" in footer, footer
        assert "palette" not in footer, footer
        # And widened again, the palette's key is back
        await pilot.resize_terminal(100, 24)
        await settle(pilot)
        assert "palette" in footer_line(app)


async def test_a_detail_header_gives_up_its_comparison_words_before_the_kpis_name(
    tmp_path: Path,
):
    from tests.tui.snapshot_apps.sample_world import make_sample_app

    app = make_sample_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        # Given the North Star's detail (Monthly recurring revenue) at 80 columns
        await pilot.press("enter")
        await settle(pilot)
        detail = app.screen.detail
        narrow = screen_text(app).splitlines()[0]
        await pilot.resize_terminal(140, 24)
        await settle(pilot)
        wide = screen_text(app).splitlines()[0]
    # Then the name is whole and the change whole, without a cut `vs a day…` (the name
    # was cut to `Monthly recurring r…` and the words after the change to `vs`)
    assert f"KPI · {detail.kpi.title} " in narrow, narrow
    assert narrow.rstrip().endswith(detail.kpi.delta_display), narrow
    # And where there is room, the header says what the change is against
    assert wide.rstrip().endswith(detail.head_delta), wide
    assert detail.head_delta == f"{detail.kpi.delta_display} vs {detail.compare_label}"


async def test_help_at_80_columns_fills_the_width_and_lists_quit_once(tmp_path: Path):
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("question_mark")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, HelpScreen)
        box = screen.query_one("VerticalScroll")
        keys = screen.query_one("#help-keys")
        # Then the box takes the whole width: no sliver of the board beside it
        assert box.region.x == 0 and box.region.width == 80
        lines = screen_text(app).splitlines()
        assert all(line.startswith("╭") or line.startswith("│") for line in lines[:-1])
        # And the keys sit left of the scrollbar, never under it
        assert box.show_vertical_scrollbar
        scrollbar_x = box.scrollable_content_region.right
        assert keys.region.right <= scrollbar_x
        # And quit is one row: q, with Textual's own ^q beside it
        text = screen_text(app)
        assert "q / ^q" in text
        assert text.count("Quit") == 1, text


async def test_help_on_a_kpi_detail_lists_that_screens_keys(tmp_path: Path):
    app = make_app(tmp_path)
    async with app.run_test(size=(100, 40)) as pilot:
        await settle(pilot)
        await pilot.press("enter")  # MRR's detail
        await settle(pilot)
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        rows = dict(
            (keys, words)
            for title, section in app.screen.sections
            for keys, words in section
            if title == "KPI detail"
        )
        # Then the range keys, the bucket keys, sort, clear and Enter are all listed
        for key, words in [
            ("1", "7 days"),
            ("2", "30 days"),
            ("3", "90 days"),
            ("4", "year"),
            ("0", "everything"),
            ("[", "Smaller"),
            ("]", "Bigger"),
            ("s", "Sort"),
            ("c", "all labels"),
            ("⏎ on a label", "Show only that label"),
            ("esc", "Back"),
        ]:
            assert words in rows.get(key, ""), (key, rows)
        # And the board-only keys are not: they do nothing here
        shown = screen_text(app)
        assert "Pause or resume" not in shown and "1…9" not in shown
        assert "Re-read the store" in shown


# A board whose churn card and a second alerts log live on page 2.
TWO_PAGE_SPEC = SPEC.replace(
    """        - [mrr, signups, churn, activation]
        - [revenue]
        - [alerts]
    - title: OKRs
      rows:
        - [okrs]
""",
    """        - [mrr, signups, activation]
        - [alerts]
    - title: OKRs
      rows:
        - [churn, revenue]
        - [okrs, alerts]
""",
)


async def test_a_page_not_shown_is_built_when_first_shown(tmp_path: Path):
    app = make_app(tmp_path, TWO_PAGE_SPEC)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        # Given the board on page 1: page 2's panels do not exist yet
        first, second = app._pages()
        assert first.built and first.query(KpiCard)
        assert not second.built and not second.children
        # When churn turns crit while page 2 is not built, and 2 is pressed
        write_points(app.store_path, [("churn", {}, AS_OF, 0.06)])
        app.poll_now()
        await settle(pilot)
        await pilot.press("2")
        await settle(pilot)
        # Then page 2 is built from the newest board: churn shows 6.0%, still marked
        churn = app.query_one("#p1-kpi-churn", KpiCard)
        assert second.built
        assert churn.view.display == "6.0%" and churn.alerted
        # And its alerts log holds the alert raised before it existed
        log = app.query_one("#p1-alerts-alerts")
        assert [(a.kpi_id, a.new_state) for a in log.alerts] == [
            ("churn", "crit"),
            ("activation", "warn"),  # at warn when the board opened
        ]
        assert "6.0%" in screen_text(app)


async def test_the_first_layout_has_the_rows_columns_and_the_chart_takes_the_spare_lines(
    tmp_path: Path,
):
    app = make_app(tmp_path)
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        # Given the board composed with the screen; Then its first layout already put
        # the four KPI cards side by side (not stacked), so the lines left on the page
        # were measured right and given to the chart (16 lines on a tall terminal)
        row = app.query_one("#p0-row0")
        assert row.styles.grid_size_columns == 4
        assert len({card.region.y for card in row.children}) == 1
        assert app.query_one("#p0-chart-revenue").outer_size.height > 16


async def test_a_page_built_later_replays_which_alerts_were_acknowledged(tmp_path: Path):
    app = make_app(tmp_path, TWO_PAGE_SPEC)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        # Given churn ok → crit, acknowledged with a, then crit → ok, all on page 1
        write_points(app.store_path, [("churn", {}, AS_OF, 0.06)])
        app.poll_now()
        await settle(pilot)
        await pilot.press("a")
        write_points(app.store_path, [("churn", {}, AS_OF, 0.02)])
        app.poll_now()
        await settle(pilot)
        # When page 2, with its own alerts log, is shown for the first time
        await pilot.press("2")
        await settle(pilot)
        log = app.query_one("#p1-alerts-alerts")
        # Then the crit alert is the acknowledged one, the newer ok alert is not
        assert [(a.new_state, log.is_acknowledged(i)) for i, a in enumerate(log.alerts)] == [
            ("ok", False),
            ("crit", True),
            ("warn", False),  # activation, at start
        ]


async def test_a_tall_terminal_has_its_size_class_before_the_board_is_composed(
    tmp_path: Path, monkeypatch
):
    # Given a spy on the app's compose: was the screen -tall before any widget was made?
    from kpitui.tui.app import KpituiApp

    tall_at_compose: list[bool] = []
    compose = KpituiApp.compose

    def spy(self):
        for widget in compose(self):
            tall_at_compose.append(self.screen.has_class("-tall"))
            yield widget

    monkeypatch.setattr(KpituiApp, "compose", spy)
    # When the board opens on a tall terminal
    app = make_app(tmp_path)
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        # Then it was (a size class added once the widgets are mounted styles every
        # widget on the screen a second time before the first frame)
        assert tall_at_compose and all(tall_at_compose)
        assert app.screen.has_class("-tall")


async def test_the_size_classes_follow_the_terminal_when_it_grows_and_shrinks(tmp_path: Path):
    from kpitui.tui.widgets.okr_tree import OkrTree
    from tests.tui.snapshot_apps.sample_world import make_sample_app

    # Given the sample board opened at 80×24: its OKR tree of 15 lines is capped
    app = make_sample_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert not app.screen.has_class("-tall")
        # When the terminal grows to 160×48 and the OKR page is shown
        await pilot.resize_terminal(160, 48)
        await pilot.press("2")
        await settle(pilot)
        tree = app.query_one(OkrTree)
        lines = len(tree._tree_lines)
        # Then the screen is -tall and every line of the tree shows
        assert app.screen.has_class("-tall") and lines == 15
        assert tree.size.height == lines and tree.max_scroll_y == 0
        # When it grows again to 160×60 / Then it is -huge too
        await pilot.resize_terminal(160, 60)
        await settle(pilot)
        assert app.screen.has_class("-huge")
        # When it shrinks back to 80×24 / Then both classes go and the tree is capped again
        await pilot.resize_terminal(80, 24)
        await settle(pilot)
        assert not app.screen.has_class("-tall") and not app.screen.has_class("-huge")
        assert tree.outer_size.height == 12 and tree.max_scroll_y > 0


def okr_nodes(objectives):
    """Every objective and key result of a board's OKR tree, depth first."""
    for objective in objectives:
        yield objective
        yield from objective.key_results
        yield from okr_nodes(objective.children)


@pytest.mark.parametrize(
    ("size", "confidence"),
    [((80, 24), "{glyph} conf"), ((100, 30), "conf: {words}")],
    ids=["80x24", "100x30"],
)
async def test_okr_tree_marks_are_readable_at_80_and_100_columns(tmp_path: Path, size, confidence):
    from kpitui.engine.board import STATUS_GLYPHS, KrView
    from kpitui.tui.text import status_label
    from kpitui.tui.widgets.okr_tree import OkrTree
    from tests.tui.snapshot_apps.sample_world import make_sample_app

    # Given the sample board's OKR page, whose check-ins carry a confidence
    app = make_sample_app(tmp_path)
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        await pilot.press("2")
        await settle(pilot)
        tree = app.query_one("#p1-okrs-okrs", OkrTree)
        nodes = list(okr_nodes(app.board.okrs))
        assert any(isinstance(n, KrView) and n.confidence for n in nodes)
        room = tree.size.width - tree.styles.scrollbar_size_vertical
        for node in nodes:
            kind = "kr" if isinstance(node, KrView) else "objective"
            tree_node = tree.node_for(kind, node.id)
            label = tree_node.label.plain
            # Then status, due mark, owner and confidence are all there, uncut
            marks = [status_label(node.status).plain]
            if kind == "kr" and node.checkin_due:
                marks.append("⏰ due")
            if node.owner:
                marks.append(f"@{node.owner}")
            if kind == "kr" and node.confidence:
                marks.append(
                    confidence.format(
                        glyph=STATUS_GLYPHS[node.confidence],
                        words=node.confidence.replace("_", " "),
                    )
                )
            assert "  ".join(marks[1:]) in label, label
            assert marks[0] in label, label
            # And a title too long for its column ends in "…", never cut mid-word
            bar_at = re.search(r" [█░│·]", label).start()
            shown_title = label[:bar_at].rstrip()
            assert node.title.startswith(shown_title) or (
                shown_title.endswith("…") and node.title.startswith(shown_title[:-1])
            ), label
            # And nothing is wider than the tree: it never scrolls sideways
            assert tree._prefix_width((kind, node.id)) + tree_node.label.cell_len <= room
        # Worked example: the overdue "Hire 4 support leads", at risk by its last check-in
        hire = tree.node_for("kr", "hire-support-leads").label.plain
        words = {"{glyph} conf": "▲ conf", "conf: {words}": "conf: at risk"}[confidence]
        assert f"✖ off track  ⏰ due  @Priya  {words}" in hire, hire


async def test_the_help_screen_is_not_covered_by_toasts(tmp_path: Path):
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        app.clear_notifications()  # activation's, at warn when the board opened
        # Given a toast on the board
        app.notify("MRR: ✔ ok → ✖ crit", timeout=30)
        await pilot.pause()
        assert len(app._notifications) == 1
        # When the keys are shown / Then no toast lies over them
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        assert len(app._notifications) == 0


async def test_after_a_resize_the_focused_panel_is_scrolled_into_view(tmp_path: Path):
    from tests.tui.snapshot_apps.sample_world import make_sample_app

    app = make_sample_app(tmp_path)
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        # Given the last panel of the page focused on a large terminal
        page = app.current_page()
        last = page.panel_widgets()[-1]
        app.focus_panel(last)
        await settle(pilot)
        assert app.focused is last
        # When the terminal shrinks to 80x24, the rows reflowing to one or two columns
        await pilot.resize_terminal(80, 24)
        await settle(pilot)
        await pilot.pause()
        # Then the focused panel is still on screen
        shown = page.region
        assert app.focused is last
        assert last.region.y < shown.bottom and last.region.bottom > shown.y, (
            last.region,
            shown,
        )
