"""Forecasts and annotations in `kpitui snapshot --format json|text`, on the sample data."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from kpitui.cli import main
from kpitui.sample_data import generate as sample
from kpitui.timeutil import parse_time

AS_OF = "2026-12-07T12:00:00Z"
ROOT = Path(__file__).parent.parent


@pytest.fixture(scope="module")
def sample_dir(tmp_path_factory):
    here = tmp_path_factory.mktemp("sample")
    shutil.copy(ROOT / "dashboard.yaml", here / "dashboard.yaml")
    sample.generate(here / "metrics.db", end=parse_time(AS_OF))
    return here


def run(capsys, *args: str) -> tuple[int, str]:
    code = main(list(args))
    return code, capsys.readouterr().out


def key_results(objectives):
    for objective in objectives:
        yield from objective["key_results"]
        yield from key_results(objective["children"])


def test_json_forecasts_every_key_result_with_its_pace(sample_dir, capsys):
    spec = str(sample_dir / "dashboard.yaml")
    code, out = run(capsys, "snapshot", spec, "--format", "json", "--as-of", AS_OF)
    assert code == 0
    data = json.loads(out)
    krs = {kr["id"]: kr for kr in key_results(data["okrs"])}
    # Then MRR has a forecast: where it ends, its progress and status, both paces per day
    mrr = krs["mrr-200k"]["forecast"]
    assert set(mrr) == {
        "value", "progress", "progress_raw", "status", "pace_needed", "pace_now", "days",
        "target_at",
    }  # fmt: skip
    # Dec 7 12:00 UTC to the quarter's end, Jan 1 00:00 in Berlin (Dec 31 23:00 UTC)
    left = 24 + 11 / 24
    current = krs["mrr-200k"]["current"]
    assert mrr["status"] == "missed" and 175_000 < mrr["value"] < 200_000
    assert mrr["pace_needed"] == pytest.approx((200_000 - current) / left)
    assert mrr["days"] == 68  # Oct 1 to Dec 7, a point every day
    # And the projection is the current value plus the pace over the days left
    assert mrr["value"] == pytest.approx(current + mrr["pace_now"] * left)
    # And maintain KRs forecast their side, every objective rolls up
    assert krs["csat-80"]["forecast"]["pace_needed"] is None
    assert krs["csat-80"]["forecast_note"] is None
    assert all(o["forecast"] is not None for o in data["okrs"])


def test_text_shows_the_forecast_under_each_key_result(sample_dir, capsys):
    spec = str(sample_dir / "dashboard.yaml")
    code, out = run(capsys, "snapshot", spec, "--format", "text", "--as-of", AS_OF)
    assert code == 0
    lines = out.splitlines()
    at = next(i for i, line in enumerate(lines) if "MRR reaches $200k" in line)
    below = lines[at + 1].strip()
    assert below.startswith("forecast: on pace for $") and "/ $200,000 ·" in below
    assert "✖ missed  ·  needs +$" in below and "/day, doing +$" in below
    assert "Grow revenue efficiently  ·  @Maya  ·  forecast → " in out


def test_no_forecast_before_three_days_of_the_period(sample_dir, capsys):
    # Given the board two days into the quarter
    spec = str(sample_dir / "dashboard.yaml")
    code, out = run(capsys, "snapshot", spec, "--format", "json", "--as-of", "2026-10-02T12:00:00Z")
    assert code == 0
    krs = {kr["id"]: kr for kr in key_results(json.loads(out)["okrs"])}
    # Then a metric KR has too few days to forecast, and says so
    assert krs["trial-conversions"]["forecast"] is None
    assert (
        krs["trial-conversions"]["forecast_note"] == "not enough data (2 days; a forecast needs 3)"
    )


def test_annotations_in_the_boards_windows_are_in_the_snapshots(sample_dir, capsys):
    db = str(sample_dir / "metrics.db")
    spec = str(sample_dir / "dashboard.yaml")
    # Given a release on mrr 3 days ago, an incident on every chart, and a mark on a
    # metric the board does not show
    for args in (
        ("v2.4 [b]released[/b]", "--at", "2026-12-04T09:00:00Z", "--metric", "mrr"),
        ("EU outage", "--at", "2026-12-06T14:00:00Z"),
        ("warehouse move", "--at", "2026-12-05T00:00:00Z", "--metric", "stock_level"),
    ):
        assert main(["annotate", *args, "--db", db]) == 0
    capsys.readouterr()
    code, out = run(capsys, "snapshot", spec, "--format", "json", "--as-of", AS_OF)
    marks = json.loads(out)["annotations"]
    assert [(m["text"], m["metrics"]) for m in marks] == [
        ("v2.4 [b]released[/b]", ["mrr"]),
        ("EU outage", []),
    ]
    assert marks[0]["time"] == "2026-12-04T09:00:00Z" and isinstance(marks[0]["id"], int)
    code, out = run(capsys, "snapshot", spec, "--format", "text", "--as-of", AS_OF)
    assert code == 0
    assert "Annotations\n  2026-12-04 10:00  v2.4 [b]released[/b]  (mrr)\n" in out
