"""KPI evaluation: windows, comparison, thresholds, states, derived metrics (SPEC §3)."""

from __future__ import annotations

import pytest

from kpitui.errors import StoreError
from kpitui.timeutil import parse_time
from tests.engine.conftest import AS_OF, DAY, HOUR, kpi_of
from tests.engine.fakes import FakeReader

# -- windows --------------------------------------------------------------------------


def test_rolling_window_holds_points_after_its_start_up_to_as_of():
    # Given signups exactly 7d before as-of (outside), just after it, and at as-of
    reader = FakeReader(
        [
            ("signups", {}, AS_OF - 7 * DAY, 100),
            ("signups", {}, AS_OF - 7 * DAY + 1, 10),
            ("signups", {}, AS_OF, 5),
            ("signups", {}, AS_OF + 1, 1000),  # the future is not counted
        ]
    )
    # When a 7d sum is evaluated
    kpi = kpi_of(reader, {"metric": "signups", "agg": "sum", "window": "7d"})
    # Then it counts `now - 7d < t <= now`: 10 + 5
    assert kpi.value == 15
    assert kpi.display == "15"
    assert kpi.state == "neutral"


def test_last_without_window_takes_the_latest_point_however_old():
    # Given MRR last written 40 days ago
    reader = FakeReader([("mrr", {}, AS_OF - 50 * DAY, 900), ("mrr", {}, AS_OF - 40 * DAY, 1000)])
    # When the default agg (last, no window) is evaluated
    kpi = kpi_of(reader, {"metric": "mrr"})
    # Then the old value is the value, with its time
    assert kpi.value == 1000
    assert kpi.window is None
    assert kpi.last_at == AS_OF - 40 * DAY
    assert kpi.age_display == "40d ago"


def test_last_adds_up_each_series_last_value():
    # Given MRR by plan
    reader = FakeReader(
        [
            ("mrr", {"plan": "pro"}, AS_OF - DAY, 700),
            ("mrr", {"plan": "pro"}, AS_OF - HOUR, 800),
            ("mrr", {"plan": "team"}, AS_OF - 2 * DAY, 200),
        ]
    )
    # When total MRR is evaluated / Then it is the sum of each plan's last value
    assert kpi_of(reader, {"metric": "mrr"}).value == 1000
    # And a labels filter keeps the matching series only
    pro = kpi_of(reader, {"metric": "mrr", "labels": {"plan": "pro"}})
    assert pro.value == 800
    assert pro.labels == (("plan", "pro"),)


def test_windowed_aggs_default_to_30d():
    # Given a point 29 days ago and one 31 days ago
    reader = FakeReader(
        [("signups", {}, AS_OF - 29 * DAY, 3), ("signups", {}, AS_OF - 31 * DAY, 4)]
    )
    # When summed without a window / Then the window is 30d
    kpi = kpi_of(reader, {"metric": "signups", "agg": "sum"})
    assert (kpi.window, kpi.value) == ("30d", 3)


def test_month_to_date_compares_with_the_same_elapsed_span_of_last_month():
    # Given as-of 24 Nov 12:00 UTC: mtd is 1 Nov 00:00..as-of, previous is 1 Oct 00:00..24 Oct 12:00
    reader = FakeReader(
        [
            ("signups", {}, parse_time("2026-11-01T00:00:00Z"), 10),
            ("signups", {}, parse_time("2026-10-31T23:59:59Z"), 1000),  # in neither span
            ("signups", {}, parse_time("2026-10-24T12:00:00Z"), 7),  # last second of previous span
            ("signups", {}, parse_time("2026-10-24T12:00:01Z"), 500),  # after the same elapsed span
            ("signups", {}, parse_time("2026-10-01T00:00:00Z"), 1),
            ("signups", {}, parse_time("2026-09-30T23:59:59Z"), 2000),
        ]
    )
    # When a mtd sum is evaluated
    kpi = kpi_of(reader, {"metric": "signups", "agg": "sum", "window": "mtd"})
    # Then current = 10, previous = 7 + 1
    assert (kpi.value, kpi.previous) == (10, 8)
    assert kpi.delta == 2
    assert kpi.delta_pct == pytest.approx(0.25)
    assert kpi.delta_display == "▲ +2 (+25.0%)"


def test_quarter_to_date_in_the_spec_timezone():
    # Given Berlin time: Q4 starts 1 Oct 00:00 CEST = 30 Sep 22:00 UTC
    reader = FakeReader(
        [
            ("signups", {}, parse_time("2026-09-30T22:00:00Z"), 5),
            ("signups", {}, parse_time("2026-09-30T21:59:59Z"), 50),
        ]
    )
    # When qtd is evaluated in Europe/Berlin
    kpi = kpi_of(
        reader, {"metric": "signups", "agg": "sum", "window": "qtd"}, timezone="Europe/Berlin"
    )
    # Then only the point after local midnight counts
    assert kpi.value == 5


def test_previous_period_of_a_rolling_window_is_the_window_just_before():
    # Given 7d sums: this week 120, the week before 100
    reader = FakeReader(
        [
            ("signups", {}, AS_OF - DAY, 120),
            ("signups", {}, AS_OF - 7 * DAY, 100),  # first second... of the previous week's end
            ("signups", {}, AS_OF - 14 * DAY, 999),  # outside both
        ]
    )
    # When evaluated
    kpi = kpi_of(reader, {"metric": "signups", "agg": "sum", "window": "7d"})
    # Then delta is +20, +20%
    assert (kpi.value, kpi.previous, kpi.delta) == (120, 100, 20)
    assert kpi.delta_pct == pytest.approx(0.2)
    assert kpi.delta_good is True


def test_compare_offset_shifts_the_same_window():
    # Given daily signups today (40) and exactly 7 days earlier (50), 1 day earlier (45)
    reader = FakeReader(
        [
            ("signups", {}, AS_OF - HOUR, 40),
            ("signups", {}, AS_OF - DAY - HOUR, 45),
            ("signups", {}, AS_OF - 7 * DAY - HOUR, 50),
        ]
    )
    # When a 1d sum compares with 7d ago
    kpi = kpi_of(reader, {"metric": "signups", "agg": "sum", "window": "1d", "compare": "7d"})
    # Then the previous value is that of the same day last week
    assert (kpi.value, kpi.previous, kpi.delta) == (40, 50, -10)
    assert kpi.delta_pct == pytest.approx(-0.2)
    assert kpi.delta_good is False
    assert kpi.delta_display == "▼ -10 (-20.0%)"


def test_compare_offset_for_latest_value_reads_the_latest_at_that_moment():
    # Given MRR now 1100 and 1000 as of 30 days ago
    reader = FakeReader([("mrr", {}, AS_OF - 31 * DAY, 1000), ("mrr", {}, AS_OF - HOUR, 1100)])
    # When compared with 30d
    kpi = kpi_of(reader, {"metric": "mrr", "compare": "30d"})
    # Then previous is 1000
    assert (kpi.previous, kpi.delta) == (1000, 100)


def test_previous_of_latest_value_is_one_day_earlier():
    # Given MRR 1000 two days ago, 1050 now
    reader = FakeReader([("mrr", {}, AS_OF - 2 * DAY, 1000), ("mrr", {}, AS_OF - HOUR, 1050)])
    # When compared with the previous period (the default)
    kpi = kpi_of(reader, {"metric": "mrr"})
    # Then the previous value is the latest at as-of minus one day
    assert (kpi.previous, kpi.delta) == (1000, 50)
    assert kpi.delta_pct == pytest.approx(0.05)
    assert kpi.delta_display == "▲ +50 (+5.0%)"


def test_compare_none_shows_no_comparison():
    # Given two points / When compare is none / Then there is no previous value
    reader = FakeReader([("mrr", {}, AS_OF - 2 * DAY, 1000), ("mrr", {}, AS_OF - HOUR, 1050)])
    kpi = kpi_of(reader, {"metric": "mrr", "compare": "none"})
    assert (kpi.previous, kpi.delta, kpi.delta_pct, kpi.delta_display) == (None, None, None, "n/a")
    assert kpi.delta_good is None


def test_previous_zero_gives_the_delta_only():
    # Given last week 0 signups (a point of value 0) and 5 this week
    reader = FakeReader([("signups", {}, AS_OF - 8 * DAY, 0), ("signups", {}, AS_OF - DAY, 5)])
    # When compared
    kpi = kpi_of(reader, {"metric": "signups", "agg": "sum", "window": "7d"})
    # Then delta 5, no percentage
    assert (kpi.previous, kpi.delta, kpi.delta_pct) == (0, 5, None)
    assert kpi.delta_display == "▲ +5"


def test_no_previous_data_is_na():
    # Given only this week's data
    reader = FakeReader([("signups", {}, AS_OF - DAY, 5)])
    kpi = kpi_of(reader, {"metric": "signups", "agg": "sum", "window": "7d"})
    # Then the delta reads n/a
    assert (kpi.previous, kpi.delta, kpi.delta_display) == (None, None, "n/a")


def test_delta_good_follows_direction_down():
    # Given churn falling from 3% to 2.5%
    reader = FakeReader([("churn", {}, AS_OF - 2 * DAY, 0.03), ("churn", {}, AS_OF - HOUR, 0.025)])
    kpi = kpi_of(reader, {"metric": "churn", "direction": "down", "format": "percent"})
    # Then the fall is good, shown in percentage points
    assert kpi.delta_good is True
    assert kpi.delta_display == "▼ -0.5 pp (-16.7%)"
    assert kpi.display == "2.5%"


# -- thresholds and states ------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "state"),
    [(100.01, "ok"), (100, "warn"), (75, "warn"), (50.01, "warn"), (50, "crit"), (10, "crit")],
)
def test_up_thresholds_on_the_threshold_take_the_worse_state(value, state):
    # Given warn 100, crit 50, higher is better
    reader = FakeReader([("m", {}, AS_OF - HOUR, value)])
    kpi = kpi_of(reader, {"metric": "m", "warn": 100, "crit": 50, "target": 150})
    # Then value <= crit → crit, else <= warn → warn, else ok
    assert kpi.state == state
    assert kpi.band == state


@pytest.mark.parametrize(
    ("value", "state"),
    [(0.049, "ok"), (0.05, "warn"), (0.07, "warn"), (0.08, "crit"), (0.2, "crit")],
)
def test_down_thresholds_on_the_threshold_take_the_worse_state(value, state):
    # Given churn with warn 5%, crit 8%, lower is better
    reader = FakeReader([("churn", {}, AS_OF - HOUR, value)])
    kpi = kpi_of(reader, {"metric": "churn", "direction": "down", "warn": 0.05, "crit": 0.08})
    assert kpi.state == state


@pytest.mark.parametrize(
    ("value", "state"), [(901, "ok"), (900, "warn"), (800, "crit"), (799, "crit")]
)
def test_percent_of_target_thresholds(value, state):
    # Given target 1000, warn "90%" (900), crit "80%" (800)
    reader = FakeReader([("m", {}, AS_OF - HOUR, value)])
    kpi = kpi_of(reader, {"metric": "m", "target": 1000, "warn": "90%", "crit": "80%"})
    # Then the thresholds are resolved against the target
    assert (kpi.warn, kpi.crit) == (900, 800)
    assert kpi.state == state
    assert kpi.target_display == "1,000"


@pytest.mark.parametrize(
    ("direction", "value", "state"),
    [("up", 1000, "ok"), ("up", 999, "warn"), ("down", 200, "ok"), ("down", 201, "warn")],
)
def test_target_only_is_ok_when_met_else_warn(direction, value, state):
    # Given only a target (1000 up, 200 down)
    target = 1000 if direction == "up" else 200
    reader = FakeReader([("m", {}, AS_OF - HOUR, value)])
    kpi = kpi_of(reader, {"metric": "m", "direction": direction, "target": target})
    assert kpi.state == state


def test_no_target_nor_thresholds_is_neutral():
    reader = FakeReader([("m", {}, AS_OF - HOUR, 5)])
    assert kpi_of(reader, {"metric": "m"}).state == "neutral"


def test_stale_keeps_its_band_and_shows_its_age():
    # Given a value in the crit band last written 3 hours ago, stale after 1 hour
    reader = FakeReader([("m", {}, AS_OF - 3 * HOUR, 10)])
    kpi = kpi_of(reader, {"metric": "m", "warn": 100, "crit": 50, "stale_after": "1h"})
    # Then it is stale, its band crit, its age shown
    assert (kpi.state, kpi.band) == ("stale", "crit")
    assert kpi.age_display == "3h ago"
    assert kpi.value == 10


def test_fresh_enough_is_not_stale():
    # Given a point exactly stale_after old / Then it is not stale yet
    reader = FakeReader([("m", {}, AS_OF - HOUR, 10)])
    kpi = kpi_of(reader, {"metric": "m", "stale_after": "1h"})
    assert kpi.state == "neutral"


def test_windowed_staleness_uses_the_newest_point_in_the_window():
    # Given a 7d sum whose newest point is 2 days old, stale after 1d
    reader = FakeReader([("signups", {}, AS_OF - 2 * DAY, 5), ("signups", {}, AS_OF - 3 * DAY, 5)])
    kpi = kpi_of(reader, {"metric": "signups", "agg": "sum", "window": "7d", "stale_after": "1d"})
    assert (kpi.state, kpi.last_at, kpi.age_display) == ("stale", AS_OF - 2 * DAY, "2d ago")


def test_no_points_is_no_data():
    # Given an empty store / When a KPI with thresholds is evaluated
    kpi = kpi_of(FakeReader(), {"metric": "m", "warn": 10, "crit": 5, "stale_after": "1h"})
    # Then no_data, a dash, n/a, no time
    assert (kpi.state, kpi.band, kpi.value, kpi.display) == ("no_data", "no_data", None, "—")
    assert (kpi.delta_display, kpi.last_at, kpi.age_display, kpi.spark) == ("n/a", None, None, ())


@pytest.mark.parametrize(
    "failure",
    [StoreError("store is locked"), OSError("database disk image is malformed")],
)
def test_failing_store_query_is_an_error_state_with_the_reason(failure):
    # Given a reader whose queries fail
    reader = FakeReader([("m", {}, AS_OF - HOUR, 5)])
    reader.fail = failure
    # When evaluated / Then the KPI says error and why, and nothing is raised
    kpi = kpi_of(reader, {"metric": "m", "target": 10})
    assert kpi.state == "error"
    assert kpi.error == str(failure)
    assert kpi.display == "—"


def test_one_failing_metric_leaves_the_others_fine():
    # Given a store where only `broken` fails
    reader = FakeReader([("ok_metric", {}, AS_OF - HOUR, 5), ("broken", {}, AS_OF - HOUR, 1)])
    reader.fail_metrics = {"broken"}
    from tests.engine.conftest import board_of

    board = board_of(reader, kpis=[{"metric": "ok_metric"}, {"metric": "broken"}])
    assert [k.state for k in board.kpis] == ["neutral", "error"]
    assert "broken" in (board.kpis[1].error or "")


# -- derived metrics ------------------------------------------------------------------

CONVERSION = {"conversion": {"formula": "trial_conversions / signups", "format": "percent"}}


def test_derived_metric_is_a_ratio_of_sums_not_a_mean_of_ratios():
    # Given day 1: 1 of 10 converted (10%), day 2: 30 of 40 (75%)
    reader = FakeReader(
        [
            ("signups", {}, AS_OF - 2 * DAY, 10),
            ("trial_conversions", {}, AS_OF - 2 * DAY, 1),
            ("signups", {}, AS_OF - DAY, 40),
            ("trial_conversions", {}, AS_OF - DAY, 30),
        ]
    )
    # When conversion over 7d is evaluated with agg sum
    kpi = kpi_of(reader, {"metric": "conversion", "agg": "sum", "window": "7d"}, metrics=CONVERSION)
    # Then it is 31 / 50 = 62%, not (10% + 75%) / 2 = 42.5%
    assert kpi.value == pytest.approx(0.62)
    # And the derived metric's format is used because the KPI sets none
    assert (kpi.format, kpi.display) == ("percent", "62.0%")
    assert kpi.formula == "trial_conversions / signups"


def test_kpi_format_wins_over_the_derived_metric_format():
    reader = FakeReader(
        [("signups", {}, AS_OF - DAY, 4), ("trial_conversions", {}, AS_OF - DAY, 1)]
    )
    kpi = kpi_of(
        reader,
        {"metric": "conversion", "agg": "sum", "window": "7d", "format": "number", "decimals": 3},
        metrics=CONVERSION,
    )
    assert kpi.display == "0.250"


def test_derived_division_by_zero_has_no_value():
    # Given visits but zero signups
    reader = FakeReader(
        [("signups", {}, AS_OF - DAY, 0), ("trial_conversions", {}, AS_OF - DAY, 0)]
    )
    # When conversion is evaluated / Then no value, not an error
    kpi = kpi_of(reader, {"metric": "conversion", "agg": "sum", "window": "7d"}, metrics=CONVERSION)
    assert (kpi.value, kpi.state, kpi.error) == (None, "no_data", None)


def test_derived_stickiness_of_latest_values_and_its_comparison():
    # Given DAU 300 of MAU 1000 now, 250 of 1000 a day earlier
    reader = FakeReader(
        [
            ("dau", {}, AS_OF - 2 * DAY, 250),
            ("mau", {}, AS_OF - 2 * DAY, 1000),
            ("dau", {}, AS_OF - HOUR, 300),
            ("mau", {}, AS_OF - 3 * HOUR, 1000),
        ]
    )
    kpi = kpi_of(
        reader,
        {"metric": "stickiness", "target": 0.25},
        metrics={"stickiness": {"formula": "dau / mau", "format": "percent"}},
    )
    # Then 30%, previous 25%, +5 pp; ok against its target
    assert kpi.value == pytest.approx(0.3)
    assert kpi.previous == pytest.approx(0.25)
    assert kpi.delta_display == "▲ +5.0 pp (+20.0%)"
    assert kpi.state == "ok"
    # And its time is that of its stalest operand
    assert kpi.last_at == AS_OF - 3 * HOUR


def test_derived_metric_of_a_derived_metric():
    reader = FakeReader([("a", {}, AS_OF - HOUR, 6), ("b", {}, AS_OF - HOUR, 3)])
    kpi = kpi_of(
        reader,
        {"metric": "double_ratio"},
        metrics={"ratio": {"formula": "a / b"}, "double_ratio": {"formula": "ratio * 2 + 1"}},
    )
    assert kpi.value == 5


def test_derived_spark_combines_operands_per_bucket():
    # Given two days of signups and conversions
    reader = FakeReader(
        [
            ("signups", {}, AS_OF - 2 * DAY, 10),
            ("trial_conversions", {}, AS_OF - 2 * DAY, 1),
            ("signups", {}, AS_OF - DAY, 40),
            ("trial_conversions", {}, AS_OF - DAY, 30),
        ]
    )
    kpi = kpi_of(reader, {"metric": "conversion", "agg": "sum", "window": "7d"}, metrics=CONVERSION)
    # Then the sparkline holds one ratio per day, and days without either are gaps (0 / 0)
    assert kpi.spark[-3:] == pytest.approx((0.1, 0.75, None))
    assert set(kpi.spark[:-3]) == {None}


def test_a_derived_bucket_missing_one_flow_counts_it_as_zero():
    # Given a day of signups without a conversion, then a day with both
    reader = FakeReader(
        [
            ("signups", {}, AS_OF - 2 * DAY, 10),
            ("signups", {}, AS_OF - DAY, 40),
            ("trial_conversions", {}, AS_OF - DAY, 30),
        ]
    )
    kpi = kpi_of(reader, {"metric": "conversion", "agg": "sum", "window": "7d"}, metrics=CONVERSION)
    # Then the first day converted 0%, not "no value" (a day with no trials is 0 of them)
    assert kpi.spark[-3:-1] == pytest.approx((0.0, 0.75))


def test_the_spark_keeps_every_bucket_in_its_place():
    # Given daily signups that stopped 3 days ago, and MRR last written 3 days ago
    reader = FakeReader(
        [("signups", {}, AS_OF - d * DAY, 5) for d in (3, 4)]
        + [("mrr", {}, AS_OF - d * DAY, 100 + d) for d in (3, 5)]
    )
    spark = {"window": "7d", "bucket": "1d"}
    signups = kpi_of(reader, {"metric": "signups", "agg": "sum", "window": "7d", "spark": spark})
    mrr = kpi_of(reader, {"metric": "mrr", "spark": spark})
    # Then the days since are 0 signups, not squeezed out: the trend ends where now is
    assert signups.spark[-5:] == (5, 5, 0, 0, 0)
    # And MRR is carried from point to point, but not past its newest point
    assert mrr.spark[-6:] == (105, 105, 103, None, None, None)
    # And no data at all is no trend
    assert kpi_of(FakeReader(), {"metric": "mrr", "spark": spark}).spark == ()


# -- survey and percentile aggs --------------------------------------------------------


def test_nps_from_raw_responses():
    # Given responses [10, 9, 9, 8, 7, 6, 3, 10]: promoters 4/8, detractors 2/8
    reader = FakeReader(
        [
            ("nps_response", {}, AS_OF - i * HOUR, v)
            for i, v in enumerate([10, 9, 9, 8, 7, 6, 3, 10])
        ]
    )
    kpi = kpi_of(
        reader, {"metric": "nps_response", "agg": "nps", "window": "30d", "target": 30, "warn": 20}
    )
    # Then NPS is 25: below target, above warn
    assert kpi.value == 25
    assert kpi.state == "ok"


def test_csat_from_raw_responses():
    reader = FakeReader(
        [("csat_response", {}, AS_OF - i * HOUR, v) for i, v in enumerate([5, 4, 3, 5, 1])]
    )
    kpi = kpi_of(
        reader, {"metric": "csat_response", "agg": "csat", "window": "7d", "format": "percent"}
    )
    assert (kpi.value, kpi.display) == (0.6, "60.0%")


def test_p90_latency_lower_is_better():
    # Given latencies 10..100 ms (10 points): nearest-rank p90 is the 9th, 90 ms
    reader = FakeReader(
        [("latency", {}, AS_OF - i * 60, v) for i, v in enumerate(range(10, 101, 10))]
    )
    kpi = kpi_of(
        reader,
        {
            "metric": "latency",
            "agg": "p90",
            "window": "1d",
            "direction": "down",
            "warn": 80,
            "crit": 120,
        },
    )
    assert kpi.value == 90
    assert kpi.state == "warn"


# -- sparkline ------------------------------------------------------------------------


def test_default_sparkline_is_30_daily_buckets():
    # Given one point per day for 40 days
    reader = FakeReader([("dau", {}, AS_OF - d * DAY, 100 + d) for d in range(40)])
    kpi = kpi_of(reader, {"metric": "dau"})
    # Then the sparkline holds the last 30 days, oldest first
    assert len(kpi.spark) == 30
    assert kpi.spark[0] == 129
    assert kpi.spark[-1] == 100


def test_spark_window_and_bucket_from_the_spec():
    reader = FakeReader([("signups", {}, AS_OF - h * HOUR, 1) for h in range(48)])
    kpi = kpi_of(
        reader,
        {
            "metric": "signups",
            "agg": "sum",
            "window": "1d",
            "spark": {"window": "2d", "bucket": "6h"},
        },
    )
    # Then 6-hour buckets on the local grid: seven whole ones and the current one so far
    assert kpi.spark == (6,) * 7 + (1,)


def test_stock_sparkline_carries_a_plan_written_less_often():
    # Given MRR by plan: plan b written once, a month ago; plan a written daily
    points = [("mrr", {"plan": "b"}, AS_OF - 25 * DAY, 1000.0)]
    points += [("mrr", {"plan": "a"}, AS_OF - d * DAY, 100.0) for d in range(20)]
    kpi = kpi_of(FakeReader(points), {"metric": "mrr"})
    # Then the card's total and every recent sparkline bucket count plan b too
    assert kpi.value == 1100
    assert kpi.spark[-20:] == (1100.0,) * 20


def test_a_derived_flow_with_one_empty_operand_reads_it_as_zero():
    # Given signups in the window and no trial conversions at all
    reader = FakeReader([("signups", {}, AS_OF - DAY, 40)])
    kpi = kpi_of(reader, {"metric": "conversion", "agg": "sum", "window": "7d"}, metrics=CONVERSION)
    # Then the conversion is 0%, as its sparkline's buckets say, not "no data"
    assert (kpi.value, kpi.state) == (0.0, "neutral")
    assert kpi.spark[-2] == 0.0
    # And conversions without signups (x / 0) have no value, not an error
    reader = FakeReader([("trial_conversions", {}, AS_OF - DAY, 3)])
    kpi = kpi_of(reader, {"metric": "conversion", "agg": "sum", "window": "7d"}, metrics=CONVERSION)
    assert (kpi.value, kpi.state) == (None, "no_data")


def test_a_nested_ratio_without_a_value_in_a_bucket_is_no_value_there_as_on_the_card():
    # Given mix = conversion + bonus, a bonus on a day without trials or signups (0 / 0)
    metrics = {**CONVERSION, "mix": {"formula": "conversion + bonus"}}
    reader = FakeReader([("bonus", {}, AS_OF - DAY, 5)])
    spark = {"window": "7d", "bucket": "1d"}
    kpi = kpi_of(
        reader, {"metric": "mix", "agg": "sum", "window": "1d", "spark": spark}, metrics=metrics
    )
    # Then the day has no value in the sparkline, as the card's value has none: 0 / 0
    # is not a 0 to add the bonus to
    assert kpi.value is None
    assert kpi.spark == ()
