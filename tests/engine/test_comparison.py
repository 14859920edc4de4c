"""A chart's comparison window, and annotations in a range, over a real SQLite store."""

from __future__ import annotations

from datetime import UTC

import pytest

from kpitui.engine.annotations import annotations_in, checkin_notes, merged, nearest
from kpitui.engine.comparison import (
    Comparison,
    chart_comparison,
    compared_series,
    comparison_label,
)
from kpitui.engine.kpi import MetricSource
from kpitui.spec.models import Compare
from kpitui.store import open_reader, open_writer
from kpitui.store.api import Checkin
from kpitui.timeutil import TimeRange, Window, parse_time

DAY = 86400
AS_OF = parse_time("2026-11-24T12:00:00Z")
MIDNIGHT = parse_time("2026-11-24T00:00:00Z")


@pytest.fixture
def source(tmp_path):
    path = tmp_path / "metrics.db"
    with open_writer(path) as writer:
        # 14 days of signups: 10 + d on day d before today (two regions), and marks
        points = []
        for d in range(14):
            ts = MIDNIGHT - d * DAY + 3600
            points.append(("signups", {"region": "eu"}, ts, 10.0 + d))
            points.append(("signups", {"region": "us"}, ts, 1.0))
        writer.write_points(points)
        writer.write_annotation(MIDNIGHT - 10 * DAY, "pricing change", ["mrr"])
        writer.write_annotation(MIDNIGHT - 3 * DAY, "v2.4 [b]released[/b]", [])
        writer.write_annotation(MIDNIGHT - 2 * DAY, "ad campaign", ["signups"])
    reader = open_reader(path)
    yield MetricSource(reader, {}, {})
    reader.close()


@pytest.mark.parametrize(
    ("compare", "window", "expected"),
    [
        (Compare("7d"), Window("30d"), Comparison(7 * DAY, "last week")),
        (Compare("365d"), Window("90d"), Comparison(365 * DAY, "last year")),
        (Compare("30d"), Window("90d"), Comparison(30 * DAY, "30d earlier")),
        (None, Window("90d"), Comparison(90 * DAY, "previous 90d")),
        (Compare("previous_period"), Window("7d"), Comparison(7 * DAY, "previous 7d")),
        (Compare("none"), Window("7d"), None),
        (None, None, None),  # the detail's "all": nothing before it to compare with
    ],
)
def test_which_span_a_chart_compares_with(compare, window, expected):
    rng = window.range(AS_OF, UTC) if window else TimeRange(0, AS_OF)
    assert chart_comparison(compare, window, rng, AS_OF, UTC) == expected


def test_a_calendar_window_compares_with_the_same_days_of_the_last_one():
    # Given qtd on 24 Nov (Q4 from 1 Oct) / Then from 1 Jul: 92 days earlier, "last quarter"
    window = Window("qtd")
    got = chart_comparison(None, window, window.range(AS_OF, UTC), AS_OF, UTC)
    assert got == Comparison(92 * DAY, "last quarter")


def test_labels_of_offsets():
    assert comparison_label(DAY) == "yesterday"
    assert comparison_label(14 * DAY) == "2w earlier"
    assert comparison_label(14 * DAY, "14d") == "14d earlier"


def test_last_week_is_moved_onto_this_week(source):
    # Given daily sums over the last 7 days, compared with a week earlier
    rng = TimeRange(MIDNIGHT - 6 * DAY, AS_OF)
    [(group, points)] = compared_series(
        source, "signups", {}, "sum", rng, DAY, Comparison(7 * DAY, "last week")
    )
    # Then each bucket sits on this week's day and holds the day a week before:
    # today's bucket holds day 7 (10 + 7 + 1), six days ago's holds day 13
    assert group == ""
    assert points[-1] == (MIDNIGHT, 18.0)
    assert points[0] == (MIDNIGHT - 6 * DAY, 24.0)
    assert len(points) == 7


def test_a_split_chart_compares_each_line(source):
    rng = TimeRange(MIDNIGHT - 6 * DAY, AS_OF)
    split = compared_series(
        source, "signups", {}, "sum", rng, DAY, Comparison(7 * DAY, "last week"), "region"
    )
    assert [g for g, _ in split] == ["eu", "us"]
    assert split[1][1][-1] == (MIDNIGHT, 1.0)


def test_annotations_on_a_metrics_charts_in_range(source):
    lo, hi = MIDNIGHT - 7 * DAY, AS_OF
    got = annotations_in(source.reader, lo, hi, ["signups"], UTC)
    # Then the mark on every chart and the one on signups; mrr's is out of range anyway
    assert [(a.text, a.metrics) for a in got] == [
        ("v2.4 [b]released[/b]", ()),
        ("ad campaign", ("signups",)),
    ]
    assert got[0].time_display == "2026-11-21 00:00"
    # And without metrics, all of them in range
    assert len(annotations_in(source.reader, MIDNIGHT - 30 * DAY, hi, None, UTC)) == 3


def test_checkin_notes_are_annotations_of_their_key_result():
    checkins = [
        Checkin("launch", MIDNIGHT - 5 * DAY, 0.3, None, "beta out", 4),
        Checkin("launch", MIDNIGHT - 3 * DAY, 0.4, "at_risk", None, 5),
        Checkin("launch", MIDNIGHT - 40 * DAY, 0.1, None, "kick-off", 2),
    ]
    notes = checkin_notes(checkins, MIDNIGHT - 30 * DAY, AS_OF, UTC)
    assert [(n.id, n.text, n.kind) for n in notes] == [(4, "beta out", "checkin")]


def test_jumping_from_mark_to_mark(source):
    marks = merged(annotations_in(source.reader, 0, AS_OF, None, UTC))
    assert nearest(marks, AS_OF, -1).text == "ad campaign"
    assert nearest(marks, marks[1].ts, -1).text == "pricing change"
    assert nearest(marks, marks[0].ts, -1) is None
    assert nearest(marks, marks[0].ts, 1).text == "v2.4 [b]released[/b]"


def test_a_chart_says_its_own_compare():
    from kpitui.spec.models import convert

    spec = convert({"charts": [{"metrics": ["signups"], "compare": "7d"}, {"metrics": ["x"]}]})
    assert spec.charts[0].compare == Compare("7d")
    assert spec.charts[1].compare is None


def test_the_boards_annotations_are_those_in_its_windows_on_its_metrics(source):
    from kpitui.engine.annotations import board_annotations, board_span
    from kpitui.spec.models import convert

    # Given a board of signups over 7 days with a 7-day trend, and a 7-day chart of mrr
    spec = convert(
        {
            "timezone": "UTC",
            "kpis": [
                {"metric": "signups", "agg": "sum", "window": "7d", "spark": {"window": "7d"}}
            ],
            "charts": [{"metrics": ["mrr"], "window": "7d"}],
        }
    )
    assert board_span(spec, AS_OF, UTC) == TimeRange(AS_OF - 7 * DAY + 1, AS_OF)
    # Then the marks of the last 7 days: mrr's pricing change is 10 days old
    got = board_annotations(spec, source.reader, AS_OF, UTC)
    assert [a.text for a in got] == ["v2.4 [b]released[/b]", "ad campaign"]
    # And a board range of 30d (`t`) on the charts reaches it
    wider = board_annotations(spec, source.reader, AS_OF, UTC, Window("30d"))
    assert [a.text for a in wider] == ["pricing change", "v2.4 [b]released[/b]", "ad campaign"]
    # And a mark on a metric the board does not show is not the board's
    bare = convert({"timezone": "UTC", "kpis": [{"metric": "signups", "window": "30d"}]})
    assert "pricing change" not in [
        a.text for a in board_annotations(bare, source.reader, AS_OF, UTC)
    ]


def test_a_mark_is_drawn_at_the_start_of_its_bucket():
    from kpitui.engine.annotations import AnnotationView
    from kpitui.engine.board import ChartView

    # Given weekly buckets from day 0 to the newest, day 21 (as-of lies in it, day 25)
    def mark(day: float) -> AnnotationView:
        return AnnotationView(1, int(day * DAY), "x", "2026", ())

    view = ChartView(
        id="c", title="c", window="28d", bucket=7 * DAY, series=(), lo=0, hi=21 * DAY,
        annotations=(mark(3.5), mark(24), mark(-1)),
    )  # fmt: skip
    # Then a mark in the newest bucket is on the axis (at its start), one before it is not
    assert view.mark_starts == (0, 21 * DAY)
