"""A key result's daily values for its forecast, read from a real SQLite store."""

from __future__ import annotations

from datetime import UTC, date

import pytest

from kpitui.engine.forecast import DAY, Forecast, NoForecast
from kpitui.engine.kpi import MetricSource
from kpitui.engine.okr_forecast import (
    SAMPLED_DAYS,
    averages,
    day_ends,
    forecast_key_result,
    kr_daily_values,
    kr_samples,
)
from kpitui.spec.models import KeyResult, convert
from kpitui.store import open_reader, open_writer
from kpitui.timeutil import Period

# November 2026 in UTC: day d (1-based) starts at P0 + (d - 1) * DAY.
PERIOD = Period(date(2026, 11, 1), date(2026, 11, 30), UTC)
P0 = PERIOD.start_ts


def kr(**data) -> KeyResult:
    spec = convert({"timezone": "UTC", "okrs": [{"title": "O", "key_results": [data]}]})
    return spec.okrs[0].key_results[0]


@pytest.fixture
def store(tmp_path):
    path = tmp_path / "metrics.db"
    readers = []

    def make(points=(), checkins=()):
        with open_writer(path) as writer:
            writer.write_points(points)
            for c in checkins:
                writer.write_checkin(*c)
        readers.append(open_reader(path))
        return MetricSource(readers[-1], {}, {})

    yield make
    for r in readers:
        r.close()


def test_day_ends_run_to_the_moment_asked():
    at = P0 + 2 * DAY + 3600
    assert day_ends(PERIOD, at) == [P0 + DAY - 1, P0 + 2 * DAY - 1, at]
    assert day_ends(PERIOD, P0 - 1) == []


def test_a_flow_counts_every_day_but_only_days_with_points_as_data(store):
    # Given signups on days 1, 2 and 4 (none on day 3), as-of noon on day 5
    points = [("signups", {}, P0 + (d - 1) * DAY + 3600, v) for d, v in ((1, 5), (2, 7), (4, 3))]
    source = store(points)
    at = P0 + 4 * DAY + 12 * 3600
    samples, days = kr_samples(
        kr(title="S", metric="signups", agg="sum", target=50), source, PERIOD, at, []
    )
    # Then the running sum at each day end (day 3 unchanged: nothing happened), 3 days of data
    assert samples == [
        (P0 + DAY - 1, 5),
        (P0 + 2 * DAY - 1, 12),
        (P0 + 3 * DAY - 1, 12),
        (P0 + 4 * DAY - 1, 15),
        (at, 15),
    ]
    assert days == 3


def test_a_stock_sums_its_series_on_the_days_written(store):
    # Given MRR: plan pro written on days 1-3, plan team once before the period
    points = [("mrr", {"plan": "team"}, P0 - DAY, 100.0)]
    points += [("mrr", {"plan": "pro"}, P0 + (d - 1) * DAY + 60, 1000.0 + d) for d in (1, 2, 3)]
    source = store(points)
    at = P0 + 5 * DAY
    samples, days = kr_samples(
        kr(title="M", metric="mrr", start=0, target=2000), source, PERIOD, at, []
    )
    # Then each written day's total, team's old value carried: days 4 and 5 are no news
    assert samples == [(P0 + DAY - 1, 1101), (P0 + 2 * DAY - 1, 1102), (P0 + 3 * DAY - 1, 1103)]
    assert days == 3


def test_an_average_forecasts_from_each_days_own_value(store):
    # Given CAC 300, 320, 340 on days 1-3 (avg since the start 320 at day 3's end)
    points = [("cac", {}, P0 + (d - 1) * DAY + 60, v) for d, v in ((1, 300), (2, 320), (3, 340))]
    source = store(points)
    key = kr(title="C", metric="cac", agg="avg", kind="maintain_below", target=340)
    at = P0 + 3 * DAY - 1
    assert averages(key, source)
    daily = kr_daily_values(key, source, PERIOD, at)
    assert daily == [(P0 + DAY - 1, 300), (P0 + 2 * DAY - 1, 320), (at, 340)]
    # Then the 27 days left read like the recent days: the mean of 300, 320, 340
    # weighted 2^(-2/7), 2^(-1/7), 1 (321.3), and the period ends near 321.2
    f = forecast_key_result(key, "maintain_below", None, 320.0, source, PERIOD, at, [])
    assert isinstance(f, Forecast)
    weights = [0.5 ** (2 / 7), 0.5 ** (1 / 7), 1.0]
    level = sum(w * v for w, v in zip(weights, (300, 320, 340), strict=True)) / sum(weights)
    assert f.value == pytest.approx((3 * 320 + 27 * level) / 30, abs=0.01)
    assert f.status == "achieved"  # under 340


def test_a_manual_key_result_keeps_its_last_check_in_of_each_day(store):
    checkins = [
        ("hire", P0 - DAY, 1.0),  # before the period: not its data
        ("hire", P0 + 3600, 1.0),
        ("hire", P0 + 7200, 2.0),
        ("hire", P0 + 2 * DAY, 3.0),
    ]
    source = store(checkins=checkins)
    found = source.reader.checkins("hire")
    samples, days = kr_samples(
        kr(id="hire", title="H", start=0, target=4), source, PERIOD, P0 + 3 * DAY, found
    )
    assert samples == [(P0 + 7200, 2.0), (P0 + 2 * DAY, 3.0)]
    assert days == 2


def test_a_percentile_reads_each_days_own_value(store):
    # Given latency on every day of the first 12 days, as-of day 12's end
    points = [("latency", {}, P0 + d * DAY + 60, 100.0 + d) for d in range(12)]
    source = store(points)
    key = kr(title="L", metric="latency", agg="p90", kind="maintain_below", target=300)
    daily = kr_daily_values(key, source, PERIOD, P0 + 12 * DAY - 1)
    # Then one p90 per day: each day's only point
    assert [v for _, v in daily] == [100.0 + d for d in range(12)]


def test_a_derived_stock_is_read_at_the_last_day_ends(tmp_path):
    from kpitui.spec.formula import parse_formula
    from kpitui.spec.models import DerivedMetric

    path = tmp_path / "m.db"
    with open_writer(path) as writer:
        writer.write_points(
            [
                (m, {}, P0 + d * DAY + 60, v)
                for d in range(12)
                for m, v in (("dau", 10.0 + d), ("mau", 100.0))
            ]
        )
    reader = open_reader(path)
    derived = {"stickiness": DerivedMetric(formula="dau / mau")}
    source = MetricSource(reader, derived, {"stickiness": parse_formula("dau / mau")})
    key = kr(title="S", metric="stickiness", kind="maintain_above", target=0.1)
    samples, days = kr_samples(key, source, PERIOD, P0 + 12 * DAY - 1, [])
    reader.close()
    assert not averages(key, source)
    assert days == SAMPLED_DAYS
    assert [round(v, 2) for _, v in samples] == [0.14, 0.15, 0.16, 0.17, 0.18, 0.19, 0.2, 0.21]


def test_forecast_of_a_flow_from_the_store(store):
    # Given 10 signups a day for 10 days of a 30-day period, target 250
    points = [("signups", {}, P0 + d * DAY + 60, 10.0) for d in range(10)]
    source = store(points)
    at = P0 + 10 * DAY - 1
    key = kr(title="S", metric="signups", agg="sum", start=0, target=250)
    f = forecast_key_result(key, "increase", 0, 100.0, source, PERIOD, at, [])
    # Then 10/day over the 20 days left: 300, achieved
    assert isinstance(f, Forecast)
    assert f.pace_now == pytest.approx(10.0)
    assert f.value == pytest.approx(300.0, abs=0.01)
    assert f.status == "achieved"


def test_no_forecast_asks_nothing_of_the_store_for_a_milestone(store):
    source = store()
    key = kr(title="Ship", kind="milestone", done=False)
    f = forecast_key_result(key, "milestone", None, 0, source, PERIOD, P0 + DAY, [])
    assert f == NoForecast("milestones are not forecast")


# -- the sample board, a month before the quarter's end -------------------------------


@pytest.fixture(scope="module")
def q4_sample(tmp_path_factory):
    """The sample store to the last hour of 2026-Q4 (Berlin), read through its spec."""
    from pathlib import Path

    from kpitui.sample_data import generate as sample
    from kpitui.spec import load_dashboard
    from kpitui.timeutil import parse_time

    path = tmp_path_factory.mktemp("q4") / "metrics.db"
    sample.generate(path, end=parse_time("2026-12-31T22:00:00Z"))
    spec = load_dashboard(Path(__file__).parents[2] / "dashboard.yaml").dashboard
    reader = open_reader(path)
    yield spec, reader
    reader.close()


def forecasts_at(spec, reader, as_of):
    from kpitui.engine.evaluate import prepare
    from kpitui.engine.okr import OkrEvaluator, okr_period
    from kpitui.engine.okr_forecast import okr_forecasts

    prepared = prepare(spec)
    source = MetricSource(reader, spec.metrics, prepared.formulas)
    period = okr_period(spec, as_of, prepared.tz)
    evaluator = OkrEvaluator(spec, source, as_of, period)
    views = evaluator.objectives()
    return views, okr_forecasts(spec.okrs, views, source, period, as_of, evaluator.checkins)


def test_a_month_ahead_the_sample_forecast_lands_near_the_quarters_result(q4_sample):
    from kpitui.engine.board import iter_objectives
    from kpitui.timeutil import parse_time

    spec, reader = q4_sample
    # Given the board on 1 December, a month before the quarter ends
    _, ahead = forecasts_at(spec, reader, parse_time("2026-12-01T00:00:00+01:00"))
    # When the quarter's last hour is read
    end, _ = forecasts_at(spec, reader, parse_time("2026-12-31T22:00:00Z"))
    actual = {kr.id: kr.current for o in iter_objectives(end) for kr in o.key_results}
    # Then every key result has a forecast (the sample has data every day, no milestone)
    assert all(f.has_forecast for f in ahead.key_results.values()), ahead.key_results
    # And the line-like ones land within a few percent of what the quarter reached
    for kr_id, within in (("mrr-200k", 0.02), ("trial-conversions", 0.05)):
        forecast = ahead.key_results[kr_id].value
        assert forecast == pytest.approx(actual[kr_id], rel=within), kr_id
    # And each objective rolls its children's forecasts up
    assert set(ahead.objectives) == {o.id for o in iter_objectives(end)}
    assert ahead.objectives["grow-revenue"] is not None
