"""A key result's value chart draws the period before beside this one (`c`): day k of
last quarter on day k of this quarter, as its value read then."""

from __future__ import annotations

from datetime import date

import pytest

from kpitui.engine.detail import kr_detail
from kpitui.engine.previous_period import previous_period
from kpitui.spec.models import convert
from kpitui.store import open_reader, open_writer
from kpitui.timeutil import Period, parse_time, zone

DAY = 86400
AS_OF = parse_time("2026-11-24T12:00:00Z")
Q3 = parse_time("2026-07-01")
Q4 = parse_time("2026-10-01")
UTC = zone("UTC")


def test_the_period_before_a_quarter_is_the_quarter_before():
    q1 = Period(date(2027, 1, 1), date(2027, 3, 31), UTC)
    assert previous_period(q1) == Period(date(2026, 10, 1), date(2026, 12, 31), UTC)
    # And before any other span, as many days ending the day before
    custom = Period(date(2026, 11, 10), date(2026, 11, 19), UTC)
    assert previous_period(custom) == Period(date(2026, 10, 31), date(2026, 11, 9), UTC)


SPEC = convert(
    {
        "timezone": "UTC",
        "period": {"quarter": "2026-Q4"},
        "okrs": [
            {
                "id": "grow",
                "title": "Grow",
                "key_results": [
                    {"id": "signups", "title": "Signups", "metric": "signups", "agg": "sum",
                     "start": 0, "target": 3000},
                    {"id": "new", "title": "New", "metric": "fresh", "agg": "sum",
                     "start": 0, "target": 100},
                ],
            }
        ],
    }
)  # fmt: skip


@pytest.fixture
def reader(tmp_path):
    # Given 10 signups a day all through Q3 and 20 a day in Q4 so far; a metric that
    # started in Q4
    path = tmp_path / "metrics.db"
    points = [("signups", {}, Q3 + d * DAY + 3600, 10.0) for d in range(92)]
    points += [("signups", {}, Q4 + d * DAY + 3600, 20.0) for d in range(55)]
    points += [("fresh", {}, Q4 + d * DAY + 3600, 1.0) for d in range(55)]
    with open_writer(path) as writer:
        writer.write_points(points)
    opened = open_reader(path)
    yield opened
    opened.close()


def test_a_metric_kr_compares_with_the_same_day_of_last_quarter(reader):
    chart = kr_detail(SPEC, reader, "kr", "signups", AS_OF).metric_chart
    assert chart.comparison_label == "last quarter"
    assert chart.comparison_offset == 92 * DAY  # Jul 1 to Oct 1
    [now] = [s for s in chart.series if not s.dashed]
    [before] = chart.comparison
    assert before.compares == now.name == "signups"
    # Then on Oct 1 this quarter had 20, last quarter 10 on Jul 1; by Oct 30, 600 and 300
    assert now.points[0][1] == 20.0 and before.points[0] == (now.points[0][0], 10.0)
    assert now.points[29][1] == 600.0 and before.points[29] == (now.points[29][0], 300.0)
    # And the earlier line runs to the end of the axis (the forecast's: the quarter's
    # end), where last quarter ended: 920
    assert chart.x_range[1] == parse_time("2027-01-01")
    assert before.points[-1] == (parse_time("2027-01-01") - 1, 920.0)


def test_a_kr_with_nothing_last_quarter_compares_with_nothing(reader):
    chart = kr_detail(SPEC, reader, "kr", "new", AS_OF).metric_chart
    assert chart.comparison == () and chart.comparison_label is None
