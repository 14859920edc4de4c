"""The one rule that picks a chart's bucket for a range: the KPI detail's range keys, the
chart detail's and the board's `t` all get the same bucket for the same points."""

from __future__ import annotations

import pytest

from kpitui.engine import evaluate
from kpitui.engine.detail import kpi_detail
from kpitui.engine.detail_chart import chart_detail
from kpitui.engine.ranges import BOARD_RANGES, next_board_range, range_bucket
from kpitui.spec.models import convert
from kpitui.store import open_reader, open_writer
from kpitui.timeutil import parse_time

HOUR = 3600
DAY = 86400
AS_OF = parse_time("2026-11-24T12:00:00Z")


@pytest.mark.parametrize(
    ("key", "spacing", "bucket"),
    [
        # Points every 15 minutes: as fine as 120 buckets allow.
        ("7d", 900, 6 * HOUR),  # 168 hourly buckets would be too many: 28 of 6h
        ("30d", 900, 6 * HOUR),  # exactly 120
        ("90d", 900, DAY),  # 360 of 6h are too many: 90 days
        ("1y", 900, 7 * DAY),  # 365 days are too many: 53 weeks, never 8,760 hours
        # Daily points: never finer than a day (6h buckets would be 3 gaps in 4).
        ("7d", DAY, DAY),
        ("30d", DAY, DAY),
        ("90d", DAY, DAY),
        ("1y", DAY, 7 * DAY),
        # Weekly points: weekly buckets, whatever the range.
        ("7d", 7 * DAY, 7 * DAY),
        ("90d", 7 * DAY, 7 * DAY),
        # Nothing known about the points: the range's own.
        ("7d", None, 6 * HOUR),
        ("1y", None, 7 * DAY),
    ],
)
def test_a_range_gets_the_finest_readable_bucket_its_points_fill(key, spacing, bucket):
    assert range_bucket(key, spacing) == bucket


def test_an_unknown_range_is_refused():
    with pytest.raises(ValueError, match="unknown range '2w'"):
        range_bucket("2w")


def test_t_cycles_the_presets_and_back_to_each_charts_own():
    seen = [next_board_range(None)]
    while seen[-1] is not None:
        seen.append(next_board_range(seen[-1]))
    assert seen == ["7d", "30d", "90d", "1y", None] and set(seen) == set(BOARD_RANGES)


@pytest.fixture
def store(tmp_path):
    # Given 400 days of a daily metric and 40 days of one every 15 minutes
    path = tmp_path / "metrics.db"
    points = [("signups", {}, AS_OF - d * DAY, 10.0) for d in range(400)]
    points += [("latency", {}, AS_OF - i * 900, 100.0 + i % 7) for i in range(40 * 96)]
    with open_writer(path) as writer:
        writer.write_points(points)
    reader = open_reader(path)
    yield reader
    reader.close()


SPEC = convert(
    {
        "timezone": "UTC",
        "kpis": [
            {"id": "signups", "metric": "signups", "agg": "sum", "window": "7d"},
            {"id": "latency", "metric": "latency", "agg": "p90", "window": "1d"},
        ],
        "charts": [
            # Their own buckets are kept only without a board range.
            {
                "id": "daily",
                "metrics": ["signups"],
                "agg": "sum",
                "window": "180d",
                "bucket": "30d",
            },
            {"id": "fine", "metrics": ["latency"], "agg": "p90", "window": "2d", "bucket": "1h"},
        ],
    }
)


@pytest.mark.parametrize(
    ("key", "daily", "fine"),
    [
        ("7d", DAY, 6 * HOUR),
        ("30d", DAY, 6 * HOUR),
        ("90d", DAY, DAY),
        ("1y", 7 * DAY, 7 * DAY),
    ],
)
def test_the_boards_range_buckets_each_chart_as_its_details_range_keys_do(store, key, daily, fine):
    # When the board's range is set (t)
    board = evaluate(SPEC, store, AS_OF, chart_range=key)
    # Then each chart is over that range, in the bucket its points call for
    by_id = {c.id: c for c in board.charts}
    assert (by_id["daily"].window, by_id["daily"].bucket) == (key, daily)
    assert (by_id["fine"].window, by_id["fine"].bucket) == (key, fine)
    # And it is the bucket the KPI detail and the chart detail pick for that range
    assert kpi_detail(SPEC, store, "signups", AS_OF, key).bucket == daily
    assert kpi_detail(SPEC, store, "latency", AS_OF, key).bucket == fine
    assert chart_detail(SPEC, store, "daily", AS_OF, key).bucket == daily
    assert chart_detail(SPEC, store, "fine", AS_OF, key).bucket == fine


def test_without_a_range_each_chart_keeps_its_own_window_and_bucket(store):
    by_id = {c.id: c for c in evaluate(SPEC, store, AS_OF).charts}
    assert (by_id["daily"].window, by_id["daily"].bucket) == ("180d", 30 * DAY)
    assert (by_id["fine"].window, by_id["fine"].bucket) == ("2d", HOUR)
