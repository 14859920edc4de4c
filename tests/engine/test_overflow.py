"""A value that overflows is not "ok": a sum, an average or a formula past the largest
float (±1.8e308) is the KPI's, key result's or chart's `error`, with the reason, on the
Board — so every face shows it as an error, never as a number judged against a target."""

from __future__ import annotations

import json

import pytest

from kpitui.cli import main
from kpitui.store import open_reader, open_writer
from tests.engine.conftest import AS_OF, DAY, HOUR, board_of

HUGE = 1.5e308  # finite, storable; two of them are not


@pytest.fixture
def reader(tmp_path):
    with open_writer(tmp_path / "metrics.db") as writer:
        writer.write_points(
            [
                ("big", {"plan": "a"}, AS_OF - 2 * HOUR, HUGE),
                ("big", {"plan": "b"}, AS_OF - HOUR, HUGE),
                ("small", {}, AS_OF - HOUR, 1e200),
            ]
        )
    opened = open_reader(tmp_path / "metrics.db")
    yield opened
    opened.close()


@pytest.mark.parametrize(
    "kpi",
    [
        {"metric": "big", "agg": "sum", "window": "1d", "target": 1},
        {"metric": "big", "agg": "avg", "window": "1d", "target": 1},
        {"metric": "big", "target": 1},  # last: each series' last value, added up
        {"metric": "squared", "target": 1},  # a formula of finite values
    ],
    ids=["sum", "avg", "last", "formula"],
)
def test_a_kpi_whose_value_overflows_is_an_error_with_the_reason(kpi, reader):
    # Given values whose aggregate (or formula) is beyond the largest float
    # When the board is evaluated
    board = board_of(reader, kpis=[kpi], metrics={"squared": {"formula": "small * small * small"}})
    view = board.kpis[0]
    # Then the KPI is an error saying why, with no value to judge against the target
    assert view.state == "error"
    assert view.value is None
    assert view.error is not None and "too large" in view.error


def test_a_key_result_whose_value_overflows_is_an_error(reader):
    # Given a key result summing the huge values over the period
    board = board_of(
        reader,
        kpis=[{"metric": "small"}],
        period={"quarter": "2026-Q4"},
        okrs=[
            {
                "title": "Grow",
                "key_results": [
                    {"title": "Big", "metric": "big", "agg": "sum", "start": 0, "target": 10}
                ],
            }
        ],
    )
    kr = board.okrs[0].key_results[0]
    # Then it carries the error, and no progress is claimed
    assert kr.error is not None and "too large" in kr.error
    assert kr.current is None and kr.progress in (None, 0.0)


def test_a_chart_whose_bucket_overflows_is_an_error(reader):
    # Given a chart whose one day holds both huge points
    board = board_of(
        reader,
        kpis=[{"metric": "small"}],
        charts=[{"id": "c", "metrics": ["big"], "agg": "sum", "window": "7d", "bucket": "1d"}],
    )
    # Then the chart is an error, not a line drawn off to infinity
    assert board.charts[0].error is not None and "too large" in board.charts[0].error


def test_every_face_says_error_for_an_overflowing_kpi(tmp_path, monkeypatch, capsys):
    # Given a spec with a KPI summing two huge points
    monkeypatch.chdir(tmp_path)
    with open_writer(tmp_path / "metrics.db") as writer:
        writer.write_points([("big", {}, AS_OF - DAY, HUGE), ("big", {}, AS_OF - HOUR, HUGE)])
    (tmp_path / "dashboard.yaml").write_text(
        "store: metrics.db\nkpis:\n  - {metric: big, agg: sum, window: 7d, target: 1}\n"
    )
    # When JSON and text snapshots are taken
    assert main(["snapshot", "--format", "json", "--as-of", str(AS_OF)]) == 0
    kpi = json.loads(capsys.readouterr().out)["kpis"][0]
    assert main(["snapshot", "--as-of", str(AS_OF)]) == 0
    text = capsys.readouterr().out
    # Then both say error (JSON has no number to give), and the text says why
    assert (kpi["state"], kpi["value"]) == ("error", None)
    assert "error" in text and "too large" in text
