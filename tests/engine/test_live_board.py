"""The live board evaluates again only what the writes since its last board changed."""

from __future__ import annotations

from pathlib import Path

import pytest

from kpitui.engine import evaluate
from kpitui.engine.live import LiveBoard
from kpitui.store import open_reader, open_writer
from tests.engine.conftest import AS_OF, DAY, HOUR, make_spec

SPEC = dict(
    period={"start": "2026-10-01", "end": "2026-12-31"},
    metrics={"ratio": {"formula": "a / b", "format": "percent"}},
    kpis=[
        {"metric": "a", "agg": "sum", "window": "7d"},
        {"metric": "b", "agg": "sum", "window": "7d"},
        {"id": "ratio", "metric": "ratio", "agg": "sum", "window": "7d"},
        {"id": "pro", "metric": "c", "labels": {"plan": "pro"}, "stale_after": "1h"},
        {"id": "weekly", "metric": "s", "agg": "sum", "window": "7d"},
    ],
    charts=[
        {"id": "chart-a", "metrics": ["a"], "agg": "sum", "window": "30d", "bucket": "1d"},
        {"id": "chart-c", "metrics": ["c"], "window": "30d", "bucket": "1d"},
    ],
    okrs=[
        {
            "id": "grow",
            "title": "Grow",
            "key_results": [
                {
                    "id": "a-sum",
                    "title": "a",
                    "metric": "a",
                    "agg": "sum",
                    "start": 0,
                    "target": 100,
                },
                {"id": "manual", "title": "By hand", "start": 0, "target": 10},
            ],
        }
    ],
)


def write(store: Path, points: list[tuple]) -> None:
    with open_writer(store) as writer:
        writer.write_points(points)


@pytest.fixture
def store(tmp_path: Path) -> Path:
    path = tmp_path / "metrics.db"
    write(
        path,
        [
            ("a", {}, AS_OF - DAY, 10.0),
            ("b", {}, AS_OF - DAY, 40.0),
            ("c", {"plan": "pro"}, AS_OF - HOUR + 30, 5.0),
            ("c", {"plan": "free"}, AS_OF - HOUR, 1.0),
            # 30 s inside the 7-day window at AS_OF: it slides out at the next minute
            ("s", {}, AS_OF - 7 * DAY + 30, 8.0),
            ("s", {}, AS_OF - DAY, 1.0),
        ],
    )
    return path


@pytest.fixture
def reader(store: Path):
    opened = open_reader(store)
    yield opened
    opened.close()


def fresh(store: Path, as_of: int, spec=None):
    """The board a new reader evaluates whole: what the live board must show."""
    other = open_reader(store)
    try:
        return evaluate(spec or make_spec(**SPEC), other, as_of)
    finally:
        other.close()


def test_a_point_into_an_operand_updates_its_kpis_chart_and_objective_and_keeps_the_rest(
    store, reader
):
    # Given a live board at 12:00:00
    spec, live = make_spec(**SPEC), LiveBoard()
    first = live(spec, reader, AS_OF)
    # When another program writes a point into `a`, an operand of `ratio`
    write(store, [("a", {}, AS_OF + 5, 30.0)])
    second = live(spec, reader, AS_OF + 10)
    # Then the KPIs over `a`, its chart and the objective rolling up its key result moved
    assert live.spliced == 1
    assert (first.kpi("a").value, second.kpi("a").value) == (10.0, 40.0)
    assert second.kpi("ratio").display == "100.0%"  # (10 + 30) / 40
    assert second.chart("chart-a") != first.chart("chart-a")
    assert second.key_result("a-sum").progress == pytest.approx(0.4)
    assert second.objective("grow").progress == pytest.approx(0.2)  # (0.4 + 0) / 2
    # and they are what a whole evaluation at that moment says
    whole = fresh(store, AS_OF + 10)
    for kpi in ("a", "ratio"):
        assert second.kpi(kpi) == whole.kpi(kpi)
    assert second.chart("chart-a") == whole.chart("chart-a")
    assert second.okrs == whole.okrs
    # And the panels over other series are the last board's, the very objects
    for kpi in ("b", "pro", "weekly"):
        assert second.kpi(kpi) is first.kpi(kpi)
    assert second.chart("chart-c") is first.chart("chart-c")
    assert second.as_of == AS_OF + 10


def test_a_spliced_board_is_the_whole_board_of_the_same_moment(store, reader):
    # Given a live board, and points into several series, one of them new
    spec, live = make_spec(**SPEC), LiveBoard()
    live(spec, reader, AS_OF)
    write(store, [("b", {}, AS_OF - 2 * DAY, 10.0), ("c", {"plan": "pro"}, AS_OF, 7.0)])
    write(store, [("c", {"plan": "team"}, AS_OF, 2.0)])
    # When it is evaluated again at the same moment
    board = live(spec, reader, AS_OF)
    # Then it equals, panel for panel, a whole evaluation by a new reader
    assert live.spliced == 1
    assert board == fresh(store, AS_OF)


def test_a_label_filter_keeps_its_kpi_when_another_label_is_written(store, reader):
    spec, live = make_spec(**SPEC), LiveBoard()
    first = live(spec, reader, AS_OF)
    # When only `c{plan=free}` is written
    write(store, [("c", {"plan": "free"}, AS_OF, 3.0)])
    second = live(spec, reader, AS_OF + 1)
    # Then the KPI on `c{plan=pro}` is kept, the chart over every `c` series is not
    assert second.kpi("pro") is first.kpi("pro")
    assert second.chart("chart-c") == fresh(store, AS_OF + 1).chart("chart-c")
    assert second.chart("chart-c") != first.chart("chart-c")


def test_windows_ages_and_expected_progress_move_with_the_clock_alone(store, reader):
    # Given a live board at 12:00:00, then a write into `a` within the same minute
    spec, live = make_spec(**SPEC), LiveBoard()
    first = live(spec, reader, AS_OF)
    assert (first.kpi("weekly").value, first.kpi("pro").state) == (9.0, "neutral")
    write(store, [("a", {}, AS_OF + 20, 1.0)])
    within = live(spec, reader, AS_OF + 40)
    assert live.spliced == 1 and within.kpi("weekly") is first.kpi("weekly")
    # When the clock reaches 12:01:00 with no new point at all
    later = live(spec, reader, AS_OF + 60)
    # Then the whole board moves on: the point 7 days back left the window, the
    # `pro` point is over an hour old, the period is further along
    assert live.spliced == 1
    assert later.kpi("weekly").value == 1.0
    assert later.kpi("pro").state == "stale"
    assert later.expected > first.expected
    assert later == fresh(store, AS_OF + 60)


def test_a_check_in_or_an_annotation_makes_the_next_board_whole(store, reader):
    spec, live = make_spec(**SPEC), LiveBoard()
    live(spec, reader, AS_OF)
    # When a manual key result gets a check-in (no series changes)
    with open_writer(store) as writer:
        writer.write_checkin("manual", AS_OF, 5.0)
    board = live(spec, reader, AS_OF + 1)
    # Then it is evaluated whole: the manual key result shows it
    assert live.spliced == 0
    assert board.key_result("manual").current == 5.0
    assert board == fresh(store, AS_OF + 1)


def test_a_renamed_metric_leaves_the_kpis_of_its_old_name(store, reader):
    spec, live = make_spec(**SPEC), LiveBoard()
    live(spec, reader, AS_OF)
    # When `b` is renamed (its series keep their ids)
    with open_writer(store) as writer:
        writer.rename_metric("b", "bb")
    board = live(spec, reader, AS_OF + 1)
    # Then the KPIs on `b` and on `a / b` say there is no data, as a new reader would
    assert board.kpi("b").state == "no_data"
    assert board == fresh(store, AS_OF + 1)


def test_forget_another_spec_or_another_reader_evaluate_whole(store, reader):
    spec, live = make_spec(**SPEC), LiveBoard()
    live(spec, reader, AS_OF)
    write(store, [("a", {}, AS_OF, 1.0)])
    live.forget()
    live(spec, reader, AS_OF)
    write(store, [("a", {}, AS_OF + 1, 1.0)])
    live(make_spec(**SPEC), reader, AS_OF + 1)
    other = open_reader(store)
    try:
        write(store, [("a", {}, AS_OF + 2, 1.0)])
        live(spec, other, AS_OF + 2)
    finally:
        other.close()
    assert live.spliced == 0


def test_a_kpi_in_error_is_evaluated_again_on_any_write(tmp_path: Path, store, reader):
    # Given a KPI whose derived metric cannot be computed (a formula of an unknown metric
    # evaluates; a cycle does not)
    data = {**SPEC, "metrics": {"loop": {"formula": "loop + a"}}, "charts": [], "okrs": []}
    data["kpis"] = [{"metric": "loop", "agg": "sum"}, {"metric": "b", "agg": "sum"}]
    spec, live = make_spec(**data), LiveBoard()
    first = live(spec, reader, AS_OF)
    assert first.kpi("loop").state == "error"
    # When an unrelated series is written
    write(store, [("s", {}, AS_OF, 1.0)])
    second = live(spec, reader, AS_OF + 1)
    # Then the KPI in error was asked again (a new view), the other one kept
    assert second.kpi("loop") is not first.kpi("loop")
    assert second.kpi("b") is first.kpi("b")
