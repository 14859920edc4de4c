"""OKR progress, roll-up, expected progress and status (SPEC §3 OKRs)."""

from __future__ import annotations

import pytest

from kpitui.engine.okr import kr_progress, kr_status, weighted_progress, worst_status
from kpitui.timeutil import Period, parse_time
from tests.engine.conftest import DAY, board_of
from tests.engine.fakes import FakeReader

# Q2 2026 has 91 days (1 Apr .. 30 Jun). Its 46th day starts 45 days in.
Q2_DAY_46 = parse_time("2026-05-16T00:00:00Z")
Q2 = {"quarter": "2026-Q2"}


# -- progress -------------------------------------------------------------------------


def test_increase_progress():
    # Given start 1000, target 2000, current 1450 / Then 0.45
    assert kr_progress("increase", 1000, 2000, 1450, None) == pytest.approx((0.45, 0.45))


def test_decrease_progress_and_clamping():
    # Given start 100, target 60: current 70 → 0.75; current 50 → raw 1.25, clamped 1.0
    assert kr_progress("decrease", 100, 60, 70, None) == pytest.approx((0.75, 0.75))
    assert kr_progress("decrease", 100, 60, 50, None) == pytest.approx((1.25, 1.0))
    # And going the wrong way is negative raw progress, clamped to 0
    assert kr_progress("decrease", 100, 60, 110, None) == pytest.approx((-0.25, 0.0))


@pytest.mark.parametrize(
    ("kind", "current", "progress"),
    [
        ("maintain_above", 0.9, 1.0),
        ("maintain_above", 0.8999, 0.0),
        ("maintain_below", 0.9, 1.0),
        ("maintain_below", 0.9001, 0.0),
    ],
)
def test_maintain_is_met_inclusively(kind, current, progress):
    # Given target 0.9 / Then met at the target itself
    assert kr_progress(kind, None, 0.9, current, None) == (progress, progress)


def test_milestone_done_or_metric_reaching_one():
    assert kr_progress("milestone", None, None, None, True) == (1.0, 1.0)
    assert kr_progress("milestone", None, None, None, False) == (0.0, 0.0)
    assert kr_progress("milestone", None, None, 1.0, None) == (1.0, 1.0)
    assert kr_progress("milestone", None, None, 0.0, None) == (0.0, 0.0)
    assert kr_progress("milestone", None, None, None, None) == (None, None)


def test_objective_progress_is_the_weighted_mean():
    # Given KRs at 0.45, 0.75, 1.0 / Then 0.733…; with the last weighted 2 → 0.80
    assert weighted_progress([(0.45, 1), (0.75, 1), (1.0, 1)]) == pytest.approx(2.2 / 3)
    assert weighted_progress([(0.45, 1), (0.75, 1), (1.0, 2)]) == pytest.approx(0.80)
    # And parts with nothing to measure are left out; nothing at all is None, not 0
    assert weighted_progress([(0.5, 1), (None, 3)]) == 0.5
    assert weighted_progress([(None, 1)]) is None
    assert weighted_progress([]) is None


# -- expected progress and status ------------------------------------------------------


def test_expected_progress_on_day_46_of_a_91_day_quarter():
    period = Period(*_q2_dates(), tz=_utc())
    assert period.expected_progress(Q2_DAY_46) == pytest.approx(45 / 91)
    assert round(period.expected_progress(Q2_DAY_46), 4) == 0.4945


@pytest.mark.parametrize(
    ("progress", "status"),
    [
        (0.45, "on_track"),
        (0.20, "at_risk"),
        (0.10, "off_track"),
        (1.0, "achieved"),
        (None, "off_track"),
    ],
)
def test_status_from_the_gap_to_expected(progress, status):
    # Given expected 0.4945 (day 46 of 91)
    period = Period(*_q2_dates(), tz=_utc())
    expected = period.expected_progress(Q2_DAY_46)
    assert kr_status("increase", progress, expected, period, Q2_DAY_46) == status


def test_gap_boundaries_are_inclusive():
    period = Period(*_q2_dates(), tz=_utc())
    # gap exactly 0.15 is on track, exactly 0.30 at risk (float noise aside)
    assert kr_status("increase", 0.345, 0.495, period, Q2_DAY_46) == "on_track"
    assert kr_status("increase", 0.195, 0.495, period, Q2_DAY_46) == "at_risk"


def test_status_before_and_after_the_period():
    period = Period(*_q2_dates(), tz=_utc())
    before, after = period.start_ts - 1, period.end_ts
    assert kr_status("increase", 0.9, 0.0, period, before) == "not_started"
    assert kr_status("increase", 1.0, 1.0, period, after) == "achieved"
    assert kr_status("increase", 0.99, 1.0, period, after) == "missed"
    assert kr_status("maintain_above", 1.0, 1.0, period, after) == "achieved"


def test_maintain_status_is_on_track_when_met_else_off_track():
    period = Period(*_q2_dates(), tz=_utc())
    assert kr_status("maintain_below", 1.0, 0.49, period, Q2_DAY_46) == "on_track"
    assert kr_status("maintain_below", 0.0, 0.01, period, Q2_DAY_46) == "off_track"


def test_objective_status_is_the_worst_child():
    assert worst_status(["achieved", "at_risk", "on_track"]) == "at_risk"
    assert worst_status(["achieved", "missed", "off_track"]) == "missed"
    assert worst_status(["not_started", "on_track"]) == "on_track"
    assert worst_status(["not_started", "not_started"]) == "not_started"


# -- through evaluate ------------------------------------------------------------------


def _q2_dates():
    from datetime import date

    return date(2026, 4, 1), date(2026, 6, 30)


def _utc():
    from datetime import UTC

    return UTC


def test_okr_tree_worked_example():
    # Given revenue (metric, last) at 1450 of 1000→2000, churn (manual) at 70 of 100→60,
    # and a done milestone weighted 2, on day 46 of Q2
    reader = FakeReader([("mrr", {}, Q2_DAY_46 - DAY, 1450), ("mrr", {}, Q2_DAY_46 + DAY, 9999)])
    reader.add_checkin("cut-churn", Q2_DAY_46 - 2 * DAY, 70, "at_risk", "slow")
    okrs = [
        {
            "title": "Grow revenue",
            "owner": "Ana",
            "key_results": [
                {"title": "MRR to 2000", "metric": "mrr", "start": 1000, "target": 2000},
                {"id": "cut-churn", "title": "Cut churn", "start": 100, "target": 60},
                {"title": "Launch pricing", "done": True, "weight": 2},
            ],
        }
    ]
    board = board_of(reader, Q2_DAY_46, okrs=okrs, period=Q2)
    objective = board.okrs[0]
    mrr, churn, launch = objective.key_results
    # Then each KR's progress and status follow the worked numbers
    assert (mrr.id, mrr.kind, mrr.current, mrr.progress, mrr.status) == (
        "mrr-to-2000",
        "increase",
        1450,
        pytest.approx(0.45),
        "on_track",
    )
    assert (churn.kind, churn.current, churn.progress, churn.status) == (
        "decrease",
        70,
        pytest.approx(0.75),
        "on_track",
    )
    assert (churn.confidence, churn.last_checkin_at) == ("at_risk", Q2_DAY_46 - 2 * DAY)
    assert (launch.kind, launch.progress, launch.status) == ("milestone", 1.0, "achieved")
    # And the objective rolls them up with weights: (0.45 + 0.75 + 2·1.0) / 4 = 0.80
    assert objective.progress == pytest.approx(0.80)
    assert objective.expected == pytest.approx(45 / 91)
    assert objective.status == "on_track"
    assert (objective.id, objective.owner) == ("grow-revenue", "Ana")
    assert board.period_label == "2026-Q2"
    assert board.expected == pytest.approx(45 / 91)


@pytest.mark.parametrize(
    ("current", "status"), [(1450, "on_track"), (1200, "at_risk"), (1100, "off_track")]
)
def test_metric_kr_status_on_day_46(current, status):
    reader = FakeReader([("mrr", {}, Q2_DAY_46 - DAY, current)])
    okrs = [
        {
            "title": "O",
            "key_results": [{"title": "K", "metric": "mrr", "start": 1000, "target": 2000}],
        }
    ]
    board = board_of(reader, Q2_DAY_46, okrs=okrs, period=Q2)
    assert board.okrs[0].key_results[0].status == status
    assert board.okrs[0].status == status


def test_windowed_kr_counts_since_the_period_started():
    # Given signups before the period (not counted) and within it
    start = parse_time("2026-04-01T00:00:00Z")
    reader = FakeReader(
        [
            ("signups", {}, start - 1, 500),
            ("signups", {}, start, 100),
            ("signups", {}, Q2_DAY_46, 200),
            ("signups", {}, Q2_DAY_46 + 1, 700),
        ]
    )
    okrs = [
        {
            "title": "O",
            "key_results": [{"title": "K", "metric": "signups", "agg": "sum", "target": 1000}],
        }
    ]
    kr = board_of(reader, Q2_DAY_46, okrs=okrs, period=Q2).okrs[0].key_results[0]
    # Then current is 300 of 0 → 1000 (start defaults to 0)
    assert (kr.current, kr.start, kr.progress) == (300, 0, pytest.approx(0.3))


def test_manual_kr_without_checkins_starts_at_start_and_is_due():
    okrs = [
        {
            "title": "O",
            "key_results": [
                {"id": "nps", "title": "NPS 40", "start": 20, "target": 40, "checkin_every": "7d"}
            ],
        }
    ]
    kr = board_of(FakeReader(), Q2_DAY_46, okrs=okrs, period=Q2).okrs[0].key_results[0]
    assert (kr.current, kr.progress, kr.confidence, kr.checkin_due) == (20, 0.0, None, True)


@pytest.mark.parametrize(("age_days", "due"), [(6, False), (7, False), (8, True)])
def test_checkin_due_after_checkin_every(age_days, due):
    # Given a manual KR checked in `age_days` ago, weekly check-ins required at the top level
    reader = FakeReader()
    reader.add_checkin("k", Q2_DAY_46 - age_days * 86400, 30, "on_track")
    reader.add_checkin("k", Q2_DAY_46 + DAY, 40, "on_track")  # after as-of: not seen
    okrs = [{"title": "O", "key_results": [{"id": "k", "title": "K", "start": 20, "target": 40}]}]
    kr = (
        board_of(reader, Q2_DAY_46, okrs=okrs, period=Q2, checkin_every="7d").okrs[0].key_results[0]
    )
    assert kr.current == 30
    assert kr.checkin_due is due


def test_checkin_not_due_before_the_period_or_without_cadence():
    okrs = [
        {
            "title": "O",
            "key_results": [
                {"id": "k", "title": "K", "start": 0, "target": 1, "checkin_every": "7d"}
            ],
        }
    ]
    before = parse_time("2026-03-20T00:00:00Z")
    kr = board_of(FakeReader(), before, okrs=okrs, period=Q2).okrs[0].key_results[0]
    assert (kr.checkin_due, kr.status) == (False, "not_started")
    plain = [{"title": "O", "key_results": [{"id": "k", "title": "K", "start": 0, "target": 1}]}]
    assert (
        board_of(FakeReader(), Q2_DAY_46, okrs=plain, period=Q2).okrs[0].key_results[0].checkin_due
        is False
    )


def test_child_objectives_roll_up_and_worst_status_wins():
    # Given a parent with one KR at 0.45 and a child objective whose KR is at 0.10
    reader = FakeReader([("a", {}, Q2_DAY_46 - DAY, 0.45), ("b", {}, Q2_DAY_46 - DAY, 0.10)])
    okrs = [
        {
            "title": "Parent",
            "key_results": [{"title": "A", "metric": "a", "start": 0, "target": 1}],
            "children": [
                {
                    "title": "Child",
                    "weight": 3,
                    "key_results": [{"title": "B", "metric": "b", "start": 0, "target": 1}],
                },
                {"title": "Empty child"},
            ],
        }
    ]
    parent = board_of(reader, Q2_DAY_46, okrs=okrs, period=Q2).okrs[0]
    child, empty = parent.children
    # Then the child's progress (0.10) weighs 3: (0.45 + 3·0.10) / 4
    assert child.progress == pytest.approx(0.10)
    assert parent.progress == pytest.approx(0.1875)
    assert (child.status, parent.status) == ("off_track", "off_track")
    # And an objective with nothing to measure has no progress
    assert empty.progress is None


def test_period_defaults_to_the_quarter_holding_as_of_in_the_spec_timezone():
    # Given 31 Dec 23:30 UTC, which is already 1 Jan in Berlin
    as_of = parse_time("2026-12-31T23:30:00Z")
    board = board_of(FakeReader(), as_of, okrs=[{"title": "O"}], timezone="Europe/Berlin")
    # Then the period is Q1 2027, starting at Berlin midnight
    assert board.period_label == "2027-Q1"
    assert board.period_start == parse_time("2026-12-31T23:00:00Z")


def test_period_from_dates_is_inclusive_of_its_end():
    period = {"start": "2026-10-01", "end": "2026-10-10"}
    board = board_of(
        FakeReader(), parse_time("2026-10-06T00:00:00Z"), period=period, okrs=[{"title": "O"}]
    )
    # 10 days, 5 elapsed
    assert board.expected == pytest.approx(0.5)
    assert board.period_end == parse_time("2026-10-11T00:00:00Z")


def test_store_failure_marks_the_kr_error_without_raising():
    reader = FakeReader()
    reader.fail = OSError("disk I/O error")
    okrs = [{"title": "O", "key_results": [{"title": "K", "metric": "m", "start": 0, "target": 1}]}]
    kr = board_of(reader, Q2_DAY_46, okrs=okrs, period=Q2, kpis=[]).okrs[0].key_results[0]
    assert kr.error == "disk I/O error"
    assert kr.progress is None


@pytest.mark.parametrize(("days_in", "due"), [(0, False), (7, False), (8, True)])
def test_a_first_checkin_falls_due_one_cadence_into_the_period(days_in, due):
    # Given a weekly manual KR never checked in, `days_in` days into the quarter
    okrs = [
        {
            "title": "O",
            "key_results": [
                {"id": "k", "title": "K", "start": 0, "target": 1, "checkin_every": "7d"}
            ],
        }
    ]
    as_of = parse_time("2026-04-01T00:00:00Z") + days_in * DAY
    kr = board_of(FakeReader(), as_of, okrs=okrs, period=Q2).okrs[0].key_results[0]
    # Then it is due only once a whole week of the period has passed without one
    assert kr.checkin_due is due


def test_a_milestone_marked_done_in_the_spec_is_never_due():
    okrs = [
        {
            "title": "O",
            "key_results": [{"id": "k", "title": "Ship", "done": False, "checkin_every": "7d"}],
        }
    ]
    kr = board_of(FakeReader(), Q2_DAY_46, okrs=okrs, period=Q2).okrs[0].key_results[0]
    assert (kr.kind, kr.checkin_due) == ("milestone", False)


def test_a_sum_kr_with_nothing_in_the_period_is_zero_and_counts_in_the_rollup():
    # Given signups only before the period, and a done milestone beside the sum KR
    reader = FakeReader([("signups", {}, parse_time("2026-03-15T00:00:00Z"), 500)])
    okrs = [
        {
            "title": "O",
            "key_results": [
                {"title": "Sum", "metric": "signups", "agg": "sum", "target": 10},
                {"title": "Count", "metric": "signups", "agg": "count", "target": 10},
                {"title": "Avg", "metric": "signups", "agg": "avg", "target": 10},
                {"title": "Done", "kind": "milestone", "done": True},
            ],
        }
    ]
    objective = board_of(reader, Q2_DAY_46, okrs=okrs, period=Q2).okrs[0]
    total, count, avg, _ = objective.key_results
    # Then nothing happened: the sum and the count are 0, an average has no value
    assert (total.current, total.progress) == (0.0, 0.0)
    assert (count.current, count.progress) == (0.0, 0.0)
    assert (avg.current, avg.progress, avg.status) == (None, None, "off_track")
    # And the objective is (0 + 0 + 0 + 1) / 4, not the done milestone's 100%
    assert objective.progress == pytest.approx(0.25)


def test_after_the_period_a_kr_reads_the_period_not_what_came_after():
    # Given Q2's signups, more in July, and a manual KR checked in during and after Q2
    end = parse_time("2026-07-01T00:00:00Z")
    reader = FakeReader(
        [
            ("signups", {}, end - 1, 400),
            ("signups", {}, end, 900),
            ("mrr", {}, end - DAY, 80),
            ("mrr", {}, end + DAY, 120),
        ]
    )
    reader.add_checkin("hire", end - DAY, 2, "at_risk")
    reader.add_checkin("hire", end + DAY, 4, "on_track")
    okrs = [
        {
            "title": "O",
            "key_results": [
                {"title": "Signups", "metric": "signups", "agg": "sum", "target": 1000},
                {"title": "MRR", "metric": "mrr", "start": 0, "target": 100},
                {"id": "hire", "title": "Hire", "start": 0, "target": 4},
            ],
        }
    ]
    # When the quarter is reviewed in August
    krs = board_of(reader, end + 40 * DAY, okrs=okrs, period=Q2).okrs[0].key_results
    # Then each reads its value at the quarter's last second, and each missed
    assert [kr.current for kr in krs] == [400, 80, 2]
    assert [kr.status for kr in krs] == ["missed"] * 3
    assert krs[2].confidence == "at_risk"


def test_a_derived_ratio_kr_over_a_period_without_its_denominator_has_no_value():
    # Given trial conversions in the period and no signups
    reader = FakeReader([("trials", {}, Q2_DAY_46 - DAY, 3)])
    okrs = [
        {
            "title": "O",
            "key_results": [{"title": "Conv", "metric": "conv", "agg": "sum", "target": 0.2}],
        }
    ]
    metrics = {"conv": {"formula": "trials / signups"}}
    kr = board_of(reader, Q2_DAY_46, okrs=okrs, period=Q2, metrics=metrics).okrs[0]
    # Then 3 / 0 is no value (SPEC: division by zero gives no value), not 0
    assert kr.key_results[0].current is None
    # And signups without trials convert 0 of them
    reader = FakeReader([("signups", {}, Q2_DAY_46 - DAY, 30)])
    kr = board_of(reader, Q2_DAY_46, okrs=okrs, period=Q2, metrics=metrics).okrs[0]
    assert kr.key_results[0].current == 0.0
