"""Key-result forecasts to the period's end: the maths, with worked numbers."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest

from kpitui.engine.forecast import (
    DAY,
    Forecast,
    NoForecast,
    ObjectiveForecast,
    forecast_kr,
    last_per_day,
    recency_weight,
    rollup_forecast,
    weighted_pace,
)
from kpitui.timeutil import parse_time

# A 90-day period starting at epoch 0: day d ends at d * DAY.
END = 90 * DAY


def days(values: dict[int, float]) -> list[tuple[int, float]]:
    return [(d * DAY, v) for d, v in sorted(values.items())]


def test_a_week_old_value_counts_half():
    # Given now / Then today's weight 1, a week ago 0.5, two weeks 0.25
    assert recency_weight(14 * DAY, 14 * DAY) == 1
    assert recency_weight(7 * DAY, 14 * DAY) == pytest.approx(0.5)
    assert recency_weight(0, 14 * DAY) == pytest.approx(0.25)


def test_linear_key_result():
    # Given +20/day for 30 days (600 now), target 2000 of a 90-day period
    samples = days({d: 20.0 * d for d in range(1, 31)})
    f = forecast_kr("increase", 0, 2000, 600, samples, 30, 30 * DAY, 0, END)
    # Then the pace is 20/day whatever the weights, and 60 days left make 600 + 1200
    assert isinstance(f, Forecast)
    assert f.pace_now == pytest.approx(20.0)
    assert f.value == pytest.approx(1800.0)
    assert f.progress_raw == pytest.approx(0.9)
    assert f.status == "missed"
    # And the pace needed is the 1400 still to do over 60 days
    assert f.pace_needed == pytest.approx(1400 / 60)
    assert f.target_at is None  # not reached before the end


def test_a_key_result_that_stalled_last_week_slows_its_pace():
    # Given +10/day for 30 days, then flat at 300 for 7 days
    samples = days({d: 10.0 * min(d, 30) for d in range(1, 38)})
    f = forecast_kr("increase", 0, 900, 300, samples, 37, 37 * DAY, 0, END)
    assert isinstance(f, Forecast)
    # Then the pace reads 7.60/day (an unweighted fit would say 8.94, the old pace 10)
    assert f.pace_now == pytest.approx(7.599, abs=1e-3)
    unweighted = weighted_pace(samples, 37 * DAY, half_life_days=1e12)
    assert unweighted == pytest.approx(8.938, abs=1e-3)
    # And 53 days at that pace end at 300 + 402.7 = 702.7 of 900: 78%, missed
    assert f.value == pytest.approx(300 + 7.599 * 53, abs=0.1)
    assert f.progress == pytest.approx(0.781, abs=1e-3)
    assert f.status == "missed"


def test_a_stall_of_two_weeks_weighs_more():
    # Given the same KR two weeks into its stall / Then 4.84/day
    samples = days({d: 10.0 * min(d, 30) for d in range(1, 45)})
    assert weighted_pace(samples, 44 * DAY) == pytest.approx(4.842, abs=1e-3)


def test_decreasing_key_result():
    # Given churn 0.025 → target 0.018, falling 0.0001/day for 20 days (0.023 now)
    samples = days({d: 0.025 - 0.0001 * d for d in range(1, 21)})
    f = forecast_kr("decrease", 0.025, 0.018, 0.023, samples, 20, 20 * DAY, 0, END)
    assert isinstance(f, Forecast)
    # Then 70 days at -0.0001 end at 0.016: past the target, raw progress 9/7
    assert f.pace_now == pytest.approx(-0.0001)
    assert f.value == pytest.approx(0.016)
    assert f.progress_raw == pytest.approx(9 / 7)
    assert f.progress == 1.0
    assert f.status == "achieved"
    # And it needs only -0.005 over 70 days, reaching 0.018 50 days from now
    assert f.pace_needed == pytest.approx(-0.005 / 70)
    assert f.target_at == 70 * DAY


def test_a_key_result_with_two_points_has_no_forecast():
    samples = days({1: 10.0, 2: 20.0})
    f = forecast_kr("increase", 0, 100, 20, samples, 2, 2 * DAY, 0, END)
    assert f == NoForecast("not enough data (2 days; a forecast needs 3)")


def test_three_days_are_enough():
    samples = days({1: 10.0, 2: 20.0, 3: 30.0})
    f = forecast_kr("increase", 0, 1000, 30, samples, 3, 3 * DAY, 0, END)
    assert isinstance(f, Forecast) and f.pace_now == pytest.approx(10)


def test_a_milestone_is_not_forecast():
    samples = days({1: 0.0, 2: 0.0, 3: 1.0})
    f = forecast_kr("milestone", None, 1, 1, samples, 3, 3 * DAY, 0, END)
    assert f == NoForecast("milestones are not forecast")


def test_no_forecast_outside_the_period():
    samples = days({1: 1.0, 2: 2.0, 3: 3.0})
    before = forecast_kr("increase", 0, 9, 3, samples, 3, -1, 0, END)
    after = forecast_kr("increase", 0, 9, 3, samples, 3, END, 0, END)
    assert before == NoForecast("the period has not started")
    assert after == NoForecast("the period is over")


def test_maintain_below_that_will_cross_its_target():
    # Given CAC 320 under a 340 ceiling, rising 2/day, 30 days left
    samples = days({d: 300.0 + 2 * d for d in range(1, 11)})
    f = forecast_kr("maintain_below", None, 340, 320, samples, 10, 10 * DAY, 0, 40 * DAY)
    assert isinstance(f, Forecast)
    # Then it ends at 380, over the line: missed, crossing 340 ten days from now
    assert f.value == pytest.approx(380)
    assert f.status == "missed" and f.progress == 0.0
    assert f.pace_needed is None
    assert f.target_at == 20 * DAY


def test_maintain_above_that_stays_on_its_side():
    # Given CSAT 0.86 over a 0.80 floor, drifting -0.0005/day, 30 days left
    samples = days({d: 0.87 - 0.0005 * d for d in range(1, 21)})
    f = forecast_kr("maintain_above", None, 0.8, 0.86, samples, 20, 20 * DAY, 0, 50 * DAY)
    assert isinstance(f, Forecast)
    # Then it ends at 0.845: still above, achieved, never crossing
    assert f.value == pytest.approx(0.845)
    assert f.status == "achieved" and f.target_at is None


def test_a_target_already_met_needs_no_more_pace():
    samples = days({1: 50.0, 2: 80.0, 3: 120.0})
    f = forecast_kr("increase", 0, 100, 120, samples, 3, 3 * DAY, 0, END)
    assert isinstance(f, Forecast) and f.pace_needed == 0.0 and f.status == "achieved"
    assert shown(f, target=100.0).pace_display == "target met, doing +35.2/day"


def test_last_value_of_each_local_day():
    # Given three points, two on the same Berlin day (23:30 UTC is the next day there)
    berlin = ZoneInfo("Europe/Berlin")
    a = parse_time("2026-11-10T08:00:00Z")
    b = parse_time("2026-11-10T20:00:00Z")
    c = parse_time("2026-11-10T23:30:00Z")
    # Then the 10th keeps its last (b), the 11th is c
    assert last_per_day([(a, 1.0), (b, 2.0), (c, 3.0)], berlin) == [(b, 2.0), (c, 3.0)]


def test_objective_rolls_projections_up_like_progress():
    # Given a KR forecast to 90% (missed), one without a forecast at 50% now, and one
    # forecast achieved with weight 2
    missed = Forecast(1800, 0.9, 0.9, "missed", 20, 23.3, 30)
    achieved = Forecast(120, 1.2, 1.0, "achieved", 30, 0, 3)
    f = rollup_forecast([(missed, 0.3, 1), (None, 0.5, 1), (achieved, 0.8, 2)])
    # Then (0.9 + 0.5 + 2 * 1.0) / 4 = 0.85, and the worst status: missed
    assert f == ObjectiveForecast(pytest.approx(0.85), "missed")
    # And with no forecast below it, an objective has none
    assert rollup_forecast([(None, 0.5, 1)]) is None
    # And a milestone not done (no forecast) stays undone: the objective misses with it
    ahead = rollup_forecast([(achieved, 0.8, 1), (None, 0.0, 1)])
    assert ahead == ObjectiveForecast(0.5, "missed")
    assert rollup_forecast([(achieved, 0.8, 1), (None, 1.0, 1)]) == ObjectiveForecast(
        1.0, "achieved"
    )


# -- as shown -------------------------------------------------------------------------


def shown(found, kind="increase", target=2000.0, **fmt):
    from datetime import UTC

    from kpitui.engine.forecast_view import kr_forecast_view

    return kr_forecast_view(found, kind, target, UTC, **fmt)


def test_the_forecast_reads_as_pace_and_projection():
    samples = days({d: 20.0 * d for d in range(1, 31)})
    view = shown(forecast_kr("increase", 0, 2000, 600, samples, 30, 30 * DAY, 0, END))
    assert view.summary == "on pace for 1,800 / 2,000 · 90%"
    assert view.pace_display == "needs +23.3/day, doing +20/day"
    assert view.status_label == "✖ missed"
    assert view.compact == "→ 90% ✖"


def test_a_pace_too_small_to_read_gets_decimals_then_a_longer_unit():
    # Given churn falling 0.0001 a day (0.01 pp), shown with 2 decimals of percent
    samples = days({d: 0.025 - 0.0001 * d for d in range(1, 21)})
    f = forecast_kr("decrease", 0.025, 0.018, 0.023, samples, 20, 20 * DAY, 0, END)
    view = shown(f, "decrease", 0.018, fmt="percent", decimals=2)
    # Then -0.01 pp for both would hide that one is 40% more: a decimal more tells them apart
    assert view.pace_display == "needs -0.007 pp/day, doing -0.010 pp/day"
    assert view.summary == "on pace for 1.60% / 1.80% · 129%, reaching it on Mar 12"
    # And at 0 decimals, where even two more show 0.00 pp a day, it is said per week
    coarse = shown(f, "decrease", 0.018, fmt="percent", decimals=0)
    assert coarse.pace_display == "needs -0.05 pp/week, doing -0.07 pp/week"


def test_a_maintain_forecast_says_its_side():
    samples = days({d: 300.0 + 2 * d for d in range(1, 11)})
    f = forecast_kr("maintain_below", None, 340, 320, samples, 10, 10 * DAY, 0, 40 * DAY)
    view = shown(f, "maintain_below", 340.0, fmt="currency", currency="USD")
    assert view.summary == "on pace to end at $380.00, not below $340.00, crossing on Jan 21"
    assert view.pace_display == "moving +$2.00/day"
    assert view.compact == "→ ✖ missed"


def test_no_forecast_says_why():
    view = shown(NoForecast("not enough data (2 days; a forecast needs 3)"))
    assert view.summary == "not enough data (2 days; a forecast needs 3)"
    assert (view.compact, view.pace_display, view.has_forecast) == ("", "", False)
