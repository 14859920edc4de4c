"""Issue 20 on screen: forecasts in the OKR tree, `c` for a chart's comparison line,
annotation marks, the chart detail's ranges and `m`, and the board's chart range `t`."""

from __future__ import annotations

from pathlib import Path

from kpitui.store import open_writer
from kpitui.tui.header import BoardHeader
from kpitui.tui.screens.chart_detail import ChartDetailScreen
from kpitui.tui.widgets.chart_panel import ChartPanel
from kpitui.tui.widgets.okr_tree import OkrTree
from tests.tui.snapshot_apps.app_world import screen_text, settle
from tests.tui.snapshot_apps.sample_world import AS_OF, make_sample_app

DAY = 86400


def annotate(tmp_path: Path, *marks: tuple[int, str, tuple[str, ...]]) -> None:
    with open_writer(tmp_path / "metrics.db") as writer:
        for ts, text, metrics in marks:
            writer.write_annotation(ts, text, metrics)


def sample_with_marks(tmp_path: Path):
    app = make_sample_app(tmp_path)
    annotate(
        tmp_path,
        (AS_OF - 3 * DAY, "v2.4 [b]released[/b]", ("mrr",)),
        (AS_OF - 40 * DAY, "pricing change", ("mrr",)),
        (AS_OF - 2 * DAY, "latency fix", ("page_latency_ms",)),
    )
    return app


async def test_c_draws_the_comparison_line_named_in_the_legend(tmp_path: Path):
    # Given the sample board at 160×48, focus on the latency chart (p90 over 7 days)
    app = make_sample_app(tmp_path)
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        assert app.go_to("chart", "latency")
        await settle(pilot)
        panel = app.focused
        assert isinstance(panel, ChartPanel) and not panel.comparison
        view = panel.view
        # The board holds the line of the 7 days before, moved onto this week
        assert view.comparison_label == "previous 7d"
        [earlier] = view.comparison
        assert earlier.name == "page_latency_ms · previous 7d"
        assert [t for t, _ in earlier.points] == [t for t, _ in view.series[0].points]
        assert "c Compare" in screen_text(app).splitlines()[-1]
        builds = panel.replots
        # When c is pressed
        await pilot.press("c")
        await pilot.pause()
        # Then the chart is drawn again with it, dotted, and the legend names it
        assert panel.comparison and panel.replots == builds + 1
        legend = str(panel.query_one("#legend").render())
        assert "·· previous 7d" in legend
        # And c again hides it
        await pilot.press("c")
        await pilot.pause()
        assert not panel.comparison
        assert "previous 7d" not in str(panel.query_one("#legend").render())


async def test_a_chart_with_nothing_to_compare_leaves_c_off(tmp_path: Path):
    # Given MRR by plan over 180 days, on a store holding 60: nothing 180 days earlier
    app = make_sample_app(tmp_path)
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        assert app.go_to("chart", "mrr-by-plan")
        await settle(pilot)
        panel = app.focused
        assert panel.view.comparison_label == "previous 180d" and panel.view.comparison == ()
        # When c is pressed, Then it says there is nothing to compare with
        await pilot.press("c")
        await pilot.pause()
        assert "(nothing to compare with)" in str(panel.query_one("#legend").render())


async def test_annotations_are_marked_on_the_charts_of_their_metrics(tmp_path: Path):
    # Given a release and a pricing change on mrr, a fix on latency
    app = sample_with_marks(tmp_path)
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        mrr = app.board.chart("mrr-by-plan")
        # Then the MRR chart holds mrr's marks (both are within its 180 days), oldest first
        assert [a.text for a in mrr.annotations] == ["pricing change", "v2.4 [b]released[/b]"]
        # And its legend names the latest, as written: the markup is shown, not applied
        assert app.go_to("chart", "mrr-by-plan")
        await settle(pilot)
        legend = str(app.focused.query_one("#legend").render())
        assert "│ v2.4 [b]released[/b] +1" in legend
        # And the board lists those in its windows for the snapshots
        assert {a.text for a in app.board.annotations} >= {"v2.4 [b]released[/b]", "latency fix"}


async def test_chart_detail_ranges_buckets_and_jumping_to_a_mark(tmp_path: Path):
    app = sample_with_marks(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        app.open_chart_detail("mrr-by-plan")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, ChartDetailScreen)
        assert screen.view.window == "180d"
        # When 1 is pressed: the chart over 7 days, in days as the KPI detail picks for
        # daily points (never finer than the metric's spacing)
        await pilot.press("1")
        await settle(pilot)
        assert screen.loads == 1
        assert (screen.view.window, screen.view.bucket) == ("7d", DAY)
        assert "7d window · 1d buckets" in screen_text(app)
        # And ] makes the buckets coarser, [ finer again, and finer still if asked
        await pilot.press("right_square_bracket")
        await settle(pilot)
        assert screen.view.bucket == 7 * DAY
        await pilot.press("left_square_bracket")
        await settle(pilot)
        assert screen.view.bucket == DAY
        await pilot.press("left_square_bracket")
        await settle(pilot)
        assert screen.view.bucket == 6 * 3600
        # And 0 shows everything the store holds (60 days of sample data)
        await pilot.press("0")
        await settle(pilot)
        assert screen.view.window == "all"
        first = min(t for s in screen.view.series for t, _ in s.points)
        assert AS_OF - first >= 59 * DAY
        # When m is pressed: the oldest mark, the pricing change 40 days ago, zoomed to 90d
        await pilot.press("m")
        await settle(pilot)
        assert screen.mark is not None and screen.mark.text == "pricing change"
        assert screen.view.window == "90d"
        marks = str(screen.query_one("#cd-marks").render())
        assert "▸ " in marks and "pricing change" in marks.split("▸ ")[1].splitlines()[0]
        # And m again: the release 3 days ago, zoomed to 7d
        await pilot.press("m")
        await settle(pilot)
        assert screen.mark.text == "v2.4 [b]released[/b]"
        assert screen.view.window == "7d"
        # And a new board keeps the picked range
        app.poll_now(force=True)
        await settle(pilot)
        assert screen.view.window == "7d"


async def test_t_cycles_the_boards_chart_range_shown_in_the_header(tmp_path: Path):
    app = make_sample_app(tmp_path)
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        assert app.board.chart("mrr-by-plan").window == "180d"
        # When t is pressed: every chart over 7 days, said in the header
        await pilot.press("t")
        await settle(pilot)
        assert app.board.chart_range == "7d"
        assert {c.window for c in app.board.charts} == {"7d"}
        header = str(app.query_one(BoardHeader).query_one("#header-status").render())
        assert "charts 7d" in header
        # And each chart is bucketed as the KPI detail buckets that range: MRR (a point a
        # day) in days, not the 6h of 3 gaps in 4; latency (every 15 min) in 6h
        buckets = {c.id: c.bucket for c in app.board.charts}
        assert buckets == {"mrr-by-plan": DAY, "latency": 6 * 3600}
        # And on through 30d, 90d, 1y back to each chart's own window
        expected_buckets = {
            "30d": {"mrr-by-plan": DAY, "latency": 6 * 3600},
            "90d": {"mrr-by-plan": DAY, "latency": DAY},
            "1y": {"mrr-by-plan": 7 * DAY, "latency": 7 * DAY},  # never a year of hours
            None: {"mrr-by-plan": 7 * DAY, "latency": 6 * 3600},  # their own again
        }
        for expected in ("30d", "90d", "1y", None):
            await pilot.press("t")
            await settle(pilot)
            assert app.board.chart_range == expected
            assert {c.id: c.bucket for c in app.board.charts} == expected_buckets[expected]
        assert app.board.chart("mrr-by-plan").window == "180d"
        assert "charts" not in str(app.query_one(BoardHeader).query_one("#header-status").render())
        # And the spec file is never written
        assert "chart_range" not in (tmp_path / "dashboard.yaml").read_text(encoding="utf-8")


async def test_the_okr_tree_shows_where_each_node_is_heading(tmp_path: Path):
    app = make_sample_app(tmp_path)
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        await pilot.press("2")
        await settle(pilot)
        tree = app.query_one(OkrTree)
        assert tree is not None
        kr = app.board.key_result("trial-conversions")
        assert kr.forecast is not None and kr.forecast.has_forecast
        # Then its line ends with its forecast's progress and status glyph
        line = next(t for t in screen_text(app).splitlines() if "trial conversions" in t)
        assert kr.forecast.compact in line, line
        assert "→ forecast at period end" in screen_text(app)


async def test_the_kpi_detail_draws_its_comparison_line_and_marks(tmp_path: Path):
    # Given MRR (compared with the previous period) with a release 3 days ago
    app = sample_with_marks(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        app.open_kpi_detail("mrr")
        await settle(pilot)
        screen = app.screen
        chart = screen.query_one("#kd-chart", ChartPanel)
        # Then its chart over 30 days holds the 30 days before, moved onto these
        view = chart.view
        assert view.comparison_label == "previous 30d"
        [earlier] = view.comparison
        assert [t for t, _ in earlier.points] == [t for t, _ in view.series[0].points]
        # And the marks on mrr in range: the release, not the pricing change 40 days ago
        assert [a.text for a in view.annotations] == ["v2.4 [b]released[/b]"]
        assert "│ v2.4 [b]released[/b]" in str(chart.query_one("#legend").render())
        # When the chart has focus and c is pressed, Then the dotted line is named
        chart.focus()
        await pilot.press("c")
        await pilot.pause()
        assert chart.comparison
        assert "·· previous 30d" in str(chart.query_one("#legend").render())
        # And with a label filter on, c clears the filter first (its old meaning)
        screen.label_filter = ("plan", "pro")
        screen.refresh_bindings()
        await pilot.press("c")
        await settle(pilot)
        assert screen.label_filter is None and chart.comparison


def chart_rows(app, panel_id: str) -> list[str]:
    """The lines inside the chart panel `panel_id`: its legend, then its plot."""
    region = app.screen.query_one(panel_id).region
    return screen_text(app).splitlines()[region.y + 1 : region.bottom - 1]


async def test_m_in_the_kpi_detail_jumps_through_the_marks_in_range(tmp_path: Path):
    # Given MRR with a release 3 days ago, an outage on every chart 10 days ago and a
    # pricing change 40 days ago, at 80×24
    app = sample_with_marks(tmp_path)
    annotate(tmp_path, (AS_OF - 10 * DAY, "EU outage", ()))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        app.open_kpi_detail("mrr")
        await settle(pilot)
        screen = app.screen
        chart = screen.query_one("#kd-chart", ChartPanel)
        listed = screen.query_one("#kd-marks")
        # Then the marks of the 30 days shown are listed, newest first, times in Berlin,
        # the markup shown as written; the footer offers m
        text = str(listed.render())
        assert text.splitlines() == [
            "Marks in the last 30 days: 2 · times Europe/Berlin · m: next",
            "│ 2026-11-21 13:00  v2.4 [b]released[/b]",
            "│ 2026-11-14 13:00  EU outage",
        ]
        await pilot.pause()  # the footer fits its keys once they are laid out
        footer = screen_text(app).splitlines()[-1]
        # (every key whole: the palette's key, which ? lists too, gives way to them)
        assert footer.split() == [
            *("esc", "Back", "1", "2", "3", "4", "0", "range", "[", "]", "bucket"),
            *("m", "Mark", "?", "Keys", "q", "Quit", "r", "Refresh"),
        ], footer
        assert "┃" not in "".join(chart_rows(app, "#kd-chart"))
        # When m is pressed: the oldest in range is chosen, drawn as a heavy rule
        await pilot.press("m")
        await pilot.pause()
        assert chart.chosen_mark == screen.mark == "annotation:4"
        lines = str(listed.render()).splitlines()
        assert lines[0] == "Marks in the last 30 days: 2 · 1 of 2 · times Europe/Berlin · m: next"
        assert lines[2] == "▸ 2026-11-14 13:00  EU outage"
        plot = chart_rows(app, "#kd-chart")
        assert "┃ EU outage" in plot[0]  # the legend names it
        assert sum("┃" in row for row in plot[1:]) >= 5  # a rule across the plot
        # And m again: the release; and again: round to the outage
        await pilot.press("m")
        await pilot.pause()
        assert screen.mark == "annotation:1"
        assert str(listed.render()).splitlines()[1] == "▸ 2026-11-21 13:00  v2.4 [b]released[/b]"
        await pilot.press("m")
        await pilot.pause()
        assert screen.mark == "annotation:4"
        # When the range is 90 days: the pricing change is listed too, the choice kept
        await pilot.press("3")
        await settle(pilot)
        lines = str(listed.render()).splitlines()
        assert lines[0].startswith("Marks in the last 90 days: 3 · 2 of 3")
        assert lines[-1] == "│ 2026-10-15 14:00  pricing change"  # summer time then
        assert chart.chosen_mark == "annotation:4"
        # And ? lists m
        await pilot.press("question_mark")
        await pilot.pause()
        assert "Jump to the next annotation in range" in screen_text(app)


async def test_m_in_the_key_result_detail_steps_through_its_check_in_notes(tmp_path: Path):
    app = make_sample_app(tmp_path)
    async with app.run_test(size=(100, 40)) as pilot:
        await settle(pilot)
        app.open_kr_detail("kr", "launch-mobile-app")
        await settle(pilot)
        screen = app.screen
        notes = [c for c in screen.detail.checkins if c.note]
        listed = screen.query_one("#kr-marks")
        # Then its check-in notes are listed as marks, newest first
        lines = str(listed.render()).splitlines()
        assert lines[0].startswith(f"Marks in 2026-Q4 so far: {len(notes)} · times Europe/Berlin")
        assert lines[1].endswith(f"check-in: {notes[0].note}")
        # When m is pressed: the oldest note, drawn apart on the progress chart
        await pilot.press("m")
        await pilot.pause()
        oldest = notes[-1]
        history = screen.query_one("#kr-history", ChartPanel)
        assert history.chosen_mark == screen.mark == f"checkin:{oldest.id}"
        chosen = next(line for line in str(listed.render()).splitlines() if line.startswith("▸"))
        assert chosen.endswith(f"check-in: {oldest.note}")
        assert sum("┃" in row for row in chart_rows(app, "#kr-history")[1:]) >= 5
        # And the footer and ? offer m
        assert "m Mark" in screen_text(app).splitlines()[-1]
        await pilot.press("question_mark")
        await pilot.pause()
        await settle(pilot)
        assert "Jump to the next annotation or check-in note" in screen_text(app), screen_text(app)


async def test_the_chart_details_key_hints_fit_80_columns(tmp_path: Path):
    # Given the MRR chart's detail at 80×24, marks in range and a comparison to name
    app = sample_with_marks(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        app.open_chart_detail("mrr-by-plan")
        await settle(pilot)
        hints = app.screen.query_one("#cd-hints")
        # Then the hints are one line within the screen, nothing cut, and the marks'
        # heading starts the next line
        assert hints.region.height == 1
        rendered = str(hints.render())
        assert rendered == "[ ] buckets · c compare with previous 180d"
        assert len(rendered) + 2 <= 80
        lines = screen_text(app).splitlines()
        at = next(i for i, line in enumerate(lines) if line.startswith(" [ ] buckets"))
        assert lines[at].rstrip() == f" {rendered}"
        assert lines[at + 1].startswith(" Marks in the 180d window: 2 · times Europe/Berlin")
        assert "m: next" in lines[at + 1]
        assert all(len(line) <= 80 for line in lines)


async def test_m_on_a_chart_already_over_the_marks_range_chooses_it_in_place(tmp_path: Path):
    # Given the latency chart (its own 7 days, 6h buckets) with a fix 2 days ago on it
    app = sample_with_marks(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        app.open_chart_detail("latency")
        await settle(pilot)
        screen = app.screen
        # When m is pressed: the range that holds it is 7d, in the same buckets
        await pilot.press("m")
        await settle(pilot)
        # Then the very same chart shows the fix chosen: a heavy rule, ▸ in the list
        assert screen.mark is not None and screen.mark.text == "latency fix"
        assert (screen.view.window, screen.view.bucket) == ("7d", 6 * 3600)
        assert screen.query_one("#cd-chart", ChartPanel).chosen_mark == screen.mark.key
        assert "▸ 2026-11-22 13:00  latency fix" in str(screen.query_one("#cd-marks").render())


async def test_c_on_a_key_results_value_chart_draws_last_quarter(tmp_path: Path):
    # Given MRR's key result (the sample holds the last days of Q3 too)
    app = make_sample_app(tmp_path)
    async with app.run_test(size=(100, 40)) as pilot:
        await settle(pilot)
        app.open_kr_detail("kr", "mrr-200k")
        await settle(pilot)
        chart = app.screen.query_one("#kr-metric", ChartPanel)
        assert chart.view.comparison_label == "last quarter" and not chart.comparison
        # When the value chart has focus and c is pressed
        chart.focus()
        await pilot.press("c")
        await pilot.pause()
        # Then the dotted line of last quarter is drawn and named
        assert chart.comparison
        assert "·· last quarter" in str(chart.query_one("#legend").render())
