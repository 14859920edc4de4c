"""The engine over a real store (SQLite, and PostgreSQL where `both` says so) gives the
same Board as over the in-memory fake."""

from __future__ import annotations

import pytest

from kpitui.engine import evaluate
from kpitui.errors import StoreLockedError
from kpitui.store.sqlite import reader as reader_module
from kpitui.store.sqlite import writer as store
from tests.engine.conftest import AS_OF, DAY, HOUR, make_spec
from tests.engine.fakes import FakeReader

SPEC = dict(
    metrics={
        "conversion": {"formula": "trial_conversions / signups", "format": "percent"},
        "stickiness": {"formula": "dau / mau", "format": "percent"},
    },
    kpis=[
        {
            "metric": "mrr",
            "north_star": True,
            "format": "currency",
            "currency": "USD",
            "target": 1500,
            "warn": "90%",
            "crit": "80%",
        },
        {"id": "mrr-pro", "metric": "mrr", "labels": {"plan": "pro"}, "compare": "7d"},
        {
            "metric": "signups",
            "agg": "sum",
            "window": "7d",
            "spark": {"window": "14d", "bucket": "1d"},
        },
        {"id": "signups-mtd", "metric": "signups", "agg": "sum", "window": "mtd"},
        {"metric": "conversion", "agg": "sum", "window": "30d", "target": 0.3},
        {"metric": "stickiness", "target": 0.2, "warn": 0.15},
        {"metric": "nps_response", "agg": "nps", "window": "30d", "target": 30, "warn": 10},
        {"metric": "csat_response", "agg": "csat", "window": "30d", "format": "percent"},
        {
            "metric": "latency",
            "agg": "p90",
            "window": "1d",
            "direction": "down",
            "warn": 300,
            "crit": 500,
            "stale_after": "2h",
        },
        {
            "metric": "latency",
            "id": "latency-avg",
            "agg": "avg",
            "window": "7d",
            "direction": "down",
        },
        {"metric": "missing"},
    ],
    charts=[
        {
            "id": "mrr-by-plan",
            "metrics": ["mrr"],
            "split_by": "plan",
            "window": "30d",
            "bucket": "1d",
        },
        {
            "id": "signups-hourly",
            "metrics": ["signups"],
            "agg": "sum",
            "window": "2d",
            "bucket": "6h",
        },
    ],
    okrs=[
        {
            "title": "Grow",
            "key_results": [
                {"title": "MRR", "metric": "mrr", "start": 1000, "target": 2000},
                {"title": "Signups", "metric": "signups", "agg": "sum", "target": 5000},
                {
                    "id": "pricing",
                    "title": "Pricing",
                    "start": 0,
                    "target": 10,
                    "checkin_every": "7d",
                },
            ],
            "children": [
                {
                    "title": "Retain",
                    "key_results": [
                        {
                            "title": "Stickiness",
                            "metric": "stickiness",
                            "kind": "maintain_above",
                            "target": 0.2,
                        },
                    ],
                }
            ],
        }
    ],
)


def _points() -> list[tuple]:
    points = []
    for d in range(60):
        for h in (1, 7, 13, 19):
            ts = AS_OF - d * DAY - h * HOUR
            points.append(("mrr", {"plan": "pro"}, ts, 900 + d))
            points.append(("mrr", {"plan": "team"}, ts, 400 - d))
            points.append(("signups", {"region": "eu" if h < 12 else "us"}, ts, 10 + (d * h) % 7))
            points.append(("trial_conversions", {}, ts, 3 + d % 3))
            points.append(("dau", {}, ts, 200 + d))
            points.append(("mau", {}, ts, 1000))
            points.append(("nps_response", {}, ts, (d + h) % 11))
            points.append(("csat_response", {}, ts, 1 + (d * 3 + h) % 5))
            points.append(("latency", {}, ts + 30 * 60, 100 + (d * 37 + h * 11) % 450))
    return points


def _fake_and_real(name):
    from kpitui.store import open_reader, open_writer

    points = _points()
    fake = FakeReader(points)
    fake.add_checkin("pricing", AS_OF - 9 * DAY, 4, "at_risk")
    with open_writer(name) as writer:
        writer.write_points(points)
        writer.write_checkin("pricing", AS_OF - 9 * DAY, 4, "at_risk")
    return fake, open_reader(name)


@pytest.fixture(params=("sqlite", "postgresql"))
def both(request, tmp_path):
    """(the fake, a real store) with the same points, on each backend."""
    name = request.getfixturevalue("pg_url") if request.param == "postgresql" else None
    fake, real = _fake_and_real(name or tmp_path / "metrics.db")
    yield fake, real
    real.close()


@pytest.fixture
def both_sqlite(tmp_path):
    fake, real = _fake_and_real(tmp_path / "metrics.db")
    yield fake, real
    real.close()


def test_real_store_and_fake_give_the_same_board(both):
    # Given the same points in the fake and in a SQLite store
    fake, real = both
    spec = make_spec(**SPEC)
    # When the board is evaluated over each
    expected, actual = evaluate(spec, fake, AS_OF), evaluate(spec, real, AS_OF)
    # Then every KPI field, sparkline, chart series and OKR agrees
    for mine, theirs in zip(actual.kpis, expected.kpis, strict=True):
        for name in mine.__struct_fields__:
            a, b = getattr(mine, name), getattr(theirs, name)
            numeric = isinstance(b, float) or name == "spark"
            assert a == (pytest.approx(b) if numeric else b), (mine.id, name)
    for mine, theirs in zip(actual.charts, expected.charts, strict=True):
        assert [s.name for s in mine.series] == [s.name for s in theirs.series]
        for a, b in zip(mine.series, theirs.series, strict=True):
            assert [t for t, _ in a.points] == [t for t, _ in b.points]
            assert [v for _, v in a.points] == pytest.approx([v for _, v in b.points])
    assert actual.okrs == expected.okrs


def test_real_store_states(both):
    _, real = both
    board = evaluate(make_spec(**SPEC), real, AS_OF)
    states = {k.id: k.state for k in board.kpis}
    assert states["missing"] == "no_data"
    assert board.kpi("mrr").value == 900 + 400
    assert board.key_result("pricing").checkin_due is True


def test_a_board_agrees_with_itself_while_a_writer_commits(tmp_path):
    # Given a store where MRR is 100, and a reader during whose first question another
    # connection commits MRR 200 (a writer that lands mid-evaluation)
    path = tmp_path / "metrics.db"
    with store.open_writer(path) as writer:
        writer.write_points([("mrr", {}, AS_OF - HOUR, 100.0)])

    class CommitDuringRead(reader_module.SqliteReader):
        committed = False

        def last(self, *args):
            found = super().last(*args)
            if not self.committed:
                self.committed = True
                with store.open_writer(path) as other:
                    other.write_points([("mrr", {}, AS_OF - 60, 200.0)])
            return found

    real = CommitDuringRead(path)
    spec = make_spec(
        kpis=[
            {"id": "now", "metric": "mrr"},
            {"id": "peak", "metric": "mrr", "agg": "max", "window": "1d"},
        ]
    )
    # When the board is evaluated
    board = evaluate(spec, real, AS_OF)
    # Then both KPIs read the store as it was when the evaluation began
    assert real.committed
    assert (board.kpi("now").value, board.kpi("peak").value) == (100.0, 100.0)
    # And the next evaluation sees the write
    again = evaluate(spec, real, AS_OF)
    assert (again.kpi("now").value, again.kpi("peak").value) == (200.0, 200.0)
    real.close()


def test_a_board_over_a_vanished_store_shows_why_on_each_panel(both_sqlite, tmp_path):
    _, real = both_sqlite
    (tmp_path / "metrics.db").unlink()
    board = evaluate(make_spec(**SPEC), real, AS_OF)  # does not raise
    assert {k.state for k in board.kpis} == {"error"}
    assert all("the store file is gone" in k.error for k in board.kpis)


def test_a_locked_store_is_waited_for_once_per_evaluation(both):
    # Given a store that stays locked (each attempt to enter it waits out the busy timeout)
    _, real = both
    attempts = []

    def locked():
        attempts.append(1)
        raise StoreLockedError("store is locked", file=real.path, hint="it should free up soon")

    real._begin = locked
    # When the board is evaluated
    board = evaluate(make_spec(**SPEC), real, AS_OF)
    # Then the store was tried once, not once per question, and every panel says why
    assert attempts == [1]
    assert {k.state for k in board.kpis} == {"error"}
    assert all("store is locked" in k.error for k in board.kpis)
    assert all(c.error and "store is locked" in c.error for c in board.charts)
