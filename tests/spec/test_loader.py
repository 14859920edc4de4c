"""Reading the YAML: positions for every node, and one clear error (never a traceback)
for files that are not a usable spec at all."""

from __future__ import annotations

from pathlib import Path

import pytest

from kpitui.errors import InputError, SpecErrors
from kpitui.spec import load_dashboard
from kpitui.spec.loader import format_path, parse_yaml, read_yaml


def test_positions_are_one_based_for_keys_and_values():
    # Given a small spec
    loaded = parse_yaml("title: Growth\nkpis:\n  - metric: mrr\n    direction: down\n", "d.yaml")
    smap = loaded.source_map
    # Then values and keys have 1-based (line, col), down to list items
    assert loaded.data == {"title": "Growth", "kpis": [{"metric": "mrr", "direction": "down"}]}
    assert smap.value(("title",)) == (1, 8)
    assert smap.key(("kpis",)) == (2, 1)
    assert smap.value(("kpis", 0)) == (3, 5)
    assert smap.key(("kpis", 0, "direction")) == (4, 5)
    assert smap.value(("kpis", 0, "direction")) == (4, 16)
    # And a path that is not written falls back to its nearest parent
    assert smap.value(("kpis", 0, "target")) == (3, 5)


def test_label_values_are_read_as_written_not_as_yaml_types():
    # Given label values YAML would read as a boolean, a float, an octal int and a null
    text = (
        "kpis:\n  - metric: r\n    labels: {a: no, b: 1.10, c: 0123, d: true, e: , f: 7}\n"
        "metrics:\n  labels: {formula: x, decimals: 2}\n"
    )
    data = parse_yaml(text, "d.yaml").data
    # Then each is the text written (the empty one stays empty)
    assert data["kpis"][0]["labels"] == {
        "a": "no", "b": "1.10", "c": "0123", "d": "true", "e": None, "f": "7"
    }  # fmt: skip
    # And a derived metric called "labels" keeps its types
    assert data["metrics"]["labels"]["decimals"] == 2


def test_column_inside_a_quoted_scalar_maps_into_the_file():
    # Given a quoted formula / When asking for its 5th character / Then the quote is skipped
    loaded = parse_yaml('metrics:\n  c: {formula: "a / b"}\n', "d.yaml")
    assert loaded.source_map.inside(("metrics", "c", "formula"), 5) == (2, 21)


def test_duplicate_key_is_a_problem_at_the_second():
    # Given a mapping with `target` twice / Then the second is reported, the first kept
    loaded = parse_yaml("kpis:\n  - metric: a\n    target: 1\n    target: 2\n", "d.yaml")
    assert [str(p) for p in loaded.problems] == [
        "d.yaml:4:5: kpis[0].target: duplicate key (first written at line 3) (keep one of them)"
    ]
    assert loaded.data["kpis"][0]["target"] == 1


def test_anchors_and_merge_keys_work():
    # Given thresholds shared through an anchor and a merge key, with one override
    text = """\
defaults: &churn
  direction: down
  target: 0.02
kpis:
  - <<: *churn
    metric: churn
    target: 0.03
"""
    loaded = parse_yaml(text, "d.yaml")
    # Then the merged mapping holds both, the override wins, with no duplicate-key problem
    assert loaded.data["kpis"][0] == {"direction": "down", "target": 0.03, "metric": "churn"}
    assert loaded.problems == []
    assert loaded.source_map.value(("kpis", 0, "target")) == (7, 13)
    assert loaded.source_map.value(("kpis", 0, "direction")) == (2, 14)


def test_yaml_scalars_become_python_values():
    # Given dates, numbers and booleans / Then YAML's types come through
    loaded = parse_yaml("a: 2026-10-01\nb: 1_000\nc: yes\nd: '90%'\ne: 2026-13-45\n", "d.yaml")
    import datetime

    assert loaded.data == {
        "a": datetime.date(2026, 10, 1),
        "b": 1000,
        "c": True,
        "d": "90%",
        "e": "2026-13-45",
    }


@pytest.mark.parametrize(
    ("text", "where", "fragment"),
    [
        ("", "1:1", "the file is empty"),
        ("# only a comment\n\n", "1:1", "the file is empty"),
        (
            "- metric: mrr\n",
            "1:1",
            "the top level must be a mapping of keys (title:, kpis:, ...), found a list",
        ),
        ("just text\n", "1:1", "found the text 'just text'"),
        ("title: x\nkpis:\n  - metric: mrr\n   target: 3\n", "4:4", "indentation does not line up"),
        ("title: a: b\n", "1:9", "not valid YAML: a ': ' where YAML does not expect a key"),
        ("kpis:\n\t- metric: mrr\n", "2:1", "a tab character (indent with spaces, not tabs)"),
        ("title: [unclosed\n", "2:1", "a [list] is not closed"),
        ('title: "abc\n', "2:1", "a quoted text is never closed"),
        ("title: x\n---\ntitle: y\n", "2:1", "more than one YAML document"),
        (
            "title: !!python/object:os.system x\n",
            "1:8",
            "tags such as !!python/... are not allowed",
        ),
        ("kpis: *nowhere\n", "1:7", "define the anchor (&name) before using *name"),
        ("title: 'it's'\n", "1:12", "more text after a value has ended"),
    ],
)
def test_unreadable_yaml_is_one_clear_error(tmp_path, text, where, fragment):
    # Given a file that is not a usable spec / When read / Then one InputError at file:line:col
    path = tmp_path / "dashboard.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputError) as caught:
        read_yaml(path, "dashboard.yaml")
    message = str(caught.value)
    assert message.startswith(f"dashboard.yaml:{where}: "), message
    assert fragment in message


def test_missing_file(tmp_path):
    # Given no file / Then a clear error with a hint, no traceback
    with pytest.raises(InputError, match=r"no such file \(pass the spec's path"):
        read_yaml(tmp_path / "nope.yaml")


def test_directory_instead_of_a_file(tmp_path):
    # Given a directory holding a dashboard.yaml / Then the error suggests the file inside
    (tmp_path / "dashboard.yaml").write_text("kpis: [{metric: a}]\n")
    with pytest.raises(InputError) as caught:
        read_yaml(tmp_path, "boards")
    assert str(caught.value) == (
        f"boards: is a directory, not a dashboard file (did you mean {tmp_path / 'dashboard.yaml'}?)"
    )


def test_undecodable_bytes_name_their_place(tmp_path):
    # Given Latin-1 bytes on line 2 / Then the error names line and column of the bad byte
    path = tmp_path / "d.yaml"
    path.write_bytes(b"title: ok\ndescr: caf\xe9\n")
    with pytest.raises(InputError) as caught:
        read_yaml(path, "d.yaml")
    assert str(caught.value) == "d.yaml:2:11: not UTF-8 text (byte 0xe9) (save the file as UTF-8)"


def test_a_byte_order_mark_is_accepted(tmp_path):
    # Given a UTF-8 file saved with a BOM / Then it reads like any other
    path = tmp_path / "d.yaml"
    path.write_bytes("\ufefftitle: Café ☕\nkpis: [{metric: a}]\n".encode())
    assert read_yaml(path).data["title"] == "Café ☕"


def test_recursive_alias_is_refused(tmp_path):
    # Given an anchor that contains its own alias / Then a clear error instead of a hang
    with pytest.raises(InputError, match="an alias refers to the node that holds it"):
        parse_yaml("a: &x\n  - *x\n", "d.yaml")


def test_format_path():
    # Given paths with indices and odd keys / Then they read like the spec
    assert format_path(("kpis", 2, "direction")) == "kpis[2].direction"
    assert format_path(("metrics", "api.p90", "formula")) == "metrics['api.p90'].formula"
    assert format_path(("layout", "pages", 0, "rows", 1, 2)) == "layout.pages[0].rows[1][2]"
    assert format_path(()) == ""


def test_load_dashboard_fills_defaults_and_resolves_the_store(tmp_path: Path):
    # Given a valid spec in a sub-directory naming its store relatively
    board = tmp_path / "boards"
    board.mkdir()
    spec_path = board / "growth.yaml"
    spec_path.write_text(
        "title: Growth [beta] $ 🚀\nstore: ../data/metrics.db\n"
        "kpis:\n  - metric: mrr\n    indicator: leading\n"
        "okrs:\n  - title: Grow revenue in EU!\n    key_results:\n"
        "      - {title: Reach 2k MRR, metric: mrr, start: 1000, target: 2000}\n",
        encoding="utf-8",
    )
    # When loaded
    spec = load_dashboard(spec_path)
    # Then ids and titles are filled, the store sits next to the spec's parent
    assert spec.dashboard.title == "Growth [beta] $ 🚀"
    assert spec.dashboard.kpis[0].id == "mrr" and spec.dashboard.kpis[0].title == "mrr"
    assert spec.dashboard.okrs[0].id == "grow-revenue-in-eu"
    assert spec.dashboard.okrs[0].key_results[0].id == "reach-2k-mrr"
    assert spec.store_path == board / "../data/metrics.db"
    assert spec.path == spec_path
    assert spec.warnings == []
    # And the positions and the source text come along
    assert spec.positions[("kpis", 0, "metric")] == (4, 13)
    assert spec.position(("kpis", 0, "no_such_key")) == (4, 5)
    assert spec.source_text.startswith("title: Growth")


def test_spec_errors_carry_warnings_too(specs):
    # Given a spec with an error and a warning-worthy board (no leading indicator)
    with pytest.raises(SpecErrors) as caught:
        specs.load("kpis:\n  - {metric: mrr, target: 5, warn: 6}\n")
    # Then the error is raised, and the warnings ride along for `check`
    assert len(caught.value.problems) == 1
    assert caught.value.warnings[0].detail.startswith("no KPI is marked")


def test_libyaml_and_the_python_parser_give_the_same_data_and_places(monkeypatch):
    # Given the repository's dashboard, with anchors, flow maps, quotes and Unicode
    text = (Path(__file__).parents[2] / "dashboard.yaml").read_text(encoding="utf-8")
    text += 'extra: {a: &x "Ünïcødé 🚀", b: *x, c: 2026-13-45}\n'
    # When it is composed by libyaml (the default) and by the pure-Python parser
    fast = parse_yaml(text, "d.yaml")
    monkeypatch.setattr("kpitui.spec.loader._FAST_LOADER", None)
    slow = parse_yaml(text, "d.yaml")
    # Then the data, every position and every quoted-text offset are the same
    assert fast.data == slow.data
    assert fast.source_map == slow.source_map
    assert fast.source_map.keys and fast.source_map.text_offsets


def test_a_yaml_error_reads_the_same_with_or_without_libyaml(monkeypatch):
    # Given a spec whose indentation is broken
    text = "title: x\nkpis:\n  - metric: a\n   target: 3\n"
    # When it is parsed with libyaml available, and without
    with pytest.raises(InputError) as fast:
        parse_yaml(text, "d.yaml")
    monkeypatch.setattr("kpitui.spec.loader._FAST_LOADER", None)
    with pytest.raises(InputError) as slow:
        parse_yaml(text, "d.yaml")
    # Then the user reads the same line either way (the Python parser's wording)
    assert str(fast.value) == str(slow.value)
    assert "d.yaml:4" in str(fast.value)


DEEPER_THAN_LIBYAML = "kpis: " + "[" * 1200 + "]" * 1200 + "\n"
DEEPER_THAN_THE_STACK = "kpis: " + "[" * 600 + "]" * 600 + "\n"


def test_yaml_deeper_than_libyaml_allows_is_its_error_at_its_place():
    # Given 1,200 nested lists; When read; Then libyaml's own error at its place
    with pytest.raises(InputError) as caught:
        parse_yaml(DEEPER_THAN_LIBYAML, "d.yaml")
    assert str(caught.value).startswith(
        "d.yaml:1:1006: not valid YAML: exceeded maximum nesting depth"
    )


@pytest.mark.parametrize("text", [DEEPER_THAN_LIBYAML, DEEPER_THAN_THE_STACK])
def test_yaml_nested_too_deeply_for_the_python_parser_is_one_error(monkeypatch, text):
    # Given YAML nested hundreds of levels deep, and no libyaml
    monkeypatch.setattr("kpitui.spec.loader._FAST_LOADER", None)
    # When it is read; Then one error, not a RecursionError
    with pytest.raises(InputError) as caught:
        parse_yaml(text, "d.yaml")
    assert "nested too deeply" in str(caught.value)


def test_aliases_that_multiply_stop_before_memory_runs_out():
    # Given the "billion laughs": each alias list repeats the previous nine times
    lines = ['a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for prev, name in zip("abcdefg", "bcdefgh", strict=True):
        lines.append(f"{name}: &{name} [{', '.join(['*' + prev] * 9)}]")
    # When it is read
    with pytest.raises(InputError) as caught:
        parse_yaml("\n".join(lines) + "\n", "d.yaml")
    # Then one error naming the limit
    assert "more than 100,000 values once aliases are expanded" in str(caught.value)


@pytest.mark.parametrize(
    ("text", "where", "code"),
    [
        ("title: x\nkpis:\n  - metric: a\x00b\n", "3:14", "0000"),
        ("title: x\x1b[31m\n", "1:9", "001B"),
    ],
)
def test_a_control_character_is_named_at_its_place(text, where, code):
    # Given a NUL or an escape pasted into the spec / When it is parsed
    with pytest.raises(InputError) as raised:
        parse_yaml(text, "dashboard.yaml")
    # Then the message names the character and its line:col
    assert str(raised.value).startswith(
        f"dashboard.yaml:{where}: not valid YAML: a control character (U+{code}) is in the file"
    )


def test_a_file_too_large_to_be_a_spec_is_not_read_whole(capsys):
    from kpitui.cli import main

    # Given /dev/zero passed as the spec (endless) / Then one line, exit 2
    assert main(["check", "/dev/zero"]) == 2
    assert "too large to be a dashboard spec" in capsys.readouterr().err
