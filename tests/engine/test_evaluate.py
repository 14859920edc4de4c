"""The whole evaluation: bounded store questions, spec-only work cached, never raises."""

from __future__ import annotations

from kpitui.engine import evaluate
from kpitui.engine.evaluate import prepare
from tests.engine.conftest import AS_OF, DAY, HOUR, make_spec
from tests.engine.fakes import FakeReader

SPEC = dict(
    metrics={"conversion": {"formula": "trial_conversions / signups", "format": "percent"}},
    kpis=[
        {"metric": "mrr", "north_star": True, "target": 1000},
        {"metric": "signups", "agg": "sum", "window": "7d"},
        {"metric": "conversion", "agg": "sum", "window": "mtd"},
        {
            "metric": "latency",
            "agg": "p90",
            "window": "1d",
            "direction": "down",
            "stale_after": "1h",
        },
    ],
    charts=[{"id": "c", "metrics": ["mrr"], "split_by": "plan"}],
    okrs=[
        {
            "title": "O",
            "key_results": [
                {"title": "K1", "metric": "mrr", "start": 0, "target": 2000},
                {"title": "K2", "metric": "signups", "agg": "sum", "target": 500},
                {"id": "k3", "title": "K3", "start": 0, "target": 10},
            ],
        }
    ],
)


def _store(days: int) -> FakeReader:
    reader = FakeReader()
    for d in range(days):
        for h in range(0, 24, 6):
            ts = AS_OF - d * DAY - h * HOUR
            reader.add("mrr", {"plan": "pro"}, ts, 500 + d)
            reader.add("mrr", {"plan": "team"}, ts, 200)
            reader.add("signups", {}, ts, 3)
            reader.add("trial_conversions", {}, ts, 1)
            reader.add("latency", {}, ts, 100 + h)
    reader.add_checkin("k3", AS_OF - DAY, 4)
    return reader


def test_store_questions_do_not_grow_with_the_store():
    # Given the same spec over a small and a 10x larger store
    small, large = _store(10), _store(100)
    spec = make_spec(**SPEC)
    # When both are evaluated
    evaluate(spec, small, AS_OF)
    evaluate(spec, large, AS_OF)
    # Then the store is asked exactly the same questions, a bounded number of them
    assert small.calls == large.calls
    assert sum(small.calls.values()) <= 40


def test_a_kpi_and_a_key_result_on_one_metric_ask_the_store_once():
    # Given a KPI on mrr and a key result on mrr (the same latest value)
    reader = _store(3)
    spec = make_spec(
        kpis=[{"metric": "signups", "compare": "none"}],
        okrs=[
            {
                "title": "Grow",
                "key_results": [{"title": "Signups", "metric": "signups", "start": 0, "target": 9}],
            }
        ],
    )
    # When the board is evaluated
    board = evaluate(spec, reader, AS_OF)
    # Then the latest value was asked for once, and both show it
    assert reader.calls["last"] == 1
    assert board.kpi("signups").value == board.key_result("signups").current == 3


def test_a_kpi_and_a_key_result_over_one_range_ask_the_store_once():
    # Given a KPI summing signups this quarter (it shows the newest point's age) and a
    # key result summing them over the quarter, the OKR period (it does not)
    reader = _store(3)
    spec = make_spec(
        period={"quarter": "2026-Q4"},
        kpis=[{"metric": "signups", "agg": "sum", "window": "qtd", "compare": "none"}],
        okrs=[
            {
                "title": "Grow",
                "key_results": [
                    {"title": "Signups", "metric": "signups", "agg": "sum", "target": 99}
                ],
            }
        ],
    )
    # When the board is evaluated
    board = evaluate(spec, reader, AS_OF)
    # Then the sum was asked for once, its newest time once, and both show the sum
    assert (reader.calls["aggregate"], reader.calls["last_ts_in"]) == (1, 1)
    assert board.kpi("signups").value is not None
    assert board.kpi("signups").value == board.key_result("signups").current


def test_formulas_are_parsed_once_per_spec_object():
    spec = make_spec(**SPEC)
    first = prepare(spec)
    assert prepare(spec) is first
    assert prepare(make_spec(**SPEC)) is not first


def test_board_holds_everything():
    board = evaluate(make_spec(title="Acme", **SPEC), _store(40), AS_OF)
    assert board.title == "Acme"
    assert board.as_of == AS_OF
    assert board.timezone == "UTC"
    assert [k.id for k in board.kpis] == ["mrr", "signups", "conversion", "latency"]
    assert board.kpi("mrr").value == 700
    assert board.kpi("signups").value == 3 * 4 * 7
    assert board.kpi("conversion").display == "33.3%"
    assert board.kpi("latency").value == 118
    assert [s.name for s in board.chart("c").series] == ["pro", "team"]
    assert board.key_result("k3").current == 4
    assert board.pages[0].rows[0][0].id == "mrr"


def test_everything_failing_still_gives_a_board():
    reader = _store(3)
    reader.fail = OSError("unable to open database file")
    board = evaluate(make_spec(**SPEC), reader, AS_OF)
    assert {k.state for k in board.kpis} == {"error"}
    assert board.chart("c").error == "unable to open database file"
    assert all(kr.error for kr in board.okrs[0].key_results)


def test_nothing_parses_a_duration_once_the_spec_is_loaded(monkeypatch):
    # Given a loaded spec with windows, offsets, sparks, buckets and cadences
    from kpitui import timeutil
    from kpitui.engine.detail import kpi_detail, kr_detail

    spec = make_spec(**SPEC, checkin_every="7d")
    reader = _store(10)

    # When the board and every detail are evaluated with the duration parser gone
    def parse_again(text):
        raise AssertionError(f"{text!r} parsed again at use")

    monkeypatch.setattr(timeutil, "parse_duration", parse_again)
    board = evaluate(spec, reader, AS_OF)
    for kpi in board.kpis:
        kpi_detail(spec, reader, kpi.id, AS_OF)
    kr_detail(spec, reader, "kr", "k3", AS_OF)
    # Then it all worked from the values parsed at load
    assert board.kpi("signups").value == 7 * 4 * 3
