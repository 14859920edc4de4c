"""`kpitui snapshot` end to end: a store and a spec made in the test, a fixed --as-of."""

from __future__ import annotations

import json
import os
import stat
import textwrap
import threading
from pathlib import Path
from xml.etree import ElementTree

import pytest

from kpitui.cli import main
from kpitui.store import open_writer
from kpitui.timeutil import parse_time

AS_OF = "2026-11-24T12:00:00Z"
NOW = parse_time(AS_OF)
HOUR, DAY = 3600, 86400

SPEC = """\
title: "Acme [beta] $ 🚀"
store: metrics.db
timezone: Europe/Berlin
period: {quarter: 2026-Q4}
checkin_every: 7d
metrics:
  conversion: {formula: trial_conversions / signups, format: percent}
kpis:
  - metric: mrr
    title: MRR
    north_star: true
    format: currency
    currency: USD
    target: 12000
    warn: "97%"
    crit: "80%"
  - metric: signups
    agg: sum
    window: 7d
    target: 700
    indicator: leading
  - metric: conversion
    agg: sum
    window: 7d
    target: 0.25
    warn: 0.2
    crit: 0.1
  - metric: churn_rate
    direction: down
    format: percent
    warn: 0.03
    crit: 0.05
    stale_after: 1d
okrs:
  - title: Grow revenue
    owner: Ana
    key_results:
      - title: MRR to 15k
        metric: mrr
        start: 10000
        target: 15000
      - id: pricing
        title: Ship new pricing
        start: 0
        target: 10
"""


def _write_store(path: Path, *, churn: float = 0.02) -> None:
    points = [
        ("mrr", {"plan": "pro"}, NOW - 2 * DAY, 7000.0),
        ("mrr", {"plan": "pro"}, NOW - HOUR, 7500.0),
        ("mrr", {"plan": "team"}, NOW - HOUR, 4000.0),
        ("churn_rate", {}, NOW - 2 * HOUR, churn),
    ]
    for d in range(14):
        ts = NOW - d * DAY - 3 * HOUR
        points.append(("signups", {"region": "eu"}, ts, 100.0 if d < 7 else 80.0))
        points.append(("trial_conversions", {}, ts, 20.0 if d < 7 else 10.0))
    with open_writer(path) as writer:
        writer.write_points(points)
        writer.write_checkin("pricing", NOW - 3 * DAY, 4, "on_track", "beta is live")


@pytest.fixture
def board_dir(tmp_path, monkeypatch):
    (tmp_path / "dashboard.yaml").write_text(SPEC, encoding="utf-8")
    _write_store(tmp_path / "metrics.db")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def snapshot(*args: str) -> int:
    return main(["snapshot", *args])


def test_json_snapshot_values_and_states(board_dir, capsys):
    # Given MRR 11,500 (warn: under 97% of 12,000), 700 signups this week (target met),
    # conversion 140/700 = 20% (on the warn threshold), churn 2% (ok)
    # When a JSON snapshot is taken at a fixed moment
    code = snapshot("--format", "json", "--as-of", AS_OF)
    data = json.loads(capsys.readouterr().out)
    # Then the values, states and comparisons are those of the store
    assert code == 0
    assert data["title"] == "Acme [beta] $ 🚀"
    assert data["as_of"] == "2026-11-24T12:00:00Z"
    kpis = {k["id"]: k for k in data["kpis"]}
    assert list(kpis) == ["mrr", "signups", "conversion", "churn_rate"]
    assert (kpis["mrr"]["value"], kpis["mrr"]["display"], kpis["mrr"]["state"]) == (
        11500,
        "$11,500.00",
        "warn",
    )
    assert (kpis["mrr"]["previous"], kpis["mrr"]["delta"]) == (7000, 4500)
    assert (kpis["signups"]["value"], kpis["signups"]["previous"], kpis["signups"]["state"]) == (
        700,
        560,
        "ok",
    )
    assert kpis["signups"]["delta_pct"] == pytest.approx(0.25)
    assert kpis["conversion"]["value"] == pytest.approx(0.2)
    assert (kpis["conversion"]["display"], kpis["conversion"]["state"]) == ("20.0%", "warn")
    assert kpis["conversion"]["previous"] == pytest.approx(70 / 560)
    assert (kpis["churn_rate"]["state"], kpis["churn_rate"]["last_at"]) == (
        "ok",
        "2026-11-24T10:00:00Z",
    )
    objective = data["okrs"][0]
    mrr_kr, pricing = objective["key_results"]
    assert (mrr_kr["current"], mrr_kr["progress"]) == (11500, pytest.approx(0.3))
    assert (pricing["current"], pricing["confidence"], pricing["checkin_due"]) == (
        4,
        "on_track",
        False,
    )
    assert objective["owner"] == "Ana"


def test_text_snapshot(board_dir, capsys):
    # When a text snapshot is taken
    code = snapshot("--as-of", AS_OF)
    out = capsys.readouterr().out
    # Then it shows the board with the as-of moment in the spec's timezone
    assert code == 0
    lines = out.splitlines()
    assert lines[0].startswith("Acme [beta] $ 🚀")
    assert "as of 2026-11-24 13:00 (Europe/Berlin)" in lines[0]
    mrr = next(line for line in lines if "MRR ★" in line)
    assert "▲ warn" in mrr and "$11,500.00" in mrr and "$12,000.00" in mrr
    conversion = next(line for line in lines if "conversion" in line)
    assert "▲ warn" in conversion and "20.0%" in conversion and "▲ +7.5 pp (+60.0%)" in conversion
    assert "Grow revenue" in out and "[###-------]  30%" in out
    assert "\x1b" not in out


def test_stale_kpi_shows_its_age(board_dir, capsys):
    # Given the same store read two days later
    snapshot("--as-of", "2026-11-26T12:00:00Z")
    out = capsys.readouterr().out
    churn = next(line for line in out.splitlines() if "churn_rate" in line)
    assert "◌ stale" in churn and "2d ago" in churn


@pytest.mark.parametrize(
    ("churn", "level", "code", "named"),
    [
        (0.02, "warn", 3, "mrr (warn)"),  # MRR and conversion are warn
        (0.02, "crit", 0, None),  # nothing is crit
        (0.06, "crit", 3, "churn_rate (crit)"),
        (0.06, "warn", 3, "churn_rate (crit)"),  # crit is beyond warn
    ],
)
def test_fail_on_exit_codes(board_dir, capsys, churn, level, code, named):
    # Given churn at `churn` / When --fail-on `level`
    _write_store(board_dir / "metrics.db", churn=churn)
    result = snapshot("--as-of", AS_OF, "--fail-on", level)
    err = capsys.readouterr().err
    # Then exit 3 when a KPI is at that state or worse, naming it on stderr
    assert result == code
    if named:
        assert named in err
    else:
        assert err == ""


def test_fail_on_counts_a_stale_kpi_by_its_band(board_dir, capsys):
    # Given churn at a critical 6% whose feed stopped two days ago
    _write_store(board_dir / "metrics.db", churn=0.06)
    assert snapshot("--as-of", "2026-11-26T12:00:00Z", "--fail-on", "crit") == 3
    assert "churn_rate (crit)" in capsys.readouterr().err


def test_output_file_is_written_whole(board_dir, capsys):
    # Given an existing report file readable by others
    target = board_dir / "out" / "board.json"
    target.parent.mkdir()
    target.write_text("old")
    os.chmod(target, 0o640)
    # When a snapshot is written to it
    assert snapshot("--format", "json", "--as-of", AS_OF, "-o", str(target)) == 0
    # Then stdout stays empty, the file holds the new board, its mode is kept, no temp left
    assert capsys.readouterr().out == ""
    assert json.loads(target.read_text(encoding="utf-8"))["kpis"][0]["id"] == "mrr"
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
    assert [p.name for p in target.parent.iterdir()] == ["board.json"]


def test_output_through_a_symlink_writes_its_target_and_keeps_the_link(board_dir, capsys):
    # Given a link to the report file a web server serves
    real = board_dir / "served.txt"
    real.write_text("old")
    link = board_dir / "latest.txt"
    link.symlink_to(real)
    # When a snapshot is written to the link
    assert snapshot("--as-of", AS_OF, "-o", str(link)) == 0
    # Then the link is still a link, and its target holds the board
    assert link.is_symlink()
    assert "Acme [beta]" in real.read_text(encoding="utf-8")


def test_output_to_a_device_writes_into_it_without_replacing_it(board_dir, capsys):
    # Given a FIFO a reader waits on (as /dev/null or a pipe would be)
    fifo = board_dir / "board.fifo"
    os.mkfifo(fifo)
    received: list[str] = []
    reader = threading.Thread(
        target=lambda: received.append(fifo.read_text(encoding="utf-8")), daemon=True
    )
    reader.start()
    # When a snapshot is written to it
    assert snapshot("--as-of", AS_OF, "-o", str(fifo)) == 0
    reader.join(5)
    # Then the reader got the board and the FIFO is still a FIFO
    assert received and "Acme [beta]" in received[0]
    assert stat.S_ISFIFO(fifo.stat().st_mode)


@pytest.mark.parametrize("name", ["dashboard.yaml", "metrics.db"])
def test_output_never_overwrites_the_spec_or_the_store(board_dir, capsys, name):
    # Given the spec and its store
    before = (board_dir / name).read_bytes()
    # When --output names one of them
    code = snapshot("--as-of", AS_OF, "-o", name)
    err = capsys.readouterr().err
    # Then one line, exit 2, and the file is untouched
    assert code == 2
    assert "will not overwrite the dashboard's own spec or store" in err
    assert len(err.splitlines()) == 1
    assert (board_dir / name).read_bytes() == before


@pytest.mark.parametrize("side", ["-wal", "-shm", "-journal"])
def test_output_never_overwrites_the_stores_side_files(board_dir, capsys, side):
    # Given a writer holding the store open, so its -wal holds committed points
    with open_writer(board_dir / "metrics.db") as writer:
        writer.write_points([("signups", {"region": "us"}, NOW - HOUR, 5.0)])
        kept = ("metrics.db", "metrics.db-wal")  # -shm changes as the snapshot reads
        before = {name: (board_dir / name).read_bytes() for name in kept}
        # When --output names one of the store's side files (there or not)
        code = snapshot("--as-of", AS_OF, "-o", "metrics.db" + side)
        after = {name: (board_dir / name).read_bytes() for name in kept}
        written = [p.name for p in board_dir.glob("metrics.db*") if b"Acme" in p.read_bytes()]
    err = capsys.readouterr().err
    # Then it is refused in one line and no file of the store holds the snapshot
    assert code == 2
    assert "will not overwrite the dashboard's own spec or store" in err
    assert after == before and written == []


def test_output_never_overwrites_the_store_through_a_hard_link(board_dir, capsys):
    # Given a second name for the store's file
    os.link(board_dir / "metrics.db", board_dir / "board.txt")
    before = (board_dir / "metrics.db").read_bytes()
    # When --output names it, Then it is refused and the store is untouched
    assert snapshot("--as-of", AS_OF, "-o", "board.txt") == 2
    assert "will not overwrite" in capsys.readouterr().err
    assert (board_dir / "metrics.db").read_bytes() == before


def test_output_into_a_missing_directory_is_one_clear_line(board_dir, capsys):
    code = snapshot("--as-of", AS_OF, "-o", "nowhere/board.txt")
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("kpitui: nowhere/board.txt: cannot write the snapshot")
    assert "Traceback" not in err and len(err.splitlines()) == 1


def test_db_option_overrides_the_spec_store(board_dir, capsys):
    other = board_dir / "other.db"
    with open_writer(other) as writer:
        writer.write_points([("mrr", {}, NOW - HOUR, 20000.0)])
    snapshot("--format", "json", "--as-of", AS_OF, "--db", str(other))
    kpis = json.loads(capsys.readouterr().out)["kpis"]
    assert kpis[0]["value"] == 20000
    assert kpis[0]["state"] == "ok"
    assert kpis[1]["state"] == "no_data"


def test_spec_in_another_directory_uses_its_own_store(
    board_dir, tmp_path_factory, monkeypatch, capsys
):
    monkeypatch.chdir(tmp_path_factory.mktemp("elsewhere"))
    assert snapshot(str(board_dir / "dashboard.yaml"), "--format", "json", "--as-of", AS_OF) == 0
    assert json.loads(capsys.readouterr().out)["kpis"][0]["value"] == 11500


def test_missing_store_is_named_at_the_spec_store_line(board_dir, capsys):
    (board_dir / "metrics.db").unlink()
    code = snapshot("--as-of", AS_OF)
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("kpitui: dashboard.yaml:2:8: store: store not found")
    assert "kpitui demo" in err


def test_missing_db_option_store(board_dir, capsys):
    assert snapshot("--db", "nope.db") == 2
    assert "nope.db: store not found" in capsys.readouterr().err


def test_missing_spec(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert snapshot("--as-of", AS_OF) == 2
    err = capsys.readouterr().err
    assert "dashboard.yaml" in err and "Traceback" not in err


def test_broken_spec_lists_its_problems(board_dir, capsys):
    (board_dir / "dashboard.yaml").write_text(
        SPEC.replace("direction: down", "direction: downn"), encoding="utf-8"
    )
    assert snapshot("--as-of", AS_OF) == 2
    err = capsys.readouterr().err
    assert "dashboard.yaml:" in err and "direction" in err and "did you mean 'down'" in err


def test_bad_as_of_is_rejected(board_dir, capsys):
    with pytest.raises(SystemExit) as exc:
        snapshot("--as-of", "yesterday")
    assert exc.value.code == 2
    assert "is not a time" in capsys.readouterr().err


def test_svg_is_rendered_by_the_tui(board_dir, capsys, monkeypatch):
    # Given a stand-in for the TUI renderer
    import kpitui.tui.snapshot as tui_snapshot

    seen = {}

    def fake_render(loaded, board, store_path, as_of, width, height, page=1):
        from kpitui.store import open_reader

        reader = open_reader(store_path)
        seen.update(
            title=loaded.dashboard.title,
            as_of=as_of,
            size=(width, height),
            metrics=reader.metric_names(),
            board_as_of=None if board is None else board.as_of,
        )
        reader.close()
        return "<svg>board</svg>"

    monkeypatch.setattr(tui_snapshot, "render_svg", fake_render)
    # When an SVG snapshot is asked for
    assert snapshot("--format", "svg", "--as-of", AS_OF, "--width", "100", "--height", "30") == 0
    # Then the TUI renders it with the loaded spec, the store, as-of and the size
    assert capsys.readouterr().out == "<svg>board</svg>\n"
    assert seen["size"] == (100, 30)
    assert seen["as_of"] == NOW
    assert "mrr" in seen["metrics"]
    # And the board already evaluated is handed over, not computed again
    assert seen["board_as_of"] == NOW


def test_help_has_an_example(capsys):
    with pytest.raises(SystemExit):
        main(["snapshot", "--help"])
    out = capsys.readouterr().out
    assert "examples:" in out and "--fail-on" in out


def test_spec_text_is_data(tmp_path, monkeypatch, capsys):
    # Given titles holding markup, dollars and escape sequences
    spec = textwrap.dedent("""\
        title: "Board \\e[2J"
        kpis:
          - metric: mrr
            title: "[bold red]MRR[/] $ \\e]0;x\\a"
        """)
    (tmp_path / "dashboard.yaml").write_text(spec, encoding="utf-8")
    with open_writer(tmp_path / "metrics.db") as writer:
        writer.write_points([("mrr", {}, NOW - HOUR, 5.0)])
    monkeypatch.chdir(tmp_path)
    assert snapshot("--as-of", AS_OF) == 0
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\x07" not in out
    assert "[bold red]MRR[/] $ \\x1b]0;x\\x07" in out
    assert snapshot("--as-of", AS_OF, "--format", "json") == 0
    data = json.loads(capsys.readouterr().out)
    assert data["kpis"][0]["title"] == "[bold red]MRR[/] $ \x1b]0;x\x07"


def test_svg_of_the_real_screen(board_dir, capsys):
    # When the real TUI renders the board headless at 100x30
    assert (
        snapshot(
            "--format",
            "svg",
            "--as-of",
            AS_OF,
            "--width",
            "100",
            "--height",
            "30",
            "-o",
            "board.svg",
        )
        == 0
    )
    # Then an SVG of the screen is written
    svg = (board_dir / "board.svg").read_text(encoding="utf-8")
    assert svg.lstrip().startswith("<svg") and "MRR" in svg


def svg_rows(svg: str) -> list[str]:
    """The text of each row of an SVG screenshot, top first (rows without text left out)."""
    import html
    import re

    rows: dict[float, list[tuple[float, str]]] = {}
    for x, y, text in re.findall(
        r'<text class="[^"]*" x="([\d.]+)" y="([\d.]+)"[^>]*>(.*?)</text>', svg
    ):
        rows.setdefault(float(y), []).append((float(x), html.unescape(text).replace("\xa0", " ")))
    return ["".join(t for _, t in sorted(parts)) for _, parts in sorted(rows.items())]


def test_svg_draws_the_page_asked_for_as_tall_as_it_needs_without_footer_or_focus(
    board_dir, capsys
):
    # Given a board of two pages: the KPIs, and the OKR tree alone
    spec = board_dir / "dashboard.yaml"
    spec.write_text(
        spec.read_text()
        + "layout:\n  pages:\n    - title: KPIs\n      rows: [[mrr, signups], [conversion, churn_rate]]\n"
        "    - title: Goals\n      rows: [[okrs]]\n",
        encoding="utf-8",
    )
    # When page 2 is drawn with no height given
    assert snapshot("--format", "svg", "--as-of", AS_OF, "--page", "2", "-o", "p2.svg") == 0
    svg = (board_dir / "p2.svg").read_text(encoding="utf-8")
    rows = svg_rows(svg)
    # Then it is page 2, its tree whole, and nothing below it: no key footer, no empty
    # screen under the last panel
    assert "2/2 Goals" in rows[0]
    assert any("Ship new pricing" in row for row in rows)
    assert not any("Quit" in row or "Keys" in row for row in rows)
    assert rows[-1].startswith("╰")
    # And a page the board does not have is one line and exit 2, as --page without svg
    assert snapshot("--format", "svg", "--as-of", AS_OF, "--page", "3") == 2
    assert capsys.readouterr().err.strip() == (
        "kpitui: dashboard.yaml: --page 3: the board has 2 pages (use --page 1..2)"
    )
    assert snapshot("--as-of", AS_OF, "--page", "2") == 2
    assert "--page draws one page of the screen" in capsys.readouterr().err


def test_svg_is_valid_xml_when_the_title_holds_an_escape(board_dir, capsys):
    # Given a board title with an escape sequence in it
    spec = board_dir / "dashboard.yaml"
    spec.write_text(spec.read_text().replace('title: "Acme [beta] $ 🚀"', 'title: "Acme \\e[31m"'))
    # When the screen is rendered to SVG
    assert snapshot("--format", "svg", "--as-of", AS_OF, "-o", "board.svg") == 0
    # Then the SVG parses, and shows the escape as text
    svg = (board_dir / "board.svg").read_text(encoding="utf-8")
    ElementTree.fromstring(svg)
    assert "\x1b" not in svg and "Acme" in svg


REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def sample_store(tmp_path_factory):
    from kpitui.demo import sample_data_module

    path = tmp_path_factory.mktemp("sample") / "metrics.db"
    sample_data_module().generate(path, end=NOW)
    return path


def test_repo_dashboard_checks_clean_on_the_sample_data(sample_store, capsys):
    # Given the repository's dashboard.yaml and the sample store
    # When it is checked / Then it is clean, without even a warning
    assert main(["check", str(REPO / "dashboard.yaml"), "--db", str(sample_store)]) == 0
    captured = capsys.readouterr()
    assert "warning" not in captured.err
    assert "12 KPIs, 2 charts" in captured.out


def test_repo_dashboard_shows_a_mix_of_states(sample_store, capsys):
    # When the sample board is snapshotted at a fixed moment
    code = main(
        [
            "snapshot",
            str(REPO / "dashboard.yaml"),
            "--db",
            str(sample_store),
            "--format",
            "json",
            "--as-of",
            AS_OF,
        ]
    )
    data = json.loads(capsys.readouterr().out)
    states = {k["id"]: k["state"] for k in data["kpis"]}
    # Then the North Star leads, and the board shows ok, warn and crit KPIs
    assert code == 0
    assert data["kpis"][0]["id"] == "mrr"
    assert {"ok", "warn", "crit"} <= set(states.values())
    assert "no_data" not in states.values() and "error" not in states.values()
    # And the OKR tree has every status colour and a due check-in
    krs = [kr for o in data["okrs"] for kr in o["key_results"]]
    krs += [kr for o in data["okrs"] for c in o["children"] for kr in c["key_results"]]
    assert {"on_track", "at_risk", "off_track"} <= {kr["status"] for kr in krs}
    assert any(kr["checkin_due"] for kr in krs)


def test_an_svg_of_a_screen_that_failed_to_draw_is_not_written(board_dir, capsys, monkeypatch):
    # Given a card that fails while drawing (a bug: Textual prints it and goes on)
    from kpitui.tui.widgets import KpiCard

    def broken(self, y):
        raise ValueError("cannot convert float NaN to integer")

    monkeypatch.setattr(KpiCard, "render_line", broken)
    # When an SVG is asked for
    code = snapshot("--format", "svg", "--as-of", AS_OF, "-o", "board.svg")
    # Then it fails with one line, and no half-drawn screen is written
    assert code != 0
    assert "could not be rendered to SVG" in capsys.readouterr().err
    assert not (board_dir / "board.svg").exists()


@pytest.mark.parametrize("fmt", ["text", "json", "svg"])
def test_a_lone_surrogate_in_the_spec_is_shown_escaped_not_a_traceback(board_dir, fmt):
    # Given a title holding a YAML "\ud800" escape: half a pair, no UTF-8 can encode it
    spec = (board_dir / "dashboard.yaml").read_text(encoding="utf-8")
    (board_dir / "dashboard.yaml").write_text(
        spec.replace('title: "Acme', 'title: "Acme \\ud800', 1), encoding="utf-8"
    )
    # When a snapshot is written to a file (encoded as UTF-8, as stdout would be)
    code = snapshot("--as-of", AS_OF, "--format", fmt, "-o", "out")
    # Then it is written, the half pair shown as its escape
    assert code == 0
    text = (board_dir / "out").read_text(encoding="utf-8")
    assert "\\ud800" in text and "\ud800" not in text
