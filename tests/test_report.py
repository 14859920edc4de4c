"""The Board as plain text and as the JSON object of SPEC §1."""

from __future__ import annotations

import json

import pytest

from kpitui.literal import literal
from kpitui.report import (
    board_to_json,
    board_to_json_text,
    board_to_text,
    cell_width,
    progress_bar,
)
from tests.engine.conftest import AS_OF, DAY, HOUR, board_of
from tests.engine.fakes import FakeReader

ADDED_KPI_KEYS = {
    "direction",
    "warn",
    "crit",
    "agg",
    "window",
    "format",
    "stale",
    "indicator",
    "north_star",
    "spark",
}
"""Keys SPEC §1 adds for a KPI (every earlier key stays)."""
TOP_KEYS = {"title", "as_of", "kpis", "okrs", "period", "charts", "alerts", "annotations"}
KPI_KEYS = ADDED_KPI_KEYS | {
    "id",
    "title",
    "metric",
    "value",
    "display",
    "state",
    "target",
    "previous",
    "delta",
    "delta_pct",
    "last_at",
}
OBJECTIVE_KEYS = {
    "id",
    "title",
    "owner",
    "progress",
    "expected",
    "status",
    "key_results",
    "children",
    "forecast",  # added by issue 20
}
KR_KEYS = {
    "id",
    "title",
    "kind",
    "start",
    "target",
    "current",
    "progress_raw",
    "progress",
    "status",
    "confidence",
    "checkin_due",
    "forecast",  # added by issue 20, with why there is none
    "forecast_note",
}


@pytest.fixture
def board():
    reader = FakeReader(
        [
            ("mrr", {}, AS_OF - 2 * DAY, 1000),
            ("mrr", {}, AS_OF - HOUR, 1050),
            ("churn", {}, AS_OF - 3 * HOUR, 0.09),
            ("signups", {}, AS_OF - DAY, 40),
            ("signups", {}, AS_OF - 8 * DAY, 50),
        ]
    )
    reader.add_checkin("ship", AS_OF - 10 * DAY, 4, "at_risk")
    return board_of(
        reader,
        title="Acme [bold]$ 🚀",
        checkin_every="7d",
        kpis=[
            {"metric": "signups", "agg": "sum", "window": "7d", "target": 45},
            {
                "metric": "churn",
                "direction": "down",
                "format": "percent",
                "warn": 0.05,
                "crit": 0.08,
                "stale_after": "1h",
            },
            {
                "metric": "mrr",
                "title": "MRR 💰 [plan=$pro]",
                "north_star": True,
                "format": "currency",
                "currency": "USD",
                "target": 1200,
                "warn": "90%",
                "crit": "80%",
            },
            {"metric": "nothing"},
        ],
        okrs=[
            {
                "title": "Grow revenue",
                "owner": "Ana",
                "key_results": [
                    {"title": "MRR to 2000", "metric": "mrr", "start": 1000, "target": 2000},
                    {"id": "ship", "title": "Ship it", "start": 0, "target": 10, "owner": "Bo"},
                ],
                "children": [
                    {
                        "title": "Retain",
                        "key_results": [
                            {
                                "title": "Churn under 10%",
                                "metric": "churn",
                                "kind": "maintain_below",
                                "target": 0.1,
                            },
                        ],
                    }
                ],
            }
        ],
    )


# -- JSON -----------------------------------------------------------------------------


def test_json_has_exactly_the_spec_keys(board):
    # When the board is turned into JSON
    data = board_to_json(board)
    # Then every object has exactly the keys SPEC §1 lists
    assert set(data) == TOP_KEYS
    assert all(set(kpi) == KPI_KEYS for kpi in data["kpis"])
    objective = data["okrs"][0]
    assert set(objective) == OBJECTIVE_KEYS
    assert set(objective["children"][0]) == OBJECTIVE_KEYS
    assert all(set(kr) == KR_KEYS for kr in objective["key_results"])
    assert set(objective["children"][0]["key_results"][0]) == KR_KEYS


def test_json_values(board):
    data = board_to_json(board)
    # Then as_of is ISO UTC and KPIs come North Star first
    assert data["as_of"] == "2026-11-24T12:00:00Z"
    assert [k["id"] for k in data["kpis"]] == ["mrr", "signups", "churn", "nothing"]
    mrr, signups, churn, nothing = data["kpis"]
    assert mrr == {
        "id": "mrr",
        "title": "MRR 💰 [plan=$pro]",
        "metric": "mrr",
        "value": 1050.0,
        "display": "$1,050.00",
        "state": "warn",
        "target": 1200.0,
        "previous": 1000.0,
        "delta": 50.0,
        "delta_pct": 0.05,
        "last_at": "2026-11-24T11:00:00Z",
        "direction": "up",
        "warn": 1080.0,
        "crit": 960.0,
        "agg": "last",
        "window": None,
        "format": "currency",
        "stale": False,
        "indicator": None,
        "north_star": True,
        "spark": mrr["spark"],
    }
    assert (signups["value"], signups["previous"], signups["delta_pct"]) == (40, 50, -0.2)
    assert (churn["state"], churn["previous"]) == ("stale", None)
    assert nothing == {
        "id": "nothing",
        "title": "nothing",
        "metric": "nothing",
        "value": None,
        "display": "—",
        "state": "no_data",
        "target": None,
        "previous": None,
        "delta": None,
        "delta_pct": None,
        "last_at": None,
        "direction": "up",
        "warn": None,
        "crit": None,
        "agg": "last",
        "window": None,
        "format": "number",
        "stale": False,
        "indicator": None,
        "north_star": False,
        "spark": [],
    }
    assert churn["stale"] is True and signups["window"] == "7d"
    objective = data["okrs"][0]
    mrr_kr, ship = objective["key_results"]
    assert (mrr_kr["progress_raw"], mrr_kr["current"], mrr_kr["kind"]) == (
        pytest.approx(0.05),
        1050,
        "increase",
    )
    assert (ship["current"], ship["confidence"], ship["checkin_due"]) == (4, "at_risk", True)
    assert objective["children"][0]["key_results"][0]["progress"] == 1.0


def test_json_text_escapes_control_characters_and_keeps_the_rest(board):
    # Given a title with ESC, a C1 control and DEL next to brackets, $ and emoji
    from msgspec.structs import replace

    title = "Acme \x1b[2J\x9b31m\x7f [x]$ 🚀"
    text = board_to_json_text(replace(board, title=title))
    # Then no raw control character is printed, and the JSON reads back unchanged
    assert not any(ch in text for ch in "\x1b\x9b\x7f")
    assert "\\u001b" in text and "\\u009b" in text and "🚀" in text
    assert json.loads(text)["title"] == title


# -- text -----------------------------------------------------------------------------


def test_text_header_and_kpi_table(board):
    text = board_to_text(board)
    lines = text.splitlines()
    # Then the title and the as-of moment in the spec's zone head the board
    assert lines[0].startswith("Acme [bold]$ 🚀")
    assert lines[0].endswith("as of 2026-11-24 12:00 (UTC)")
    # And the rule under them is as wide as their line
    assert lines[1] == "=" * cell_width(lines[0])
    # And each KPI is one row: glyph, state word, title, value, delta, target
    row = next(line for line in lines if "MRR" in line)
    for part in ("▲ warn", "MRR 💰 [plan=$pro] ★", "$1,050.00", "▲ +$50.00 (+5.0%)", "$1,200.00"):
        assert part in row
    signups = next(line for line in lines if "signups" in line)
    assert "▼ -10 (-20.0%)" in signups
    # And a stale KPI shows its age and band; a KPI without data a dash
    churn = next(line for line in lines if " churn " in line)
    assert "◌ stale" in churn and "3h ago (was crit)" in churn
    nothing = next(line for line in lines if "nothing" in line)
    assert "∅ no data" in nothing and "—" in nothing and "n/a" in nothing


def test_text_columns_are_aligned(board):
    lines = board_to_text(board).splitlines()
    start = lines.index("KPIs") + 2  # after the column headings
    rows = lines[start : start + len(board.kpis)]
    # Then the change column starts at the same terminal cell on every row (emoji are 2 cells)
    columns = set()
    for row in rows:
        at = min(row.index(mark) for mark in ("▲ +", "▼ -", "n/a") if mark in row)
        columns.add(cell_width(row[:at]))
    assert len(columns) == 1


def test_text_okr_tree(board):
    text = board_to_text(board)
    assert "OKRs  2026-Q4" in text
    lines = text.splitlines()
    objective = next(line for line in lines if "Grow revenue" in line)
    kr = next(line for line in lines if "MRR to 2000" in line)
    ship = next(line for line in lines if "Ship it" in line)
    child_kr = next(line for line in lines if "Churn under 10%" in line)
    # Then objective, KRs and the child objective's KRs are indented one level deeper each
    indent = lambda line: len(line) - len(line.lstrip())  # noqa: E731
    assert indent(objective) < indent(kr) < indent(child_kr)
    assert "@Ana" in objective
    assert "[#---------]   5%" in kr and "✖ off track" in kr
    assert "[####------]  40%" in ship and "check-in due" in ship
    # (a confidence in the words and glyph the KR detail shows: it said `at_risk`)
    assert "confidence: ▲ at risk" in ship
    assert "[##########] 100%" in child_kr and "✔ on track" in child_kr


def test_text_never_prints_control_characters(board):
    from msgspec.structs import replace

    kpi = replace(board.kpis[0], title="Evil\x1b]0;pwned\x07\nline")
    text = board_to_text(replace(board, title="T\x1b[31m", kpis=(kpi, *board.kpis[1:])))
    assert "\x1b" not in text and "\x07" not in text
    assert "Evil\\x1b]0;pwned\\x07\\nline" in text
    assert text.startswith("T\\x1b[31m")


def test_literal_and_progress_bar():
    assert literal("a\tb\x1bc✔ [x] $ 🚀 中文") == "a\\tb\\x1bc✔ [x] $ 🚀 中文"
    assert progress_bar(_node(0.45)) == "[#####-----]  45%"
    assert progress_bar(_node(1.0, 1.25)) == "[##########] 125%"
    assert progress_bar(_node(None, None)) == "[..........]    —"


def _node(progress, raw=None):
    from kpitui.engine.board import KrView

    raw = progress if raw is None else raw
    return KrView("k", "K", None, "increase", None, 0.0, 1.0, raw, raw, progress, "on_track")


def test_text_of_an_empty_board():
    text = board_to_text(board_of(FakeReader(), title="Empty"))
    assert "(no KPIs)" in text
    assert "OKRs" not in text


def test_json_numbers_carry_no_float_noise():
    # Given MRR of three plans whose float sum is 175161.19999999998
    reader = FakeReader(
        [
            ("mrr", {"plan": "c"}, AS_OF - HOUR, 95_160.3),
            ("mrr", {"plan": "b"}, AS_OF - HOUR, 61_000.6),
            ("mrr", {"plan": "a"}, AS_OF - HOUR, 19_000.3),
        ]
    )
    board = board_of(reader, kpis=[{"metric": "mrr"}])
    assert board.kpis[0].value != 175_161.2  # the float sum itself is noisy
    # Then the JSON says 175161.2
    assert board_to_json(board)["kpis"][0]["value"] == 175_161.2


def test_report_and_tree_show_the_same_percent_for_a_half_percent():
    # Given progress of exactly 12.5%
    from kpitui.report import progress_bar
    from kpitui.tui.widgets.okr_labels import percent_text

    # Then the text report and the TUI tree both say 13% (they had said 13% and 12%)
    assert progress_bar(_node(0.125)).endswith(" 13%")
    assert percent_text(_node(0.125)) == " 13%"


def test_key_result_values_take_the_units_of_their_metric_in_the_report():
    # Given a KR on a derived percent metric (no KPI on it) and one on a metric whose
    # only KPI filters by label and shows euros
    reader = FakeReader(
        [
            ("signups", {}, AS_OF - HOUR, 167),
            ("visits", {}, AS_OF - HOUR, 2000),
            ("mrr", {"region": "eu"}, AS_OF - HOUR, 60450),
        ]
    )
    board = board_of(
        reader,
        metrics={"conversion": {"formula": "signups / visits", "format": "percent"}},
        kpis=[
            {"metric": "mrr", "labels": {"region": "eu"}, "format": "currency", "currency": "EUR"}
        ],
        okrs=[
            {
                "title": "Grow",
                "key_results": [
                    {"title": "Convert", "metric": "conversion", "start": 0, "target": 0.3},
                    {"title": "EU MRR", "metric": "mrr", "start": 0, "target": 100000},
                ],
            }
        ],
    )
    text = board_to_text(board)
    # Then 167 / 2000 reads 8.4% of 30.0% (not 0.0835 / 0.3), and MRR is in euros
    assert "8.4% / 30.0%" in text
    assert "€60,450.00 / €100,000.00" in text


def test_a_key_result_takes_the_format_of_a_kpi_with_its_agg_only():
    # Given a CSAT KPI shown as a percent, and a KR counting the responses of that metric
    reader = FakeReader([("csat", {}, AS_OF - HOUR * h, 5) for h in range(1, 4)])
    board = board_of(
        reader,
        kpis=[{"metric": "csat", "agg": "csat", "window": "30d", "format": "percent"}],
        okrs=[
            {
                "title": "Listen",
                "key_results": [
                    {
                        "title": "Responses",
                        "metric": "csat",
                        "agg": "count",
                        "start": 0,
                        "target": 3000,
                    }
                ],
            }
        ],
    )
    # Then the count is a number, not 300,000.0%
    kr = board.key_result("responses")
    assert kr is not None and kr.format == "number"
    assert "3 / 3,000" in board_to_text(board)


def test_a_key_result_takes_the_format_of_a_kpi_on_its_metric_in_the_same_unit():
    # Given a CAC KPI averaged in dollars, and a KR reading CAC's latest point
    reader = FakeReader([("cac", {}, AS_OF - HOUR, 308.8)])
    board = board_of(
        reader,
        kpis=[{"metric": "cac", "agg": "avg", "format": "currency", "currency": "USD"}],
        okrs=[
            {
                "title": "Efficient",
                "key_results": [
                    {"title": "CAC", "metric": "cac", "kind": "maintain_below", "target": 340}
                ],
            }
        ],
    )
    # Then the KR is in dollars too (an average and a latest value share the unit)
    assert "$308.80 / $340.00" in board_to_text(board)


def test_json_of_an_overflowed_sum_is_null_not_infinity():
    # Given two points of 1e308 within the window: their sum overflows to infinity
    reader = FakeReader([("big", {}, AS_OF - HOUR * h, 1e308) for h in (1, 2)])
    board = board_of(reader, kpis=[{"metric": "big", "agg": "sum", "window": "1d"}])
    # When written as JSON / Then it is valid JSON: no value, and the KPI's error
    kpi = json.loads(board_to_json_text(board), parse_constant=pytest.fail)["kpis"][0]
    assert (kpi["value"], kpi["state"]) == (None, "error")


def test_json_text_escapes_bidi_overrides_and_line_separators(board):
    from msgspec.structs import replace

    # Given a title with a right-to-left override and a line separator
    text = board_to_json_text(replace(board, title="A\u202eB\u2028C"))
    # Then neither reaches the output raw, and the JSON reads back unchanged
    assert "\u202e" not in text and "\u2028" not in text
    assert json.loads(text)["title"] == "A\u202eB\u2028C"


def test_json_carries_the_stores_alert_history_and_the_marks_in_the_boards_windows():
    from kpitui.store.api import AlertEvent

    # Given a store with two alerts before as-of and one after it, and marks inside and
    # outside the 30-day trend of a KPI
    reader = FakeReader([("mrr", {}, AS_OF - HOUR, 1050)])
    reader.add_alert_event(AlertEvent(AS_OF - 2 * DAY, "kpi", "mrr", "MRR", None, "ok", 900.0))
    reader.add_alert_event(
        AlertEvent(AS_OF - DAY, "kr", "calls", "Calls", "on_track", "at_risk", 3.0, "3")
    )
    reader.add_alert_event(AlertEvent(AS_OF + HOUR, "kpi", "mrr", "MRR", "ok", "warn"))
    reader.add_annotation(AS_OF - 3 * DAY, "v2 [bold]release[/]", ("mrr",))
    reader.add_annotation(AS_OF - 90 * DAY, "too old")
    board = board_of(reader, kpis=[{"metric": "mrr"}])
    data = board_to_json(board)
    # Then the alerts up to as-of, newest first, each naming its KPI or key result
    assert data["alerts"] == [
        {"time": "2026-11-23T12:00:00Z", "kr": "calls", "from": "on_track", "to": "at_risk",
         "value": 3.0, "display": "3"},
        {"time": "2026-11-22T12:00:00Z", "kpi": "mrr", "from": None, "to": "ok",
         "value": 900.0, "display": "—"},
    ]  # fmt: skip
    # And the marks inside the board's windows, text as written
    assert data["annotations"] == [
        {"id": 1, "time": "2026-11-21T12:00:00Z", "text": "v2 [bold]release[/]",
         "metrics": ["mrr"]},
    ]  # fmt: skip
