"""`kpitui check`: exit codes, every problem with its place, warnings that do not fail,
the store's metric names, and `--json` for scripts."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from kpitui.cli import main

SPEC = """\
title: Growth 🚀 [beta]
store: metrics.db
kpis:
  - metric: mrr
    north_star: true
    target: 2000
  - metric: signups
    agg: sum
    window: 7d
    indicator: leading
charts:
  - title: MRR trend
    metrics: [mrr]
okrs:
  - title: Grow
    key_results:
      - {title: MRR to 2k, metric: mrr, start: 1000, target: 2000}
      - {title: Customer calls, start: 0, target: 20}
"""


def make_store(path: Path, points: list[tuple[str, dict[str, str], int, float]]) -> None:
    from kpitui.store import open_writer

    with open_writer(path) as writer:
        writer.write_points(points)


@pytest.fixture
def board(tmp_path, monkeypatch):
    # A spec and its store in a temporary directory that is also the working directory.
    monkeypatch.chdir(tmp_path)
    (tmp_path / "dashboard.yaml").write_text(SPEC, encoding="utf-8")
    now = int(time.time())
    make_store(
        tmp_path / "metrics.db",
        [
            ("mrr", {"plan": "pro"}, now - 3600, 1450.0),
            ("signups", {}, now - 3600, 12.0),
        ],
    )
    return tmp_path


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = main(["check", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_clean_spec_prints_one_summary_line(board, capsys):
    # Given a valid spec whose metrics are in the store / When checked
    code, out, err = run(capsys)
    # Then exit 0 and one line counting what the board holds
    assert code == 0
    assert out == "dashboard.yaml: ok — 2 KPIs, 1 chart, 1 objective, 2 key results\n"
    assert err == ""


def test_metric_missing_from_the_store_is_a_warning(board, capsys):
    # Given a KPI on a metric the store has never seen
    spec = board / "dashboard.yaml"
    spec.write_text(SPEC.replace("metric: signups", "metric: signup"), encoding="utf-8")
    # When checked
    code, out, err = run(capsys)
    # Then exit 0, the warning at its place on stderr, the summary counts it
    assert code == 0
    assert err == (
        "dashboard.yaml:7:13: warning: kpis[1].metric: metric 'signup' has no points in the "
        "store yet (shown as no_data) (did you mean 'signups'?)\n"
    )
    assert out.endswith("2 key results (1 warning)\n")


def test_every_problem_is_listed_and_exit_is_2(board, capsys):
    # Given a spec with three mistakes
    broken = (
        SPEC.replace("target: 2000\n  - metric", "target: 2000\n    tagret: 1\n  - metric")
        .replace("agg: sum", "agg: summ")
        .replace("start: 1000, target: 2000}", "start: 1000, target: 2000, weight: -1}")
    )
    (board / "dashboard.yaml").write_text(broken, encoding="utf-8")
    # When checked
    code, out, err = run(capsys)
    # Then exit 2 and each problem on its own line, in file order, then the count
    assert code == 2
    assert out == ""
    assert err.splitlines() == [
        "dashboard.yaml:7:5: kpis[0].tagret: unknown key (did you mean 'target'?)",
        "dashboard.yaml:9:10: kpis[1].agg: 'summ' is not one of last, sum, avg, min, max, count, "
        "nps, csat, p50, p90, p95, p99 (did you mean 'sum'?)",
        "dashboard.yaml:18:76: okrs[0].key_results[0].weight: must be at least 0, got -1",
        "dashboard.yaml: 3 problems to fix",
    ]


def test_missing_store_is_an_error_at_the_store_key(board, capsys):
    # Given the spec's store does not exist
    (board / "metrics.db").unlink()
    # When checked / Then exit 2, pointing at `store:` with how to make one
    code, _, err = run(capsys)
    assert code == 2
    assert err.splitlines()[0] == (
        f"dashboard.yaml:2:8: store: store not found: {Path('metrics.db')} (run `kpitui import` "
        "or `kpitui demo` first, or pass --db PATH)"
    )


def test_db_option_points_at_another_store(board, capsys):
    # Given the store moved elsewhere / When checked with --db
    (board / "metrics.db").rename(board / "other.db")
    code, out, _ = run(capsys, "--db", "other.db")
    # Then it is used
    assert code == 0 and out.startswith("dashboard.yaml: ok")
    # And a --db that does not exist is an error naming it
    code, _, err = run(capsys, "--db", "nope.db")
    assert code == 2
    assert err.splitlines()[0].startswith("nope.db: store not found")


def test_json_when_clean(board, capsys):
    # Given a clean spec / When checked with --json
    code, out, _ = run(capsys, "--json")
    report = json.loads(out)
    # Then one object a script can rely on
    assert code == 0
    assert report == {
        "ok": True,
        "errors": [],
        "warnings": [],
        "summary": {
            "file": "dashboard.yaml",
            "store": "metrics.db",
            "kpis": 2,
            "charts": 1,
            "objectives": 1,
            "key_results": 2,
            "errors": 0,
            "warnings": 0,
        },
    }


def test_json_lists_problems_with_their_place(board, capsys):
    # Given a spec with a misspelt direction
    (board / "dashboard.yaml").write_text(
        SPEC.replace("north_star: true", "north_star: true\n    direction: upp"), encoding="utf-8"
    )
    # When checked with --json
    code, out, _ = run(capsys, "--json")
    report = json.loads(out)
    # Then exit 2 and the problem split into file, line, col, path and message
    assert code == 2
    assert report["ok"] is False
    assert report["errors"] == [
        {
            "file": "dashboard.yaml",
            "line": 6,
            "col": 16,
            "path": "kpis[0].direction",
            "message": "'upp' is not one of up, down (did you mean 'up'?)",
        }
    ]
    assert report["summary"]["kpis"] is None and report["summary"]["errors"] == 1


def test_json_for_a_file_that_is_not_yaml(board, capsys):
    # Given a YAML syntax error / When checked with --json / Then still JSON, with the place
    (board / "dashboard.yaml").write_text("title: a: b\n", encoding="utf-8")
    code, out, _ = run(capsys, "--json")
    (error,) = json.loads(out)["errors"]
    assert code == 2
    assert (error["line"], error["col"], error["path"]) == (1, 9, "")
    assert error["message"].startswith("not valid YAML: a ': ' where YAML does not expect a key")


@pytest.mark.parametrize(
    ("setup", "expected"),
    [
        (lambda d: None, "nope.yaml: no such file"),
        (lambda d: (d / "nope.yaml").mkdir(), "nope.yaml: is a directory, not a dashboard file"),
        (lambda d: (d / "nope.yaml").write_text(""), "nope.yaml:1:1: the file is empty"),
        (lambda d: (d / "nope.yaml").write_bytes(b"title: \xff\n"), "nope.yaml:1:8: not UTF-8"),
        (lambda d: (d / "nope.yaml").write_text("- a\n"), "nope.yaml:1:1: the top level must be"),
        (
            lambda d: (d / "nope.yaml").write_text("title: x\n"),
            "nope.yaml:1:1: the dashboard shows nothing",
        ),
    ],
)
def test_bad_input_is_one_clear_line(board, capsys, setup, expected):
    # Given a spec path that is not a usable spec / When checked
    setup(board)
    code, _, err = run(capsys, "nope.yaml")
    # Then exit 2 and a clear line, never a traceback
    assert code == 2
    assert err.startswith(expected), err
    assert "Traceback" not in err


def test_out_of_scale_survey_responses_are_reported(board, capsys):
    # Given NPS responses, two of them off the 0–10 scale
    now = int(time.time())
    responses = [10, 9, 9, 8, 7, 6, 3, 10, 11, -1]
    make_store(
        board / "metrics.db",
        [("nps", {}, now - 60 * (i + 1), float(v)) for i, v in enumerate(responses)],
    )
    survey_kpi = "  - metric: nps\n    agg: nps\n    window: 7d\ncharts:"
    (board / "dashboard.yaml").write_text(SPEC.replace("charts:", survey_kpi), encoding="utf-8")
    # When checked
    code, _, err = run(capsys)
    # Then a warning names how many were left out, exit still 0
    assert code == 0
    assert err == (
        "dashboard.yaml:12:10: warning: kpis[2].agg: 2 of 10 responses of 'nps' in the 7d window "
        "are outside the nps scale 0–10 and are left out (check what writes 'nps')\n"
    )


def test_a_label_filter_no_series_carries_is_a_warning_with_the_labels_there(board, capsys):
    # Given MRR labelled plan=pro, a KPI filtering on plan=Pro, a KR through a derived
    # metric on plan=pro (it matches) and a chart on a misspelt label key
    spec = SPEC.replace("north_star: true", "north_star: true\n    labels: {plan: Pro}")
    spec = spec.replace("metrics: [mrr]", "metrics: [mrr]\n    labels: {plna: pro}")
    spec = spec.replace(
        "{title: MRR to 2k, metric: mrr,", "{title: MRR to 2k, metric: twice, labels: {plan: pro},"
    )
    spec += "metrics:\n  twice: {formula: mrr * 2}\n"
    (board / "dashboard.yaml").write_text(spec, encoding="utf-8")
    # When checked
    code, _, err = run(capsys)
    # Then each filter that matches nothing is a warning at its line, naming what is there
    assert code == 0
    assert err == (
        "dashboard.yaml:6:13: warning: kpis[0].labels: no series of 'mrr' has the labels "
        "plan=Pro (its series carry: plan=pro)\n"
        "dashboard.yaml:15:13: warning: charts[0].labels: no series of 'mrr' has the labels "
        "plna=pro (its series carry: plan=pro)\n"
    )


def test_help_has_a_description_and_examples(capsys):
    # Given `check --help` / Then it explains itself with an example
    with pytest.raises(SystemExit) as caught:
        main(["check", "--help"])
    out = capsys.readouterr().out
    assert caught.value.code == 0
    assert "Validate a dashboard spec" in out
    assert "kpitui check --json" in out


def test_a_window_or_bucket_finer_than_the_points_is_a_warning(board, capsys):
    # Given weekly signups (8 weeks), a 7d sum over them with daily spark buckets, a
    # chart of them in daily buckets, and MRR hourly (which 1d buckets suit)
    now = int(time.time())
    weekly = [("signups", {}, now - 3600 - w * 7 * 86400, 100.0) for w in range(8)]
    hourly = [("mrr", {"plan": "pro"}, now - h * 3600, 1450.0) for h in range(48)]
    (board / "metrics.db").unlink()
    make_store(board / "metrics.db", [*weekly, *hourly])
    spec = SPEC.replace("metrics: [mrr]", "metrics: [signups]\n    bucket: 1d")
    (board / "dashboard.yaml").write_text(spec, encoding="utf-8")
    # When checked
    code, _, err = run(capsys)
    # Then the window, the spark bucket and the chart bucket are warned about, exit 0
    assert code == 0
    assert err.splitlines() == [
        "dashboard.yaml:7:5: warning: kpis[1].spark.bucket: the sparkline's 1d buckets are "
        "finer than the points of 'signups' (one every 7d): most of them are empty "
        "(use `spark: {bucket: 7d}`)",
        "dashboard.yaml:9:13: warning: kpis[1].window: the 7d window holds about one point "
        "of 'signups' (one every 7d): its sum jumps as a point enters or leaves it "
        "(use a window of at least 14d)",
        "dashboard.yaml:14:13: warning: charts[0].bucket: the chart's 1d buckets are finer "
        "than the points of 'signups' (one every 7d): most of them are empty "
        "(use `bucket: 7d`)",
    ]
    # And daily points in the same spec are quiet
    daily = [("signups", {}, now - 3600 - d * 86400, 100.0) for d in range(30)]
    (board / "metrics.db").unlink()
    make_store(board / "metrics.db", [*daily, *hourly])
    code, _, err = run(capsys)
    assert (code, err) == (0, "")
