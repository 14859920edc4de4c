"""`kpitui annotate` and `kpitui annotations`: write, list, filter and delete marks."""

from __future__ import annotations

import json

from kpitui.store import open_reader
from kpitui.store.checks import MAX_TS, MIN_TS
from kpitui.timeutil import parse_time

T0 = parse_time("2026-11-20T00:00:00Z")


def stored(db):
    reader = open_reader(db)
    try:
        return reader.annotations(MIN_TS, MAX_TS)
    finally:
        reader.close()


def test_annotate_writes_through_the_writer_and_says_so(db, cli):
    # Given a release on two metrics, with a label
    code, out, err = cli(
        "annotate", "v2.4 released", "--at", "2026-11-20T10:00:00+01:00",
        "--metric", "mrr", "--metric", "arpu", "--label", "region=eu", "--db", str(db),
    )  # fmt: skip
    # Then one line says what was written, and the store holds it
    assert code == 0
    assert out == (
        f"annotated mrr, arpu at 2026-11-20T09:00:00Z: v2.4 released (annotation 1 in {db})\n"
    )
    # And metrics the store does not hold yet are pointed out, not refused
    assert err == (
        f"kpitui: note: no metric mrr in {db} yet\nkpitui: note: no metric arpu in {db} yet\n"
    )
    [a] = stored(db)
    assert (a.id, a.ts, a.text, a.metrics, dict(a.labels)) == (
        1, parse_time("2026-11-20T09:00:00Z"), "v2.4 released", ("mrr", "arpu"), {"region": "eu"},
    )  # fmt: skip


def test_annotate_without_metrics_is_on_every_chart(db, cli, write):
    write([("signups", {}, T0, 1.0)])
    code, out, err = cli("annotate", "incident", "--at", "2026-11-20", "--db", str(db))
    assert code == 0 and err == ""
    assert out.startswith("annotated every chart at 2026-11-20T00:00:00Z: incident")
    assert stored(db)[0].metrics == ()


def test_annotate_points_out_a_likely_typo(db, cli, write):
    # Given a store with signups, When an annotation names "sigups"
    write([("signups", {}, T0, 1.0)])
    code, _, err = cli("annotate", "ad campaign", "--metric", "sigups", "--db", str(db))
    # Then it is written, and a note asks whether signups was meant
    assert code == 0
    assert err == f"kpitui: note: no metric sigups in {db} yet (did you mean signups?)\n"
    assert stored(db)[0].metrics == ("sigups",)


def test_annotate_mistakes_are_one_line_and_write_nothing(db, cli):
    for args, message in (
        (("   ",), "kpitui: TEXT is empty"),
        (("x", "--metric", "9lives"), "kpitui: --metric '9lives' is not a metric name"),
        (("x", "--label", "plan"), "kpitui: --label 'plan' is not KEY=VALUE"),
    ):
        code, out, err = cli("annotate", *args, "--db", str(db))
        assert code == 2 and out == "" and err.startswith(message), err
        assert len(err.splitlines()) == 1
    assert not db.exists()


def test_annotations_lists_filters_and_deletes(db, cli):
    for args in (
        ("deploy", "--at", "2026-11-02", "--metric", "mrr"),
        ("outage [bold]EU[/]\x1b[2J", "--at", "2026-11-01T12:00:00Z", "--label", "region=eu"),
        ("price change", "--at", "2026-11-03", "--metric", "arpu"),
    ):
        assert cli("annotate", *args, "--db", str(db))[0] == 0
    # Then the list is oldest first, its text escaped, '*' for every chart
    code, out, _ = cli("annotations", "--db", str(db))
    assert code == 0
    assert out.splitlines() == [
        "ID  TIME                  METRICS  LABELS     TEXT",
        " 2  2026-11-01T12:00:00Z  *        region=eu  outage [bold]EU[/]\\x1b[2J",
        " 1  2026-11-02T00:00:00Z  mrr      -          deploy",
        " 3  2026-11-03T00:00:00Z  arpu     -          price change",
    ]
    # And --metric keeps those on that metric's charts (and those on every chart)
    rows = json.loads(cli("annotations", "--metric", "mrr", "--json", "--db", str(db))[1])
    assert [(r["id"], r["metrics"]) for r in rows] == [(2, []), (1, ["mrr"])]
    assert rows[0]["text"] == "outage [bold]EU[/]\x1b[2J"  # JSON keeps the data as it is
    # And --delete asks first: no terminal and no --yes refuses, --dry-run only says
    assert cli("annotations", "--delete", "1", "--db", str(db))[0] == 2
    assert cli("annotations", "--delete", "1", "--dry-run", "--db", str(db))[1] == (
        "would delete annotation 1 (2026-11-02T00:00:00Z: deploy)\n"
    )
    assert cli("annotations", "--delete", "1", "--yes", "--db", str(db))[:2] == (
        0,
        f"deleted annotation 1 from {db}\n",
    )
    assert [a.id for a in stored(db)] == [2, 3]
    code, _, err = cli("annotations", "--delete", "1", "--yes", "--db", str(db))
    assert code == 2 and err.startswith("kpitui: no annotation 1 in ")


def test_annotations_of_a_missing_store_creates_nothing(db, cli):
    code, _, err = cli("annotations", "--db", str(db))
    assert code == 2 and "no store here" in err
    assert not db.exists()


def test_annotations_when_there_are_none(db, cli, write):
    write([("signups", {}, T0, 1.0)])
    assert cli("annotations", "--db", str(db))[1] == (
        f"no annotations in {db} yet: write one with `kpitui annotate`\n"
    )
