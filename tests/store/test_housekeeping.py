"""Housekeeping: deleting, renaming and pruning points, through the writer and the
commands, rollups kept consistent (the reader's sums over whole days, which come from
the rollups, equal the points left)."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from kpitui.cli import main
from kpitui.errors import InputError
from kpitui.store import open_reader, open_writer

HOUR, DAY = 3600, 86400
T0 = 1_767_225_600  # 2026-01-01T00:00:00Z


@pytest.fixture(params=("sqlite", "postgresql"))
def store(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A new store on each backend."""
    if request.param == "postgresql":
        return request.getfixturevalue("pg_url")
    return str(tmp_path / "metrics.db")


def fill(store: str) -> dict[tuple[str, str, int], float]:
    """Ten days of points every 20 minutes for mrr{plan=pro|free} and visits."""
    rng = random.Random(5)
    points = {}
    for metric, plan in (("mrr", "pro"), ("mrr", "free"), ("visits", "")):
        for t in range(T0, T0 + 10 * DAY, 1200):
            points[(metric, plan, t)] = float(rng.randrange(1, 50))
    with open_writer(store) as writer:
        writer.write_points((m, {"plan": p} if p else {}, t, v) for (m, p, t), v in points.items())
    return points


def expected(points: dict, metric: str, plan: str | None, lo: int, hi: int) -> tuple:
    values = [
        v
        for (m, p, t), v in points.items()
        if m == metric and (plan is None or p == plan) and lo <= t <= hi
    ]
    if not values:
        return (None, 0.0, None, None)
    return (sum(values), float(len(values)), min(values), max(values))


def read(store: str, metric: str, plan: str | None, lo: int, hi: int) -> tuple:
    reader = open_reader(store)
    try:
        labels = {"plan": plan} if plan else None
        return tuple(
            reader.aggregate(metric, labels, agg, lo, hi) for agg in ("sum", "count", "min", "max")
        )
    finally:
        reader.close()


def assert_consistent(store: str, points: dict) -> None:
    """Whole-window reads (rollups) and ragged ones (rollups + raw edges) equal the points."""
    for metric, plan in (("mrr", "pro"), ("mrr", "free"), ("mrr", None), ("visits", None)):
        for lo, hi in ((T0, T0 + 10 * DAY - 1), (T0 + 5 * HOUR + 7, T0 + 7 * DAY + 3 * HOUR)):
            got = read(store, metric, plan, lo, hi)
            want = expected(points, metric, plan, lo, hi)
            assert got[1] == want[1], (metric, plan, lo, hi)
            assert (got[0], got[2], got[3]) == (want[0], want[2], want[3]) or not want[1]


def test_deleting_a_span_of_one_series_keeps_the_rollups_equal_to_the_points(store):
    points = fill(store)
    lo, hi = T0 + 2 * DAY + 5 * HOUR + 600, T0 + 4 * DAY + 13 * HOUR  # ragged both ends
    with open_writer(store) as writer:
        would = writer.delete_points("mrr", {"plan": "pro"}, lo, hi, dry_run=True)
        done = writer.delete_points("mrr", {"plan": "pro"}, lo, hi)
    gone = [k for k in points if k[0] == "mrr" and k[1] == "pro" and lo <= k[2] <= hi]
    assert would == done and done.points == len(gone) and done.series == 1
    assert (done.first_ts, done.last_ts) == (min(k[2] for k in gone), max(k[2] for k in gone))
    for key in gone:
        del points[key]
    assert_consistent(store, points)


def test_deleting_a_whole_metric_removes_its_series(store):
    points = fill(store)
    with open_writer(store) as writer:
        removed = writer.delete_points("mrr", None, None, None)
    assert removed.series == 2 and removed.points == sum(k[0] == "mrr" for k in points)
    reader = open_reader(store)
    try:
        assert reader.metric_names() == {"visits"}
    finally:
        reader.close()
    # The metric can be written again (no stale series id in a writer's cache).
    with open_writer(store) as writer:
        writer.write_points([("mrr", {"plan": "pro"}, T0, 1.0)])
        assert writer.delete_points("mrr", {"plan": "pro"}, None, None).points == 1


def test_renaming_a_metric_moves_its_points_rollups_and_annotations(store):
    points = fill(store)
    with open_writer(store) as writer:
        writer.write_annotation(T0, "launch", ["mrr", "visits"])
        renamed = writer.rename_metric("mrr", "revenue")
        with pytest.raises(InputError, match="already has a metric 'visits'"):
            writer.rename_metric("revenue", "visits")
    assert renamed.series == 2
    moved = {("revenue", p, t): v for (m, p, t), v in points.items() if m == "mrr"}
    moved.update({k: v for k, v in points.items() if k[0] == "visits"})
    reader = open_reader(store)
    try:
        assert reader.metric_names() == {"revenue", "visits"}
        assert reader.annotations(T0, T0)[0].metrics == ("revenue", "visits")
    finally:
        reader.close()
    got = read(store, "revenue", None, T0, T0 + 10 * DAY)
    assert got == expected(moved, "revenue", None, T0, T0 + 10 * DAY)


def test_pruning_drops_raw_points_and_keeps_the_rollups_for_long_charts(store):
    points = fill(store)
    cutoff = T0 + 6 * DAY
    with open_writer(store) as writer:
        removed = writer.prune(cutoff)
        again = writer.prune(cutoff)
    assert removed.points == sum(t < cutoff for *_, t in points) and removed.series == 3
    assert again.points == 0
    reader = open_reader(store)
    try:
        # A daily chart over the pruned days still draws them, from the rollups.
        days = reader.buckets("visits", None, "sum", T0, T0 + 10 * DAY - 1, DAY)
        want = [
            sum(v for (m, _, t), v in points.items() if m == "visits" and d <= t < d + DAY)
            for d in range(T0, T0 + 10 * DAY, DAY)
        ]
        assert [b.value for b in days] == want
        # The raw points before the cutoff are gone.
        series = reader.series("visits")[0]
        assert reader.read_points(series.id, None, 1)[0][0] == cutoff
    finally:
        reader.close()


# -- the commands ---------------------------------------------------------------------


def test_delete_dry_run_says_what_would_go_and_deletes_nothing(store, capsys):
    fill(store)
    args = ["delete", "mrr", "--label", "plan=pro", "--from", "2026-01-03", "--to", "2026-01-04"]
    assert main([*args, "--db", store, "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("would delete 73 points of 1 series of mrr{plan=pro}")
    assert read(store, "mrr", "pro", T0, T0 + 10 * DAY)[1] == 720


def test_without_a_terminal_or_yes_a_destructive_command_refuses_in_one_line(store, capsys):
    fill(store)
    assert main(["prune", "--older-than", "1d", "--db", store]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "pass --yes" in err and "--dry-run" in err
    assert read(store, "visits", None, T0, T0 + 10 * DAY)[1] == 720


def test_with_yes_delete_rename_and_prune_do_it_and_say_so(store, capsys):
    fill(store)
    assert main(["delete", "visits", "--to", "2026-01-02", "--db", store, "--yes"]) == 0
    assert capsys.readouterr().out.startswith("deleted 73 points of 1 series of visits")
    assert main(["rename", "visits", "sessions", "--db", store, "--yes"]) == 0
    assert "renamed visits to sessions: 1 series, 647 points" in capsys.readouterr().out
    assert main(["rename", "nope", "x", "--db", store, "--yes"]) == 2
    assert "no metric 'nope'" in capsys.readouterr().err
    assert main(["prune", "--older-than", "36500d", "--db", store, "--yes"]) == 0
    assert "nothing to prune" in capsys.readouterr().out


def test_a_store_that_is_not_there_is_not_created_by_housekeeping(tmp_path, capsys):
    missing = tmp_path / "none.db"
    assert main(["delete", "mrr", "--db", str(missing), "--yes"]) == 2
    assert "store not found" in capsys.readouterr().err
    assert not missing.exists()
