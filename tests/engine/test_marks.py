"""The marks a detail lists under its chart (`MarkList`) and `m` steps through: those in
the range shown, a key result's check-in notes among them, times in the spec's zone."""

from __future__ import annotations

import pytest

from kpitui.engine.annotations import AnnotationView, MarkList, after, marks_on_chart
from kpitui.engine.detail import kpi_detail, kr_detail
from kpitui.engine.ranges import range_holding
from kpitui.spec.models import convert
from kpitui.store import open_reader, open_writer
from kpitui.timeutil import parse_time

DAY = 86400
AS_OF = parse_time("2026-11-24T12:00:00Z")


def mark(id: int, ts: int, text: str, kind: str = "annotation", metrics=()) -> AnnotationView:
    return AnnotationView(id, ts, text, f"t{ts}", tuple(metrics), kind=kind)  # type: ignore[arg-type]


# Three marks a day apart; a check-in note shares id 1 with the oldest store mark.
MARKS = MarkList(
    (mark(1, 100, "pricing"), mark(1, 200, "note", "checkin"), mark(2, 300, "release")),
    "the last 30 days",
    "Europe/Berlin",
)


def test_m_steps_from_the_oldest_to_the_newest_and_round_again():
    keys = [MARKS.next_key(None)]
    for _ in range(3):
        keys.append(MARKS.next_key(keys[-1]))
    assert keys == ["annotation:1", "checkin:1", "annotation:2", "annotation:1"]
    # A mark gone from the range starts again from the oldest; no marks, nothing
    assert MARKS.next_key("annotation:99") == "annotation:1"
    assert MarkList((), "the last 7 days", "UTC").next_key(None) is None


def test_the_list_is_newest_first_with_the_chosen_one_marked():
    rows = MARKS.rows("checkin:1")
    assert [(r.glyph, r.text, r.kind_label) for r in rows] == [
        ("│", "release", ""),
        ("▸", "note", "check-in"),
        ("│", "pricing", ""),
    ]
    assert MARKS.heading("checkin:1") == (
        "Marks in the last 30 days: 3 · 2 of 3 · times Europe/Berlin"
    )
    assert MARKS.heading(None) == "Marks in the last 30 days: 3 · times Europe/Berlin"
    assert MarkList((), "the last 7 days", "local").heading(None) == "No marks in the last 7 days"


def test_a_long_list_shows_the_rows_around_the_chosen_one():
    # Given 10 marks (ids 0..9, oldest first) listed 4 at a time
    many = MarkList(tuple(mark(i, i * 10, f"m{i}") for i in range(10)), "range", "UTC")
    # Then with none chosen: the 4 newest, 6 older left out
    assert [r.text for r in many.rows(None, 4)] == ["m9", "m8", "m7", "m6"]
    assert (many.newer_hidden(None, 4), many.older_hidden(None, 4)) == (0, 6)
    # And with m3 chosen: it and those around it, with how many are left out each side
    assert [r.text for r in many.rows("annotation:3", 4)] == ["m5", "m4", "m3", "m2"]
    assert (many.newer_hidden("annotation:3", 4), many.older_hidden("annotation:3", 4)) == (4, 2)
    # And with the oldest chosen: the 4 oldest
    assert [r.text for r in many.rows("annotation:0", 4)] == ["m3", "m2", "m1", "m0"]
    assert many.older_hidden("annotation:0", 4) == 0


def test_a_charts_marks_and_where_its_detail_zooms_to_show_one():
    board = (mark(1, 100, "on mrr", metrics=["mrr"]), mark(2, 50, "everywhere"))
    shown = (mark(1, 100, "on mrr", metrics=["mrr"]), mark(3, 120, "on churn", metrics=["churn"]))
    marks = marks_on_chart([board, shown], ["mrr"])
    assert [a.text for a in marks] == ["everywhere", "on mrr"]  # once each, oldest first
    assert after(marks, None).text == "everywhere"
    assert after(marks, marks[0]).text == "on mrr"
    assert after(marks, marks[1]).text == "everywhere"
    assert [range_holding(age) for age in (DAY, 8 * DAY, 31 * DAY, 100 * DAY, 400 * DAY)] == [
        "7d",
        "30d",
        "90d",
        "1y",
        "all",
    ]


SPEC = convert(
    {
        "timezone": "Europe/Berlin",
        "period": {"quarter": "2026-Q4"},
        "kpis": [{"id": "signups", "metric": "signups", "agg": "sum", "window": "7d"}],
        "okrs": [
            {
                "id": "grow",
                "title": "Grow",
                "key_results": [
                    {"id": "hire", "title": "Hire", "start": 0, "target": 4},
                    {"id": "signups-kr", "title": "Signups", "metric": "signups", "agg": "sum",
                     "start": 0, "target": 9000},
                ],
            }
        ],
    }
)  # fmt: skip


@pytest.fixture
def reader(tmp_path):
    # Given daily signups, a release 3 days ago on signups, an outage 10 days ago on
    # every chart, a pricing change 40 days ago on signups, a mark on another metric;
    # two check-ins of the manual KR, one with a note that is markup
    path = tmp_path / "metrics.db"
    with open_writer(path) as writer:
        writer.write_points([("signups", {}, AS_OF - d * DAY, 10.0) for d in range(80)])
        writer.write_annotation(AS_OF - 3 * DAY, "v2.4 [b]released[/b]", ("signups",))
        writer.write_annotation(AS_OF - 10 * DAY, "EU outage")
        writer.write_annotation(AS_OF - 40 * DAY, "pricing change", ("signups",))
        writer.write_annotation(AS_OF - 2 * DAY, "stock move", ("stock",))
        writer.write_checkin("hire", parse_time("2026-11-02T09:00:00Z"), 1, note="[i]first[/i]")
        writer.write_checkin("hire", parse_time("2026-11-09T09:00:00Z"), 2)
    opened = open_reader(path)
    yield opened
    opened.close()


def test_the_kpi_detail_lists_the_marks_on_its_metric_in_the_range_shown(reader):
    detail = kpi_detail(SPEC, reader, "signups", AS_OF, "30d")
    marks = detail.marks
    # Then the release and the outage (every chart's), not the pricing change 40 days ago
    # nor the mark on another metric; times in Berlin (UTC+1 in November)
    assert [(a.text, a.time_display) for a in marks.marks] == [
        ("EU outage", "2026-11-14 13:00"),
        ("v2.4 [b]released[/b]", "2026-11-21 13:00"),
    ]
    assert marks.heading(None) == "Marks in the last 30 days: 2 · times Europe/Berlin"
    # And over 90 days the pricing change too
    wider = kpi_detail(SPEC, reader, "signups", AS_OF, "90d").marks
    assert wider.marks[0].text == "pricing change"
    # And the chart draws the chosen one apart, and the legend names it
    chosen = marks.next_key(marks.next_key(None))
    assert detail.chart.chosen_start(chosen) in detail.chart.mark_starts
    assert detail.chart.marks_legend_for(chosen) == ("┃", "v2.4 [b]released[/b]")
    assert detail.chart.marks_legend_for(None) == ("│", "v2.4 [b]released[/b] +1")


def test_the_key_result_detail_lists_its_check_in_notes_as_marks(reader):
    detail = kr_detail(SPEC, reader, "kr", "hire", AS_OF)
    # Then the manual KR's note (as written) and the outage on every chart, in the zone;
    # the check-in without a note is no mark, nor the marks on signups
    rows = detail.marks.rows(None)
    assert [(r.time_display, r.kind_label, r.text) for r in rows] == [
        ("2026-11-14 13:00", "", "EU outage"),
        ("2026-11-02 10:00", "check-in", "[i]first[/i]"),
    ]
    assert detail.marks.heading(None).startswith("Marks in 2026-Q4 so far: 2")
    # And the metric KR lists the marks on its metric in the period
    metric = kr_detail(SPEC, reader, "kr", "signups-kr", AS_OF).marks
    assert [a.text for a in metric.marks] == ["pricing change", "EU outage", "v2.4 [b]released[/b]"]
