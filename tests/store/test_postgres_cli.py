"""The commands on a PostgreSQL store, as a user runs them: a password never shown, an
empty database or a server that is down said in one line, KPITUI_STORE naming the
store of a spec without one, `store copy` drawing its bar on a terminal."""

from __future__ import annotations

import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest

from kpitui.store import open_reader, open_writer
from tests.pg_server import start_server

T0 = 1_790_000_000
SECRET = "hunter2"


def with_password(url: str) -> str:
    """The URL with a password in it (the test server trusts every local login, so the
    password is ignored there, and must never be shown here)."""
    return url.replace("kpitui@", f"kpitui:{SECRET}@", 1)


def one_line(err: str) -> str:
    assert err.endswith("\n") and err.count("\n") == 1, err
    assert "Traceback" not in err
    return err


def spec_on(folder: Path, store: str | None) -> Path:
    spec = folder / "dashboard.yaml"
    spec.write_text(
        "title: Team board\n" + (f"store: {store}\n" if store else "") + "timezone: UTC\n"
        "kpis:\n  - {metric: mrr, target: 10, indicator: leading}\n"
        "okrs:\n  - title: Grow\n    key_results:\n"
        "      - {id: kr1, title: Ten, start: 0, target: 10}\n",
        encoding="utf-8",
    )
    return spec


def test_a_password_in_the_url_is_masked_in_every_output(pg_url, tmp_path, cli):
    # Given a spec whose store is a URL with a password, and a store with points in it
    url = with_password(pg_url)
    spec = str(spec_on(tmp_path, url))
    csv = tmp_path / "points.csv"
    csv.write_text(f"metric,time,value\nmrr,{T0},4\n", encoding="utf-8")
    runs = [
        ("store", "init", url),
        ("import", str(csv), "--spec", spec),
        ("record", "mrr", "5", "--spec", spec),
        ("checkin", "kr1", "3", "--spec", spec),
        ("annotate", "deploy", "--spec", spec),
        ("metrics", "--spec", spec),
        ("metrics", "--json", "--spec", spec),
        ("check", spec),
        ("check", spec, "--json"),
        ("snapshot", spec, "--format", "json"),
        ("snapshot", spec, "--format", "text"),
        ("watch", spec, "--once"),
        ("store", "copy", url, str(tmp_path / "offline.db")),
        ("snapshot", spec, "--db", url + "_nope", "--format", "json"),
    ]
    shown = []
    for args in runs:
        # When each command runs
        code, out, err = cli(*args)
        assert code == (1 if any(a.endswith("_nope") for a in args) else 0), (args, err)
        shown.append(out + err)
    # Then none shows the password, and those that name the store show it masked
    assert not [text for text in shown if SECRET in text]
    named = [text for text in shown if "kpitui:***@" in text]
    assert len(named) >= 8, shown
    assert '"store": "postgresql://kpitui:***@' in shown[8]
    assert 'no such database "' in shown[-1]


@pytest.mark.parametrize(
    "args",
    [
        ("snapshot", "--format", "json"),
        ("check",),
        ("metrics",),
        ("digest",),
        ("run",),
    ],
)
def test_an_empty_database_is_one_line_saying_what_to_run(pg_url, tmp_path, cli, args):
    # Given a database without kpitui's tables, named by the spec (a writing command
    # such as `watch` creates them, as on SQLite)
    spec = str(spec_on(tmp_path, pg_url))
    # When a reading command opens it
    where = ["--spec", spec] if args[0] == "metrics" else [spec]
    code, out, err = cli(args[0], *where, *args[1:])
    # Then it says, in one line, that the database holds no store and what to run
    lines = [line for line in (out + err).splitlines() if "holds no kpitui store" in line]
    assert code == 1 and len(lines) == 1
    assert "run `kpitui store init URL` as the role that is to own its tables" in lines[0]
    assert "Traceback" not in out + err
    if args[0] != "check":  # check also lists the spec's own warnings, one a line
        one_line(err)


def test_a_database_that_does_not_exist_is_one_line(pg_server, cli):
    code, _, err = cli("metrics", "--db", f"{pg_server}/no_such_db")
    assert code == 1
    assert 'no such database "no_such_db"' in one_line(err) and "createdb" in err


def test_kpitui_store_names_a_postgresql_store_for_a_spec_without_one(
    pg_url, tmp_path, cli, monkeypatch
):
    # Given KPITUI_STORE set to a PostgreSQL URL, and a spec with no `store:`
    monkeypatch.setenv("KPITUI_STORE", pg_url)
    monkeypatch.chdir(tmp_path)
    spec = str(spec_on(tmp_path, None))
    # When a writer records through the spec, and the board is rendered from it
    assert cli("record", "mrr", "7", "--spec", spec)[0] == 0
    code, out, _ = cli("snapshot", spec, "--format", "text")
    # Then both used the server's store, and no SQLite file was made beside the spec
    assert code == 0 and "7" in out
    assert not (tmp_path / "metrics.db").exists()
    r = open_reader(pg_url)
    try:
        assert r.metric_names() == {"mrr"}
    finally:
        r.close()


@pytest.fixture
def stopped_server():
    """A server of this test alone, with a store in it, stopped."""
    server = start_server()
    url = server.new_database("down")
    with open_writer(url) as w:
        w.write_points([("mrr", {}, T0, 1.0)])
    server.stop()
    yield url
    server.destroy()


def test_a_writer_command_on_a_server_that_is_down_fails_in_one_line(stopped_server, tmp_path, cli):
    csv = tmp_path / "points.csv"
    csv.write_text(f"metric,time,value\nmrr,{T0 + 1},2\n", encoding="utf-8")
    url = with_password(stopped_server)
    for args in (
        ("record", "mrr", "2", "--db", url),
        ("import", str(csv), "--db", url),
        ("checkin", "kr1", "0.5", "--any-id", "--db", url),
        ("annotate", "deploy", "--db", url),
        ("store", "copy", str(tmp_path / "none.db"), url),
    ):
        if args[1] == "copy":
            with open_writer(tmp_path / "none.db") as w:
                w.write_points([("x", {}, T0, 1.0)])
        code, out, err = cli(*args)
        assert code == 1, (args, err)
        line = one_line(err)
        assert "cannot reach the store" in line and SECRET not in line, args
        assert out == ""


def test_store_copy_draws_a_bar_on_a_terminal_and_counts_at_the_end(pg_url, tmp_path):
    # Given a SQLite store of 120,000 points, and stderr a terminal
    lite = tmp_path / "m.db"
    with open_writer(lite) as w:
        w.write_points(
            ("mrr", {"plan": p}, T0 + i * 60, float(i)) for i in range(60_000) for p in "ab"
        )
    leader, follower = pty.openpty()
    try:
        done = subprocess.run(
            [sys.executable, "-m", "kpitui", "store", "copy", str(lite), pg_url],
            stdout=subprocess.PIPE,
            stderr=follower,
            timeout=120,
            env={**os.environ, "TERM": "xterm-256color", "COLUMNS": "100"},
        )
        os.close(follower)
        follower = -1
        drawn = b""
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # the terminal closed with the process
                break
            if not chunk:
                break
            drawn += chunk
    finally:
        if follower != -1:
            os.close(follower)
        os.close(leader)
    # Then a bar was drawn on the terminal, and stdout has the count
    assert done.returncode == 0
    assert b"copying points" in drawn and b"/120000" in drawn
    assert done.stdout.decode().startswith("copied 120,000 points (120,000 new or changed) in 2")
    # And into a pipe: no bar, the same count, nothing new the second time
    again = subprocess.run(
        [sys.executable, "-m", "kpitui", "store", "copy", str(lite), pg_url],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert again.returncode == 0 and again.stderr == ""
    assert again.stdout.startswith("copied 120,000 points (0 new or changed)")
