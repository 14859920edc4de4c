"""One escaping rule for every output: what `snapshot --format json` does, everywhere.

Text from a spec or a store that holds control characters (C0, C1, DEL), line or
paragraph separators or bidi overrides is printed escaped, so no output can move a
terminal's cursor, recolour it, or show a line reordered. JSON outputs escape them as
`\\uXXXX` (and still decode to the text stored); text outputs as `literal` shows them.
"""

from __future__ import annotations

import json
import sqlite3

import pytest

from kpitui.cli import main
from kpitui.literal import UNSAFE, json_text
from kpitui.store import open_writer

HOSTILE = "a\x1b[31mred\x9b2J\x7f\u202eevil\u2028x\u2066y\ud800"
"""An ESC colour, a C1 CSI, DEL, a right-to-left override, a line separator, a bidi
isolate and a lone surrogate (a spec's "\\ud800" escape)."""
HOSTILE_STORED = HOSTILE[:-1]  # SQLite keeps UTF-8: a lone surrogate cannot be stored


def _raw_unsafe(text: str) -> list[str]:
    return [m.group() for m in UNSAFE.finditer(text) if m.group() != "\n"]


def _strings(value: object) -> list[str]:
    """Every string inside a decoded JSON value."""
    if isinstance(value, str):
        return [value]
    items = value.values() if isinstance(value, dict) else value if isinstance(value, list) else ()
    return [text for item in items for text in _strings(item)]


def test_json_text_escapes_what_json_dumps_leaves_raw():
    # Given a value holding every kind of unsafe character
    # When it is written as JSON
    text = json_text({"k": HOSTILE})
    # Then no unsafe character is raw, each is a \\u escape, and it decodes back as it was
    assert _raw_unsafe(text) == []
    assert "\\u001b" in text and "\\u009b" in text and "\\u007f" in text
    assert "\\u202e" in text and "\\u2028" in text and "\\u2066" in text and "\\ud800" in text
    assert json.loads(text) == {"k": HOSTILE}
    # And readable text stays readable (emoji, accents, markup)
    assert json_text(["🚀 café [bold]"]) == '[\n  "🚀 café [bold]"\n]\n'


@pytest.fixture
def hostile_store(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with open_writer(tmp_path / "metrics.db") as writer:
        writer.write_points([("signups", {"src": HOSTILE_STORED}, 1795000000, 5.0)])
        writer.write_checkin("pricing", 1795000000, 4, "on_track", HOSTILE_STORED)
        writer.write_annotation(1795000000, HOSTILE_STORED, ["signups"])
    return tmp_path


@pytest.mark.parametrize(
    "argv", [["metrics", "--json"], ["checkins", "--json"], ["annotations", "--json"]]
)
def test_store_json_outputs_escape_as_the_snapshot_does(argv, hostile_store, capsys):
    # Given a label value, a check-in note and an annotation holding control and bidi
    # characters
    # When a store command prints JSON
    assert main(argv) == 0
    out = capsys.readouterr().out
    # Then nothing unsafe is raw, and a script still reads the text as stored
    assert _raw_unsafe(out) == []
    assert "\\u202e" in out and "\\u009b" in out
    assert HOSTILE_STORED in _strings(json.loads(out))


def test_check_json_escapes_the_store_it_names(tmp_path, monkeypatch, capsys):
    # Given a spec whose store: is a file name holding a bidi override and a C1 control
    monkeypatch.chdir(tmp_path)
    (tmp_path / "dashboard.yaml").write_text(
        'title: x\nstore: "ev\\u202eil\\x9b.db"\nkpis: []\n', encoding="utf-8"
    )
    # When check reports (the store is missing) as JSON
    assert main(["check", "--json"]) == 2
    out = capsys.readouterr().out
    # Then the name is escaped where it is quoted, and decodes to the name
    assert _raw_unsafe(out) == []
    assert "ev\\u202eil\\u009b.db" in out
    assert json.loads(out)["summary"]["store"].endswith("ev\u202eil\x9b.db")


def test_metrics_text_escapes_a_metric_name_another_program_stored(hostile_store, capsys):
    # Given a series another program wrote into the store with SQL, under a hostile name
    with sqlite3.connect(hostile_store / "metrics.db") as con:
        con.execute("UPDATE series SET metric = ? WHERE metric = 'signups'", (HOSTILE_STORED,))
    con.close()
    # When the metrics table is printed
    assert main(["metrics"]) == 0
    out = capsys.readouterr().out
    # Then the name is shown escaped, as every text output shows such text
    assert _raw_unsafe(out) == []
    assert "a\\x1b[31mred\\x9b2J\\x7f\\u202eevil" in out


def test_annotations_text_escapes_the_annotation(hostile_store, capsys):
    assert main(["annotations"]) == 0
    out = capsys.readouterr().out
    assert _raw_unsafe(out) == []
    assert "a\\x1b[31mred\\x9b2J\\x7f\\u202eevil" in out
