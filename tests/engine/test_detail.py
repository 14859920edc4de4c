"""The numbers behind the drill-down screens, on a real temporary store at a fixed as-of.

Every expected number is computed here, in the test, from the points the test wrote.
"""

from __future__ import annotations

from datetime import UTC, date

import pytest

from kpitui.engine import evaluate
from kpitui.engine.detail import (
    DetailNotFound,
    auto_bucket,
    day_grid,
    kpi_detail,
    kr_detail,
    step_bucket,
)
from kpitui.spec.models import Dashboard, convert
from kpitui.timeutil import Period, parse_time

HOUR = 3600
DAY = 86400
# Tuesday 24 November 2026, noon UTC.
AS_OF = parse_time("2026-11-24T12:00:00Z")
Q4_START = parse_time("2026-10-01")
Q4_END = parse_time("2027-01-01")


def make_store(tmp_path, points=(), checkins=()):
    """A store file holding `points` (metric, labels, ts, value) and `checkins`."""
    from kpitui.store import open_reader, open_writer

    path = tmp_path / "metrics.db"
    with open_writer(path) as writer:
        if points:
            writer.write_points(points)
        for kr_id, ts, value, confidence, note in checkins:
            writer.write_checkin(kr_id, ts, value, confidence=confidence, note=note)
    return open_reader(path)


@pytest.fixture
def reader_of(tmp_path):
    opened = []

    def build(points=(), checkins=()):
        reader = make_store(tmp_path, points, checkins)
        opened.append(reader)
        return reader

    yield build
    for reader in opened:
        reader.close()


def spec_of(**data) -> Dashboard:
    return convert({"timezone": "UTC", "period": {"quarter": "2026-Q4"}, **data})


# Signups: one point a day at 14:00 UTC for the last 40 days, per plan.
# free on day d (d = 1 is yesterday) is 100 + d; pro is 10 * d.
def signup_points():
    points = []
    for d in range(1, 41):
        ts = AS_OF - d * DAY + 2 * HOUR
        points.append(("signups", {"plan": "free"}, ts, 100.0 + d))
        points.append(("signups", {"plan": "pro"}, ts, 10.0 * d))
    return points


SIGNUPS_KPI = {
    "id": "signups",
    "metric": "signups",
    "agg": "sum",
    "window": "7d",
    "target": 1500,
    "warn": 1200,
    "crit": 900,
}


def in_range(points, lo, hi, plan=None):
    return [
        (ts, v)
        for _, labels, ts, v in points
        if lo <= ts <= hi and (plan is None or labels.get("plan") == plan)
    ]


def independent_stats(points, days, plan=None):
    lo, hi = AS_OF - days * DAY + 1, AS_OF
    chosen = in_range(points, lo, hi, plan)
    values = [v for _, v in chosen]
    # `last` over several series adds up each series' last value in the range.
    lasts = {}
    for _, labels, ts, v in points:
        if lo <= ts <= hi and (plan is None or labels["plan"] == plan):
            key = labels["plan"]
            if key not in lasts or ts > lasts[key][0]:
                lasts[key] = (ts, v)
    return {
        "last": sum(v for _, v in lasts.values()),
        "min": min(values),
        "max": max(values),
        "avg": sum(values) / len(values),
        "sum": sum(values),
        "count": len(values),
    }


def stats_dict(stats):
    return {k: getattr(stats, k) for k in ("last", "min", "max", "avg", "total", "points")}


def independent_bucket_stats(points, days, bucket, plan=None):
    """The stats of a sum KPI's chart, computed apart from the engine: the range's
    buckets on the UTC grid (the first one widened back to its boundary), an empty bucket
    0; the total and the points count over the range itself."""
    lo = AS_OF - days * DAY + 1
    grid_lo = lo - lo % bucket
    chosen = in_range(points, grid_lo, AS_OF, plan)
    sums = [
        sum(v for ts, v in chosen if start <= ts < start + bucket)
        for start in range(grid_lo, AS_OF + 1, bucket)
    ]
    in_rng = [v for ts, v in chosen if ts >= lo]
    return {
        "last": sums[-1],
        "min": min(sums),
        "max": max(sums),
        "avg": sum(sums) / len(sums),
        "total": sum(in_rng),
        "points": len(in_rng),
    }


# -- buckets ---------------------------------------------------------------------------


def test_auto_bucket_keeps_the_chart_under_120_points():
    # Given the ranges / Then the finest ladder bucket with at most 120 points
    assert auto_bucket(7 * DAY) == 6 * HOUR  # 168 hourly points would be too many
    assert auto_bucket(30 * DAY) == 6 * HOUR  # exactly 120
    assert auto_bucket(90 * DAY) == DAY
    assert auto_bucket(365 * DAY) == 7 * DAY
    assert auto_bucket(2 * DAY) == HOUR


def test_auto_bucket_is_never_finer_than_the_points():
    # Given daily, weekly and a cron's drifting daily points / Then the bucket holds one
    assert auto_bucket(7 * DAY, spacing=DAY) == DAY
    assert auto_bucket(30 * DAY, spacing=DAY - 600) == DAY  # a few minutes early: daily
    assert auto_bucket(90 * DAY, spacing=7 * DAY) == 7 * DAY
    assert auto_bucket(30 * DAY, spacing=HOUR) == 6 * HOUR  # the 120-point cap rules
    assert auto_bucket(2 * DAY, spacing=None) == HOUR


def test_usual_spacing_is_the_median_series_gap_of_the_coarsest_metric():
    from kpitui.engine.spacing import usual_spacing
    from kpitui.store.api import Series, SeriesStats

    def stats(metric, labels, count, span):
        return SeriesStats(Series(0, metric, labels), count, AS_OF - span, AS_OF)

    found = [
        stats("signups", {"plan": "free"}, 31, 30 * DAY),  # daily
        stats("signups", {"plan": "pro"}, 5, 28 * DAY),  # weekly
        stats("signups", {"plan": "team"}, 31, 30 * DAY),  # daily
        stats("visits", {}, 721, 30 * DAY),  # hourly
        stats("single", {}, 1, 0),  # one point: no spacing
    ]
    # Then the median of signups' series is daily, of pro alone weekly; a ratio is as
    # coarse as its coarsest operand; one point says nothing
    assert usual_spacing(found, {"signups"}, {}) == DAY
    assert usual_spacing(found, {"signups"}, {"plan": "pro"}) == 7 * DAY
    assert usual_spacing(found, {"signups", "visits"}, {}) == DAY
    assert usual_spacing(found, {"visits"}, {}) == HOUR
    assert usual_spacing(found, {"single"}, {}) is None


def test_step_bucket_walks_the_ladder():
    assert step_bucket(6 * HOUR, -1) == HOUR
    assert step_bucket(HOUR, -1) == HOUR  # the finest stays
    assert step_bucket(DAY, +1) == 7 * DAY
    assert step_bucket(30 * DAY, +1) == 30 * DAY
    assert step_bucket(2 * DAY, -1) == DAY  # off-ladder buckets rejoin it


# -- KPI detail: stats over ranges ---------------------------------------------------------


def test_stats_run_over_the_charts_buckets(reader_of):
    # Given 40 days of signups for two plans, one point a day at 14:00
    points = signup_points()
    reader = reader_of(points)
    spec = spec_of(kpis=[SIGNUPS_KPI])
    # When the detail is read over 7d (its automatic bucket), over 30d in daily buckets
    # and over 7d in 6h buckets, finer than the points
    week = kpi_detail(spec, reader, "signups", AS_OF, "7d")
    month = kpi_detail(spec, reader, "signups", AS_OF, "30d", bucket=DAY)
    fine = kpi_detail(spec, reader, "signups", AS_OF, "7d", bucket=6 * HOUR)
    # Then min/max/avg/last are of the buckets the chart draws, not of single points
    assert week.error is None and week.bucket == DAY  # never finer than daily points
    assert stats_dict(week.stats) == pytest.approx(independent_bucket_stats(points, 7, DAY))
    assert stats_dict(month.stats) == pytest.approx(independent_bucket_stats(points, 30, DAY))
    assert stats_dict(fine.stats) == pytest.approx(independent_bucket_stats(points, 7, 6 * HOUR))
    # Worked example: 8 daily buckets (Nov 17..24), each holding that day's 100 + 11d
    # signups (d = 7..1: 177..111), today's 0: its 14:00 point is still to come
    s = week.stats
    assert (s.last, s.min, s.max, s.total, s.points, s.buckets) == (0, 0, 177, 1008, 14, 8)
    assert s.avg == pytest.approx(1008 / 8)
    assert s.min <= s.last <= s.max
    # In 6h buckets: 29, one a day holding the day's signups, the others 0
    f = fine.stats
    assert (f.last, f.min, f.max, f.buckets) == (0, 0, 177, 29)
    # And the block says so, beside the KPI's own number and window
    assert week.stats_heading == "sum per 1d · last 7d"
    assert fine.stats_heading == "sum per 6h · last 7d"
    assert dict(week.stats_rows)["sum of the range"] == "1,008"
    assert week.kpi_words == "1,008 = sum over 7d"


def test_the_comparison_is_the_boards(reader_of):
    # Given the same store / When the board and the detail are evaluated
    reader = reader_of(signup_points())
    spec = spec_of(kpis=[SIGNUPS_KPI])
    detail = kpi_detail(spec, reader, "signups", AS_OF, "90d")
    board = evaluate(spec, reader, AS_OF)
    # Then the detail carries the board's own KpiView
    assert detail.kpi == board.kpi("signups")
    # Worked example: previous 7d are days 8..14: free 777 + pro 770 = 1547
    assert detail.kpi.value == 1008
    assert detail.kpi.previous == 1547
    assert detail.kpi.delta == 1008 - 1547


def test_chart_buckets_the_range(reader_of):
    # Given daily points / When read over 30d with 1d buckets
    points = signup_points()
    reader = reader_of(points)
    detail = kpi_detail(spec_of(kpis=[SIGNUPS_KPI]), reader, "signups", AS_OF, "30d", bucket=DAY)
    # Then one chart point per day, each the sum of both plans that day
    series = detail.chart.series[0]
    assert detail.bucket == DAY and not detail.bucket_auto
    by_day = {}
    for _, _, ts, v in points:
        if ts > AS_OF - 30 * DAY:
            by_day[ts - ts % DAY] = by_day.get(ts - ts % DAY, 0) + v
    assert {t: v for t, v in series.points if v} == pytest.approx(by_day)
    # Every day keeps its place: today, with no point yet, is 0 (a flow), not left out
    assert len(series.points) == 31 and series.points[-1][1] == 0
    # And a weekly target is not drawn over daily sums: no point could be compared with it
    assert detail.chart.ref_lines == ()


def test_thresholds_are_drawn_where_points_compare_with_them(reader_of):
    # Given a weekly signups KPI and a stock MRR KPI
    reader = reader_of([*signup_points(), ("mrr", {}, AS_OF - DAY, 9000.0)])
    spec = spec_of(
        kpis=[SIGNUPS_KPI, {"id": "mrr", "metric": "mrr", "target": 10000, "warn": "90%"}]
    )
    # When the signups chart is bucketed by its own 7d window / Then the lines are drawn
    weekly = kpi_detail(spec, reader, "signups", AS_OF, "90d", bucket=7 * DAY)
    assert {(r.name, r.value) for r in weekly.chart.ref_lines} == {
        ("target", 1500),
        ("warn", 1200),
        ("crit", 900),
    }
    # And a stock metric's target compares with any bucket (warn resolved from "90%")
    mrr = kpi_detail(spec, reader, "mrr", AS_OF, "30d")
    assert {(r.name, r.value) for r in mrr.chart.ref_lines} == {("target", 10000), ("warn", 9000)}


def test_chart_points_stay_under_the_cap_for_fine_buckets(reader_of):
    # Given a year range and 1h asked for / Then it is coarsened to at most 1000 points
    reader = reader_of(signup_points())
    detail = kpi_detail(spec_of(kpis=[SIGNUPS_KPI]), reader, "signups", AS_OF, "1y", bucket=HOUR)
    assert 365 * DAY / detail.bucket <= 1000
    assert detail.bucket == DAY


def test_all_range_starts_at_the_first_point(reader_of):
    points = signup_points()
    reader = reader_of(points)
    detail = kpi_detail(spec_of(kpis=[SIGNUPS_KPI]), reader, "signups", AS_OF, "all")
    first = min(ts for _, _, ts, _ in points)
    assert detail.range.lo == first
    assert detail.stats.points == len(points)
    assert detail.stats.total == pytest.approx(sum(v for *_, v in points))
    assert detail.stats_heading == "sum per 1d · all data"


def test_last_point_time_and_age(reader_of):
    reader = reader_of(signup_points())
    detail = kpi_detail(spec_of(kpis=[SIGNUPS_KPI]), reader, "signups", AS_OF, "7d")
    # Then the newest point is yesterday 14:00, 22 hours before as-of
    assert detail.last_at == AS_OF - DAY + 2 * HOUR
    assert detail.age == 22 * HOUR


# -- KPI detail: labels ------------------------------------------------------------------


def test_label_breakdown_shares_and_deltas(reader_of):
    # Given signups by plan / When the detail is read
    reader = reader_of(signup_points())
    detail = kpi_detail(spec_of(kpis=[SIGNUPS_KPI]), reader, "signups", AS_OF, "30d")
    # Then one breakdown by plan, over the KPI's 7d window, biggest first
    (plan,) = detail.breakdowns
    assert plan.key == "plan"
    free, pro = plan.rows
    # free: days 1..7 = 728, previous days 8..14 = 777; pro: 280 and 770
    assert (free.value, free.current, free.previous) == ("free", 728, 777)
    assert (pro.value, pro.current, pro.previous) == ("pro", 280, 770)
    assert free.share == pytest.approx(728 / 1008)
    assert pro.share == pytest.approx(280 / 1008)
    assert free.delta == -49 and free.delta_pct == pytest.approx(-49 / 777)
    assert pro.delta == -490
    # And each row has a small trend over the chart's range: 30d in daily buckets
    assert 30 <= len(free.spark) <= 31
    assert free.spark[-2:] == (101, 0)  # yesterday's free signups; none yet today
    # And the shown texts come with it, in the KPI's format
    assert (free.current_display, free.share_display) == ("728", "72.2%")
    assert free.delta_display == "▼ -49 (-6.3%)" and free.delta_good is False


def test_label_filter_narrows_chart_and_stats(reader_of):
    # Given signups by plan / When filtered to plan=pro
    points = signup_points()
    reader = reader_of(points)
    detail = kpi_detail(
        spec_of(kpis=[SIGNUPS_KPI]), reader, "signups", AS_OF, "7d", label_filter=("plan", "pro")
    )
    # Then the stats are pro's alone, the chart is named after the filter
    expected = independent_bucket_stats(points, 7, DAY, plan="pro")
    assert stats_dict(detail.stats) == pytest.approx(expected)
    assert detail.chart.series[0].name == "plan=pro"
    assert sum(v for _, v in detail.chart.series[0].points if v is not None) == 280
    # And the KPI value and the breakdown are still the whole KPI's
    assert detail.kpi.value == 1008
    assert len(detail.breakdowns[0].rows) == 2


def test_no_share_for_aggs_that_do_not_add_up(reader_of):
    reader = reader_of(signup_points())
    kpi = {**SIGNUPS_KPI, "agg": "avg"}
    detail = kpi_detail(spec_of(kpis=[kpi]), reader, "signups", AS_OF, "7d")
    free = detail.breakdowns[0].rows[0]
    assert free.share is None
    assert free.current == pytest.approx(728 / 7)


# -- KPI detail: awkward metrics --------------------------------------------------------


@pytest.mark.parametrize(
    "points",
    [
        [],
        [("other", {}, AS_OF - DAY, 5.0)],
        # only points after as-of: as if the store were empty at that moment
        [("mau", {}, AS_OF + HOUR, 5.0), ("mau", {}, AS_OF + DAY, 6.0)],
    ],
    ids=["empty store", "no points of this metric", "future points only"],
)
@pytest.mark.parametrize("range_key", ["7d", "all"])
def test_metric_without_points(reader_of, points, range_key):
    reader = reader_of(points)
    spec = spec_of(kpis=[{"id": "mau", "metric": "mau", "target": 10}])
    detail = kpi_detail(spec, reader, "mau", AS_OF, range_key)
    assert detail.error is None
    assert detail.stats.points == 0
    assert detail.stats.last is None and detail.stats.min is None and detail.stats.avg is None
    assert not detail.chart.has_points
    assert detail.last_at is None and detail.age is None
    assert detail.breakdowns == ()
    assert detail.kpi.state == "no_data"


def test_metric_with_one_point(reader_of):
    reader = reader_of([("mau", {}, AS_OF - 3 * DAY, 42.0)])
    spec = spec_of(kpis=[{"id": "mau", "metric": "mau"}])
    for range_key in ("7d", "all"):
        detail = kpi_detail(spec, reader, "mau", AS_OF, range_key)
        s = detail.stats
        assert (s.last, s.min, s.max, s.avg, s.total, s.points) == (42, 42, 42, 42, None, 1)
        # The chart carries the one value forward from its bucket to now, a gap before it
        known = detail.chart.series[0].known
        assert {v for _, v in known} == {42} and known[0][0] <= AS_OF - 3 * DAY
        assert detail.age == 3 * DAY
    # And over "all" the range still covers a sensible span
    assert kpi_detail(spec, reader, "mau", AS_OF, "all").range.hi == AS_OF


def test_stock_metric_over_several_series_uses_the_totals(reader_of):
    # Given MRR for two plans, daily / When the detail of `last` MRR is read
    points = []
    for d in range(0, 10):
        ts = AS_OF - d * DAY - HOUR
        points.append(("mrr", {"plan": "free"}, ts, 1000.0 + d))
        points.append(("mrr", {"plan": "pro"}, ts, 5000.0 - d))
    reader = reader_of(points)
    detail = kpi_detail(
        spec_of(kpis=[{"id": "mrr", "metric": "mrr"}]), reader, "mrr", AS_OF, "7d", bucket=DAY
    )
    # Then the stats run over the daily totals: every day sums to 6000
    assert detail.stats.min == detail.stats.max == detail.stats.last == 6000
    assert detail.kpi.value == 6000
    # And the breakdown shares add up the plans' latest values
    free, pro = sorted(detail.breakdowns[0].rows, key=lambda r: r.value)
    assert free.current == 1000 and pro.current == 5000
    assert free.share == pytest.approx(1000 / 6000)


def test_derived_metric_charts_the_formula_per_bucket(reader_of):
    # Given visits and signups on 3 days
    points = []
    for d, (visits, signups) in enumerate([(100, 5), (200, 30), (50, 10)], start=1):
        ts = AS_OF - d * DAY
        points.append(("visits", {}, ts, float(visits)))
        points.append(("signups", {}, ts, float(signups)))
    reader = reader_of(points)
    spec = spec_of(
        metrics={"conversion": {"formula": "signups / visits", "format": "percent"}},
        kpis=[{"id": "conv", "metric": "conversion", "agg": "sum", "window": "7d"}],
    )
    # When the detail is read with daily buckets
    detail = kpi_detail(spec, reader, "conv", AS_OF, "7d", bucket=DAY)
    # Then each bucket is that day's ratio, the total is a ratio of sums
    known = sorted(v for _, v in detail.chart.series[0].known)
    assert known == pytest.approx([0.05, 0.15, 0.2])
    assert detail.stats.total == pytest.approx(45 / 350)
    assert detail.stats.min == pytest.approx(0.05) and detail.stats.max == pytest.approx(0.2)
    assert detail.stats.points is None  # points of which operand? none are claimed
    assert detail.formula == "signups / visits"
    assert detail.format == "percent"
    assert detail.kpi.value == pytest.approx(45 / 350)


def test_score_stats_run_over_buckets_of_the_score(reader_of):
    # Given two days of 0–10 answers: day 1 all promoters, day 2 half detractors
    day1 = [("nps", {}, AS_OF - 2 * DAY + HOUR * h, 10.0) for h in range(4)]
    day2 = [("nps", {}, AS_OF - DAY + HOUR * h, v) for h, v in enumerate([10.0, 9.0, 2.0, 0.0])]
    reader = reader_of(day1 + day2)
    spec = spec_of(kpis=[{"id": "nps", "metric": "nps", "agg": "nps", "window": "7d"}])
    # When the detail is read with daily buckets
    stats = kpi_detail(spec, reader, "nps", AS_OF, "7d", bucket=DAY).stats
    # Then min/max/avg are of the daily NPS (100 and 0), not of single answers; no sum,
    # and the days without answers are gaps, not 0
    assert (stats.min, stats.max, stats.avg, stats.last) == (0, 100, 50, 0)
    assert (stats.total, stats.points, stats.buckets) == (None, 8, 2)


def test_nps_counts_out_of_scale_answers(reader_of):
    answers = [10, 9, 7, 3, 11, -1, 10]
    reader = reader_of([("nps", {}, AS_OF - i * HOUR, float(a)) for i, a in enumerate(answers)])
    spec = spec_of(kpis=[{"id": "nps", "metric": "nps", "agg": "nps", "window": "7d"}])
    detail = kpi_detail(spec, reader, "nps", AS_OF, "7d")
    assert (detail.out_of_scale.used, detail.out_of_scale.ignored) == (5, 2)
    # 3 promoters, 1 detractor of 5 answers
    assert detail.kpi.value == pytest.approx(40.0)


def test_unknown_kpi_is_reported(reader_of):
    with pytest.raises(DetailNotFound):
        kpi_detail(spec_of(kpis=[SIGNUPS_KPI]), reader_of(), "nope", AS_OF)


def test_description_and_key_results_using_the_metric(reader_of):
    reader = reader_of(signup_points())
    spec = spec_of(
        kpis=[{**SIGNUPS_KPI, "description": "New accounts per week"}],
        okrs=[
            {
                "id": "grow",
                "title": "Grow",
                "key_results": [
                    {
                        "id": "more-signups",
                        "title": "More signups",
                        "metric": "signups",
                        "agg": "sum",
                        "target": 10000,
                    },
                    {"id": "launch", "title": "Launch", "done": False},
                ],
            }
        ],
    )
    detail = kpi_detail(spec, reader, "signups", AS_OF, "7d")
    assert detail.description == "New accounts per week"
    (kr,) = detail.key_results
    board_kr = evaluate(spec, reader, AS_OF).key_result("more-signups")
    assert (kr.id, kr.objective_id) == ("more-signups", "grow")
    assert (kr.progress, kr.status) == (board_kr.progress, board_kr.status)


# -- key-result detail -------------------------------------------------------------------


def test_day_grid_ends_at_as_of():
    period = Period(date(2026, 10, 1), date(2026, 12, 31), UTC)
    grid = day_grid(period, AS_OF)
    # Oct 1 .. Nov 24: 55 days, the last sample is as-of itself
    assert len(grid) == 55
    assert grid[0] == Q4_START + DAY - 1
    assert grid[-1] == AS_OF
    assert day_grid(period, Q4_START - 1) == []
    assert day_grid(period, Q4_END + 10 * DAY)[-1] == Q4_END - 1


MANUAL_OKRS = [
    {
        "id": "delight",
        "title": "Delight users",
        "key_results": [
            {"id": "nps-score", "title": "NPS to 50", "start": 10, "target": 50},
        ],
    }
]
CHECKINS = [
    ("nps-score", parse_time("2026-10-15T09:00:00Z"), 20.0, "on_track", None),
    ("nps-score", parse_time("2026-11-02T09:00:00Z"), 26.0, "at_risk", "[bold]slipping[/]"),
    ("nps-score", parse_time("2026-12-01T09:00:00Z"), 40.0, "on_track", "future"),
]


def test_manual_kr_history_and_checkins(reader_of):
    # Given check-ins on Oct 15 (20), Nov 2 (26) and, after as-of, Dec 1
    reader = reader_of(checkins=CHECKINS)
    spec = spec_of(okrs=MANUAL_OKRS)
    # When its detail is read on Nov 24
    detail = kr_detail(spec, reader, "kr", "nps-score", AS_OF)
    # Then the check-ins up to as-of, newest first, notes as written
    assert [(c.value, c.confidence, c.note) for c in detail.checkins] == [
        (26.0, "at_risk", "[bold]slipping[/]"),
        (20.0, "on_track", None),
    ]
    # And progress steps at each check-in: (20-10)/40 = 0.25, then (26-10)/40 = 0.40
    progress = dict(detail.history.series[0].points)
    assert progress[parse_time("2026-10-14T23:59:59Z")] == 0.0
    assert progress[parse_time("2026-10-15T23:59:59Z")] == pytest.approx(0.25)
    assert progress[AS_OF] == pytest.approx(0.40)
    # And current/progress/status/gap are the board's
    expected = (AS_OF - Q4_START) / (Q4_END - Q4_START)
    assert detail.expected == pytest.approx(expected)
    assert detail.kr.current == 26.0 and detail.progress == pytest.approx(0.4)
    assert detail.gap == pytest.approx(expected - 0.4)
    board = evaluate(spec, reader, AS_OF)
    assert detail.status == board.key_result("nps-score").status
    # And the expected line runs from 0 at the start to 1 at the end of the period
    assert detail.history.series[1].points == ((Q4_START, 0.0), (Q4_END, 1.0))


def test_metric_kr_history_accumulates_a_flow(reader_of):
    # Given 10 signups a day from Oct 1 and a KR of 1000 signups this quarter
    points = [("signups", {}, Q4_START + d * DAY + HOUR, 10.0) for d in range(0, 80)]
    reader = reader_of(points)
    spec = spec_of(
        okrs=[
            {
                "id": "grow",
                "title": "Grow",
                "key_results": [
                    {
                        "id": "k",
                        "title": "1000 signups",
                        "metric": "signups",
                        "agg": "sum",
                        "target": 1000,
                    }
                ],
            }
        ]
    )
    detail = kr_detail(spec, reader, "kr", "k", AS_OF)
    progress = detail.history.series[0].points
    # Then day n of the quarter reads 10 * n signups: progress 0.01 * n
    assert progress[0] == (Q4_START + DAY - 1, pytest.approx(0.01))
    assert progress[9][1] == pytest.approx(0.10)
    # And the last point is the board's progress (55 days: 550 signups)
    assert progress[-1] == (AS_OF, pytest.approx(0.55))
    assert detail.kr.progress_raw == pytest.approx(0.55)
    # And the metric chart shows the running total with the target as a line
    assert detail.metric_chart.series[0].points[-1] == (AS_OF, 550.0)
    assert detail.metric_chart.ref_lines[0].value == 1000


def test_metric_kr_history_of_a_stock_carries_the_latest_value(reader_of):
    # Given MRR 8000 before the quarter, then 9000 on Oct 10 and 12000 on Nov 20
    points = [
        ("mrr", {}, Q4_START - 5 * DAY, 8000.0),
        ("mrr", {}, parse_time("2026-10-10T12:00:00Z"), 9000.0),
        ("mrr", {}, parse_time("2026-11-20T12:00:00Z"), 12000.0),
    ]
    reader = reader_of(points)
    spec = spec_of(
        okrs=[
            {
                "id": "o",
                "title": "Revenue",
                "key_results": [
                    {
                        "id": "mrr-kr",
                        "title": "MRR 16k",
                        "metric": "mrr",
                        "start": 8000,
                        "target": 16000,
                    }
                ],
            }
        ]
    )
    detail = kr_detail(spec, reader, "kr", "mrr-kr", AS_OF)
    progress = dict(detail.history.series[0].points)
    assert progress[Q4_START + DAY - 1] == 0.0
    assert progress[parse_time("2026-10-10T23:59:59Z")] == pytest.approx(1000 / 8000)
    assert progress[parse_time("2026-11-19T23:59:59Z")] == pytest.approx(1000 / 8000)
    assert progress[AS_OF] == pytest.approx(4000 / 8000)
    assert detail.progress_raw == pytest.approx(0.5)


@pytest.mark.parametrize(
    "points",
    [[], [("mrr", {}, AS_OF + DAY, 9000.0)]],
    ids=["no points", "future points only"],
)
def test_metric_kr_without_points(reader_of, points):
    reader = reader_of(points)
    spec = spec_of(
        okrs=[
            {
                "id": "o",
                "title": "Revenue",
                "key_results": [
                    {
                        "id": "mrr-kr",
                        "title": "MRR 16k",
                        "metric": "mrr",
                        "start": 8000,
                        "target": 16000,
                    }
                ],
            }
        ]
    )
    detail = kr_detail(spec, reader, "kr", "mrr-kr", AS_OF)
    assert detail.error is None
    assert detail.history.series[0].points == ()
    assert detail.progress is None and detail.gap is None
    assert detail.metric_chart.series[0].points == ()


def test_kr_detail_before_the_period_starts(reader_of):
    reader = reader_of(checkins=CHECKINS)
    detail = kr_detail(spec_of(okrs=MANUAL_OKRS), reader, "kr", "nps-score", Q4_START - DAY)
    assert detail.status == "not_started"
    assert detail.expected == 0.0
    assert detail.history.series[0].points == ()


def test_objective_history_rolls_up_its_key_results(reader_of):
    # Given an objective with the manual NPS KR (weight 1) and a done milestone (weight 3)
    reader = reader_of(checkins=CHECKINS)
    okrs = [
        {
            "id": "delight",
            "title": "Delight users",
            "children": [
                {
                    "id": "child",
                    "title": "Ship",
                    "key_results": [{"id": "ship", "title": "Ship it", "done": True}],
                }
            ],
            "key_results": [{"id": "nps-score", "title": "NPS to 50", "start": 10, "target": 50}],
        }
    ]
    spec = spec_of(okrs=okrs)
    detail = kr_detail(spec, reader, "objective", "delight", AS_OF)
    # Then each day is the mean of the NPS KR's progress and the child's 1.0
    progress = dict(detail.history.series[0].points)
    assert progress[parse_time("2026-10-14T23:59:59Z")] == pytest.approx(0.5)
    assert progress[AS_OF] == pytest.approx((0.4 + 1.0) / 2)
    # And it is the board's objective progress, with its children listed
    board = evaluate(spec, reader, AS_OF)
    assert detail.progress == pytest.approx(board.objective("delight").progress)
    assert [(row.kind, row.id) for row in detail.children] == [
        ("kr", "nps-score"),
        ("objective", "child"),
    ]


def test_unknown_node_is_reported(reader_of):
    with pytest.raises(DetailNotFound):
        kr_detail(spec_of(okrs=MANUAL_OKRS), reader_of(), "kr", "nope", AS_OF)
    with pytest.raises(DetailNotFound):
        kr_detail(spec_of(okrs=MANUAL_OKRS), reader_of(), "objective", "nps-score", AS_OF)


def test_kr_detail_asks_for_each_key_results_checkins_once():
    from tests.engine.fakes import FakeReader

    # Given an objective with two manual key results, and a reader that counts questions
    reader = FakeReader()
    reader.add_checkin("nps-score", parse_time("2026-10-15T09:00:00Z"), 20.0)
    okrs = [
        {
            "id": "delight",
            "title": "Delight users",
            "key_results": [
                {"id": "nps-score", "title": "NPS to 50", "start": 10, "target": 50},
                {"id": "csat", "title": "CSAT to 0.9", "start": 0.5, "target": 0.9},
            ],
        }
    ]
    # When the objective's and one key result's details are read
    objective = kr_detail(spec_of(okrs=okrs), reader, "objective", "delight", AS_OF)
    objective_calls = reader.calls["checkins"]
    kr = kr_detail(spec_of(okrs=okrs), reader, "kr", "nps-score", AS_OF)
    # Then the board's numbers and the history share one read of each key result's check-ins
    assert objective_calls == 2
    assert reader.calls["checkins"] - objective_calls == 1
    assert objective.progress == pytest.approx((0.25 + 0.0) / 2)
    assert kr.history.series[0].points[-1] == (AS_OF, pytest.approx(0.25))


def test_kpi_detail_of_a_stock_asks_for_its_latest_point_once():
    from tests.engine.fakes import FakeReader

    # Given a stock KPI (latest value, no window) and a reader that counts questions
    reader = FakeReader([("mrr", {}, AS_OF - 3 * HOUR, 900.0), ("mrr", {}, AS_OF - DAY, 800.0)])
    spec = spec_of(kpis=[{"id": "mrr", "metric": "mrr", "agg": "last", "compare": "none"}])
    # When its detail is read
    detail = kpi_detail(spec, reader, "mrr", AS_OF)
    # Then the card's value and the detail's "last point" come from one `last` question
    assert detail.kpi.window is None
    assert reader.calls["last"] == 1
    assert (detail.kpi.value, detail.last_at, detail.age) == (900.0, AS_OF - 3 * HOUR, 3 * HOUR)


def test_a_detail_reads_one_snapshot_of_the_store(reader_of):
    # What the screen shows together (the value, stats, chart, breakdowns) was in the
    # store together, though writers commit meanwhile: one read transaction for all.
    reader = reader_of(signup_points(), CHECKINS)
    entered = []  # one per read transaction begun
    begin = reader._begin
    reader._begin = lambda: entered.append(1) or begin()
    kpi_detail(spec_of(kpis=[SIGNUPS_KPI]), reader, "signups", AS_OF, "30d")
    assert entered == [1]
    kr_detail(spec_of(okrs=MANUAL_OKRS), reader, "kr", "nps-score", AS_OF)
    assert entered == [1, 1]
    # A key result on a metric asks the store many questions (history, chart): still one
    signups_kr = {"id": "s-kr", "title": "Signups", "metric": "signups", "agg": "sum"}
    okrs = [{"id": "o", "title": "Grow", "key_results": [{**signups_kr, "target": 5000}]}]
    kr_detail(spec_of(okrs=okrs), reader, "kr", "s-kr", AS_OF)
    assert entered == [1, 1, 1]


def test_a_detail_on_a_locked_store_waits_for_it_once(reader_of):
    from kpitui.errors import StoreLockedError

    reader = reader_of(signup_points())
    attempts = []

    def locked():
        attempts.append(1)
        raise StoreLockedError("store is locked", file=reader.path)

    reader._begin = locked
    detail = kpi_detail(spec_of(kpis=[SIGNUPS_KPI]), reader, "signups", AS_OF, "30d")
    assert attempts == [1]
    assert detail.error is not None and "store is locked" in detail.error


def test_the_stats_do_not_ask_again_what_the_kpi_asked(reader_of):
    # Given a KPI averaging signups over 7 days, and its detail over the same 7 days
    reader = reader_of(signup_points())
    asked = []
    aggregate = reader.aggregate
    reader.aggregate = lambda *args: asked.append(args) or aggregate(*args)
    kpi = {**SIGNUPS_KPI, "agg": "avg", "compare": "none"}
    detail = kpi_detail(spec_of(kpis=[kpi]), reader, "signups", AS_OF, "7d")
    # Then the average over that range was asked for once, and both show it
    averages = [args for args in asked if args[2] == "avg" and args[1] == {}]
    assert len(averages) == 1
    assert detail.stats.avg == detail.kpi.value


def test_objective_history_counts_a_kr_without_data_as_the_board_does(reader_of):
    # Given signups from Oct 10 on (a sum KR at 50% by now) and an avg KR with no data
    points = [("signups", {}, Q4_START + d * DAY + HOUR, 10.0) for d in range(9, 54)]
    okrs = [
        {
            "id": "grow",
            "title": "Grow",
            "key_results": [
                {"id": "s", "title": "S", "metric": "signups", "agg": "sum", "target": 900},
                {"id": "a", "title": "A", "metric": "nothing", "agg": "avg", "target": 5},
            ],
        }
    ]
    spec = spec_of(okrs=okrs)
    reader = reader_of(points)
    detail = kr_detail(spec, reader, "objective", "grow", AS_OF)
    history = detail.history.series[0].points
    # Then the line ends at the header's progress: (0.5 + 0) / 2, as on the board
    assert detail.progress == pytest.approx(0.25)
    assert history[-1] == (AS_OF, pytest.approx(0.25))
    assert evaluate(spec, reader, AS_OF).objective("grow").progress == pytest.approx(0.25)
    # And the sum KR's own line starts at 0 on day 1, before its first signup
    sums = kr_detail(spec, reader, "kr", "s", AS_OF).history.series[0].points
    assert sums[0] == (Q4_START + DAY - 1, 0.0)


def test_the_detail_chart_and_its_stats_keep_a_gap_as_a_gap(reader_of):
    # Given latency on days 9, 8, 7 and 3, 2, 1 before as-of, none between, in a real store
    points = [("latency", {}, AS_OF - d * DAY, 200.0 + d) for d in (9, 8, 7, 3, 2, 1)]
    reader = reader_of(points)
    spec = spec_of(kpis=[{"metric": "latency", "agg": "avg", "window": "7d"}])
    # When its detail is read over 30d in daily buckets
    detail = kpi_detail(spec, reader, "latency", AS_OF, "30d", bucket=DAY)
    values = [v for _, v in detail.chart.series[0].points]
    # Then the days before the first point, between the runs and today are gaps, and the
    # line is drawn in two runs
    assert values[-10:] == [209, 208, 207, None, None, None, 203, 202, 201, None]
    assert all(v is None for v in values[:-10])
    assert [len(run) for run in detail.chart.series[0].segments()] == [3, 3]
    # And the stats are of the six days with a value; last is the newest day's
    s = detail.stats
    assert (s.last, s.min, s.max, s.buckets) == (201, 201, 209, 6)
    assert s.avg == pytest.approx(sum(200 + d for d in (9, 8, 7, 3, 2, 1)) / 6)


def test_a_percent_change_that_rounds_to_zero_reads_the_same_on_every_face(reader_of):
    from kpitui.report import board_to_text

    # Given MRR by plan, yesterday and today: enterprise 95,761 → 95,766 (+$5, +0.005%),
    # pro 100,000 → 103,200 (+3.2%), starter 19,000 → 18,810 (-1.0%), growth 40,000 flat
    plans = {
        "enterprise": (95_761, 95_766),
        "pro": (100_000, 103_200),
        "starter": (19_000, 18_810),
        "growth": (40_000, 40_000),
    }
    points = []
    for plan, (before, now) in plans.items():
        points.append(("mrr", {"plan": plan}, AS_OF - DAY - HOUR, float(before)))
        points.append(("mrr", {"plan": plan}, AS_OF - HOUR, float(now)))
    reader = reader_of(points)
    money = {"format": "currency", "currency": "USD", "decimals": 0}
    spec = spec_of(
        kpis=[
            {"id": "mrr", "metric": "mrr", **money},
            {"id": "enterprise", "metric": "mrr", "labels": {"plan": "enterprise"}, **money},
        ]
    )
    # When the KPI detail reads the breakdown by plan
    detail = kpi_detail(spec, reader, "mrr", AS_OF, "30d")
    rows = {row.value: row.delta_display for row in detail.breakdowns[0].rows}
    # Then every percent change is signed, and the one that rounds to zero is neutral
    assert rows == {
        "pro": "▲ +$3,200 (+3.2%)",
        "enterprise": "▲ +$5 (±0.0%)",
        "growth": "= $0",
        "starter": "▼ -$190 (-1.0%)",
    }
    # And the board (cards, text snapshot) reads the enterprise KPI by the same rule:
    # 95,766 vs 95,761, and the whole MRR +$3,015 on $254,761 = +1.2%
    board = evaluate(spec, reader, AS_OF)
    assert board.kpi("enterprise").delta_display == "▲ +$5 (±0.0%)"
    assert board.kpi("mrr").delta_display == "▲ +$3,015 (+1.2%)"
    text = board_to_text(board)
    assert "▲ +$5 (±0.0%)" in text and "▲ +$3,015 (+1.2%)" in text


def test_no_window_is_parsed_again_once_the_spec_is_loaded(reader_of, monkeypatch):
    from kpitui import timeutil
    from kpitui.engine.detail_chart import chart_detail
    from kpitui.timeutil import Window

    # Given signups by plan, a KPI and a chart on them, the spec loaded
    reader = reader_of(signup_points())
    spec = spec_of(
        kpis=[SIGNUPS_KPI],
        charts=[{"id": "signups", "metrics": ["signups"], "window": "30d", "bucket": "1d"}],
    )
    parsed: list[str] = []
    real = timeutil.parse_duration
    monkeypatch.setattr(timeutil, "parse_duration", lambda text: parsed.append(text) or real(text))
    # When the board, every KPI-detail range and every chart-detail range are evaluated
    evaluate(spec, reader, AS_OF)
    for key in ("7d", "30d", "90d", "1y", "all"):
        kpi_detail(spec, reader, "signups", AS_OF, key)
        chart = chart_detail(spec, reader, "signups", AS_OF, key)
    # Then no duration text was parsed: every window is the value object made at load
    assert parsed == []
    # And "all data" is a window made from its seconds, equal to the one written so: the
    # 40 days back to the first point, compared with the 40 before
    assert Window.rolling(40 * DAY) == Window("40d")
    assert chart.window == "all" and chart.comparison_label == "previous 40d"
