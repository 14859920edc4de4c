"""Chart series, reference lines, pages and board order."""

from __future__ import annotations

from kpitui.engine.board import Panel, RefLine
from tests.engine.conftest import AS_OF, DAY, HOUR, board_of
from tests.engine.fakes import FakeReader


def _mrr_reader() -> FakeReader:
    reader = FakeReader()
    for d in range(10):
        reader.add("mrr", {"plan": "pro"}, AS_OF - d * DAY, 800 + d)
        reader.add("mrr", {"plan": "team"}, AS_OF - d * DAY, 200 + d)
    return reader


def test_chart_of_one_metric_with_reference_lines_from_its_kpi():
    # Given an MRR KPI with target and "90%" warn, and a 7d chart of MRR in daily buckets
    board = board_of(
        _mrr_reader(),
        kpis=[
            {
                "metric": "mrr",
                "format": "currency",
                "currency": "USD",
                "target": 1200,
                "warn": "90%",
                "crit": 900,
            }
        ],
        charts=[{"title": "MRR", "metrics": ["mrr"], "window": "7d", "bucket": "1d"}],
    )
    chart = board.chart("chart-mrr")
    # Then one series of 7 daily totals, oldest first, and the KPI's lines and format
    assert chart is not None
    assert [s.name for s in chart.series] == ["mrr"]
    assert [v for _, v in chart.series[0].points] == [1012, 1010, 1008, 1006, 1004, 1002, 1000]
    assert chart.ref_lines == (RefLine("target", 1200), RefLine("warn", 1080), RefLine("crit", 900))
    assert (chart.format, chart.bucket, chart.window) == ("currency", DAY, "7d")


def test_chart_split_by_label():
    board = board_of(
        _mrr_reader(),
        charts=[
            {
                "id": "by-plan",
                "metrics": ["mrr"],
                "split_by": "plan",
                "window": "3d",
                "bucket": "1d",
            }
        ],
    )
    chart = board.chart("by-plan")
    assert [s.name for s in chart.series] == ["pro", "team"]
    assert [v for _, v in chart.series[0].points] == [802, 801, 800]
    assert chart.ref_lines == ()


def test_chart_of_several_metrics_has_no_reference_lines():
    reader = FakeReader([("dau", {}, AS_OF - HOUR, 5), ("mau", {}, AS_OF - HOUR, 50)])
    board = board_of(
        reader,
        kpis=[{"metric": "dau", "target": 10}],
        charts=[{"id": "users", "metrics": ["dau", "mau"], "window": "1d", "bucket": "1h"}],
    )
    chart = board.chart("users")
    assert [s.name for s in chart.series] == ["dau", "mau"]
    assert chart.ref_lines == ()


def test_chart_of_a_derived_metric_and_its_format():
    reader = FakeReader([("dau", {}, AS_OF - HOUR, 5), ("mau", {}, AS_OF - HOUR, 50)])
    board = board_of(
        reader,
        metrics={"stickiness": {"formula": "dau / mau", "format": "percent"}},
        charts=[{"id": "s", "metrics": ["stickiness"], "window": "1d", "bucket": "1d"}],
    )
    chart = board.chart("s")
    assert [v for _, v in chart.series[0].points] == [0.1]
    assert chart.format == "percent"


def test_split_chart_of_a_derived_metric_that_refers_to_itself_shows_error():
    # Given a derived metric whose formula names itself (a spec built without `check`)
    reader = FakeReader([("mrr", {"plan": "pro"}, AS_OF - HOUR, 5)])
    # When a chart splits it by a label
    board = board_of(
        reader,
        metrics={"loop": {"formula": "loop + mrr"}},
        charts=[
            {"id": "c", "metrics": ["loop"], "split_by": "plan", "window": "1d", "bucket": "1d"}
        ],
    )
    # Then the chart shows the reason instead of recursing without end
    chart = board.chart("c")
    assert chart.series == ()
    assert "refers to itself" in (chart.error or "")


def test_chart_buckets_are_widened_to_at_most_1000():
    board = board_of(
        FakeReader(), charts=[{"id": "c", "metrics": ["m"], "window": "365d", "bucket": "1m"}]
    )
    chart = board.chart("c")
    assert 365 * DAY / chart.bucket <= 1000


def test_chart_error_is_shown_not_raised():
    reader = FakeReader()
    reader.fail_metrics = {"m"}
    chart = board_of(reader, charts=[{"id": "c", "metrics": ["m"]}]).chart("c")
    assert chart.series == ()
    assert "broken" in (chart.error or "")


def test_board_order_is_north_star_first_then_spec_order():
    board = board_of(
        FakeReader(),
        kpis=[
            {"metric": "a"},
            {"metric": "b"},
            {"metric": "c", "north_star": True},
            {"metric": "d"},
        ],
    )
    assert [k.id for k in board.kpis] == ["c", "a", "b", "d"]


def test_default_page_north_star_rows_of_four_charts_okrs_alerts():
    kpis = [{"metric": f"k{i}"} for i in range(6)] + [{"metric": "star", "north_star": True}]
    board = board_of(
        FakeReader(),
        kpis=kpis,
        charts=[{"id": "c1", "metrics": ["k0"]}, {"id": "c2", "metrics": ["k1"]}],
        okrs=[{"title": "O"}],
    )
    (page,) = board.pages
    ids = [[p.id for p in row] for row in page.rows]
    assert ids == [
        ["star"],
        ["k0", "k1", "k2", "k3"],
        ["k4", "k5"],
        ["c1"],
        ["c2"],
        ["okrs"],
        ["alerts"],
    ]
    assert page.rows[-2] == (Panel("okrs", "okrs"),)


def test_default_page_without_objectives_has_no_okrs_panel():
    board = board_of(FakeReader(), kpis=[{"metric": "a"}])
    assert [[p.kind for p in row] for row in board.pages[0].rows] == [["kpi"], ["alerts"]]


def test_layout_pages_resolve_panel_kinds():
    board = board_of(
        FakeReader(),
        kpis=[{"metric": "mrr"}, {"metric": "churn"}],
        charts=[{"id": "trend", "metrics": ["mrr"]}],
        okrs=[{"title": "Grow", "children": [{"title": "Retain"}]}],
        layout={
            "pages": [
                {"title": "Money", "rows": [["mrr", "churn"], ["trend"]]},
                {"rows": [["okrs", "retain"], ["alerts"]]},
            ]
        },
    )
    money, second = board.pages
    assert money.title == "Money"
    assert money.rows == ((Panel("mrr", "kpi"), Panel("churn", "kpi")), (Panel("trend", "chart"),))
    assert second.title == "Page 2"
    assert second.rows == (
        (Panel("okrs", "okrs"), Panel("retain", "objective")),
        (Panel("alerts", "alerts"),),
    )


def test_reference_lines_only_from_a_kpi_on_the_chart_scale():
    # Given a weekly signups KPI (target 700) and a daily one (target 100)
    reader = FakeReader([("signups", {}, AS_OF - HOUR, 90)])
    kpis = [
        {"id": "weekly", "metric": "signups", "agg": "sum", "window": "7d", "target": 700},
        {
            "id": "daily",
            "metric": "signups",
            "agg": "sum",
            "window": "1d",
            "target": 100,
            "warn": 80,
        },
        {
            "id": "eu",
            "metric": "signups",
            "agg": "sum",
            "window": "1d",
            "labels": {"region": "eu"},
            "target": 5,
        },
    ]
    charts = [
        {"id": "per-day", "metrics": ["signups"], "agg": "sum", "bucket": "1d"},
        {"id": "per-week", "metrics": ["signups"], "agg": "sum", "bucket": "7d"},
        {"id": "per-hour", "metrics": ["signups"], "agg": "sum", "bucket": "1h"},
        {
            "id": "by-region",
            "metrics": ["signups"],
            "agg": "sum",
            "bucket": "1d",
            "split_by": "region",
        },
        {
            "id": "eu-daily",
            "metrics": ["signups"],
            "agg": "sum",
            "bucket": "1d",
            "labels": {"region": "eu"},
        },
        {"id": "average", "metrics": ["signups"], "agg": "avg", "bucket": "1d"},
    ]
    board = board_of(reader, kpis=kpis, charts=charts)
    lines = {c.id: c.ref_lines for c in board.charts}
    # Then each chart draws the KPI whose window is its bucket, with the same labels and agg
    assert lines["per-day"] == (RefLine("target", 100), RefLine("warn", 80))
    assert lines["per-week"] == (RefLine("target", 700),)
    assert lines["eu-daily"] == (RefLine("target", 5),)
    # And none where no KPI is on the chart's scale, nor on a split chart
    assert lines["per-hour"] == lines["by-region"] == lines["average"] == ()


def test_chart_format_comes_from_a_kpi_on_its_metric():
    reader = FakeReader([("churn_rate", {}, AS_OF - HOUR, 0.02)])
    board = board_of(
        reader,
        kpis=[{"metric": "churn_rate", "format": "percent", "direction": "down"}],
        charts=[{"id": "churn", "metrics": ["churn_rate"]}],
    )
    assert board.chart("churn").format == "percent"
    assert board.chart("churn").ref_lines == ()


# -- charts bucket as sparklines do (docs/spec.md `spark`) -------------------------------


def _gappy_reader() -> FakeReader:
    """Latency and signups on days 9, 8, 7 and 3, 2, 1 before as-of (none on 6, 5, 4);
    a weekly active-users count for the last four weeks; stock MRR on days 9 and 3."""
    reader = FakeReader()
    for d in (9, 8, 7, 3, 2, 1):
        reader.add("latency", {}, AS_OF - d * DAY, 200 + d)
        reader.add("signups", {}, AS_OF - d * DAY, 10)
    for w in range(4):
        reader.add("wau", {}, AS_OF - 2 * HOUR - w * 7 * DAY, 100 + w)
    for d in (9, 3):
        reader.add("mrr", {}, AS_OF - d * DAY, 1000 + d)
    return reader


def _chart_values(metric: str, agg: str, window: str):
    board = board_of(
        _gappy_reader(),
        charts=[{"id": "c", "metrics": [metric], "window": window, "bucket": "1d", "agg": agg}],
    )
    chart = board.chart("c")
    return chart, [v for _, v in chart.series[0].points]


def test_a_chart_keeps_a_gap_of_days_as_a_gap_drawn_apart():
    # Given latency with no points on days 6..4 / When charted as avg per day over 10d
    chart, values = _chart_values("latency", "avg", "10d")
    # Then every day keeps its place (Nov 15..24): the empty days are gaps, and today,
    # with no point yet, too
    assert values == [209, 208, 207, None, None, None, 203, 202, 201, None]
    # And the line is drawn in two runs, never joined across the gap
    runs = [[v for _, v in run] for run in chart.series[0].segments()]
    assert runs == [[209, 208, 207], [203, 202, 201]]


def test_an_empty_bucket_of_a_flow_chart_is_zero():
    # Given the same days of signups / When charted as sum per day
    _, values = _chart_values("signups", "sum", "10d")
    # Then the days without signups are 0 (nothing happened), today's too
    assert values == [10, 10, 10, 0, 0, 0, 10, 10, 10, 0]


def test_weekly_data_in_daily_buckets_is_one_value_a_week():
    # Given a weekly count / When charted as avg per day over 28d
    chart, values = _chart_values("wau", "avg", "28d")
    # Then one day in seven has a value and the others are gaps, not the weekly value
    # repeated (nor a line joining the weeks as if every day had one)
    known = [(i, v) for i, v in enumerate(values) if v is not None]
    assert known == [(6, 103), (13, 102), (20, 101), (27, 100)]
    assert [len(run) for run in chart.series[0].segments()] == [1, 1, 1, 1]
    # And as a sum, the six days between are 0
    _, sums = _chart_values("wau", "sum", "28d")
    assert [v for v in sums[6:] if v] == [103, 102, 101, 100] and sums[7:13] == [0] * 6


def test_a_series_starting_mid_range_starts_mid_chart():
    # Given weekly data for 22 days / When charted over 28d
    chart, values = _chart_values("wau", "avg", "28d")
    # Then the time axis is the whole window, from its first day, and the days before
    # the first point are gaps (for a flow, 0: nothing happened)
    lo, hi = chart.x_range
    assert (hi - lo) // DAY == 27 and lo == chart.series[0].points[0][0]
    assert values[:6] == [None] * 6
    _, sums = _chart_values("wau", "sum", "28d")
    assert sums[:6] == [0] * 6  # a flow's empty bucket is 0 wherever it is


def test_a_last_chart_is_carried_between_points_and_stops_at_the_newest():
    # Given stock MRR written on days 9 and 3 / When charted as last per day
    _, values = _chart_values("mrr", "last", "10d")
    # Then nothing before the first point, each value held until the next point (the
    # stock still is that), and nothing after the newest point: old data never looks
    # current
    assert values == [1009, 1009, 1009, 1009, 1009, 1009, 1003, None, None, None]


def test_a_chart_says_what_it_reads_in_the_engines_words():
    from kpitui.engine.board import ChartView

    # Given a chart over 180 days in weekly buckets of the latest value, and one with no
    # window of its own (a range the user picked)
    weekly = ChartView(
        id="c", title="MRR", window="180d", bucket=7 * 86400, series=(), bucket_label="1w"
    )
    picked = ChartView(id="c", title="MRR", window="", bucket=86400, series=(), bucket_label="1d")
    # Then its words name the window, the buckets and the agg of each bucket
    assert weekly.reading_words == "180d window · 1w buckets · last per bucket"
    assert picked.reading_words == "1d buckets · last per bucket"
