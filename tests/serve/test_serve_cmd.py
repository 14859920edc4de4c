"""`kpitui serve` on the command line: what it checks before it listens, and the
token, command and URL it chooses. No browser here (see test_browser.py)."""

from __future__ import annotations

import socket
import sys
from pathlib import Path

import pytest

from kpitui.cli import main
from kpitui.cli.serve_cmd import board_argv, board_url, choose_token
from kpitui.errors import InputError
from kpitui.serve.token import TOKEN_ENV
from tests.serve.served import make_board


@pytest.fixture
def board(tmp_path: Path, monkeypatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv(TOKEN_ENV, raising=False)
    return make_board(tmp_path)


def one_line_error(capsys) -> str:
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    return err


@pytest.mark.parametrize(
    "case",
    [
        "missing spec",
        "invalid spec",
        "missing store",
        "not a store",
        "store is a folder",
        "store unreachable",
    ],
)
def test_a_board_run_could_not_open_is_refused_as_run_refuses_it(board, capsys, case):
    # Given a broken input
    folder = board.parent
    (folder / "bad.yaml").write_text("title: x\nkpis: [{metric: a, bogus: 1}]\n")
    (folder / "junk.db").write_text("junk\n")
    args = {
        "missing spec": ["nope.yaml"],
        "invalid spec": ["bad.yaml"],
        "missing store": [str(board), "--db", "nope.db"],
        "not a store": [str(board), "--db", "junk.db"],
        "store is a folder": [str(board), "--db", str(folder)],
        # port 1 on loopback: nothing listens there, refused at once
        "store unreachable": [str(board), "--db", "postgresql://127.0.0.1:1/kpis"],
    }[case]
    # When `run` and `serve` are given it
    run_code = main(["run", *args])
    run_err = capsys.readouterr().err
    serve_code = main(["serve", *args])
    # Then serve says what run says, with run's exit code, and listens on nothing
    assert serve_code == run_code != 0
    assert one_line_error(capsys) == run_err


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["--max-sessions", "0"], "'0' is not a whole number of at least 1"),
        (["--port", "70000"], "'70000' is no TCP port"),
        (["--port", "http"], "'http' is no TCP port"),
        (["--token", "short"], "--token is 5 characters, too easy to guess"),
    ],
)
def test_bad_arguments_are_one_line_and_exit_2(board, capsys, args, said):
    try:
        code = main(["serve", str(board), *args])
    except SystemExit as exited:  # argparse's own
        code = exited.code
    assert code == 2
    assert said in one_line_error(capsys)


def test_a_short_token_from_the_environment_is_refused(board, capsys, monkeypatch):
    monkeypatch.setenv(TOKEN_ENV, "abc")
    assert main(["serve", str(board)]) == 2
    assert f"{TOKEN_ENV} is 3 characters" in one_line_error(capsys)


def test_a_port_in_use_is_one_line_and_exit_1(board, capsys):
    # Given another program listening on a loopback port
    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        port = other.getsockname()[1]
        # When serve is asked for that port
        code = main(["serve", str(board), "--port", str(port)])
    # Then it says so, and prints no URL
    captured = capsys.readouterr()
    assert code == 1
    assert captured.out == ""
    assert f"cannot listen on 127.0.0.1:{port}: the port is in use" in captured.err
    assert "Traceback" not in captured.err


def test_an_address_this_machine_lacks_is_one_line_and_exit_2(board, capsys):
    # 192.0.2.1 is TEST-NET-1, never a local address; binding it sends nothing anywhere
    assert main(["serve", str(board), "--host", "192.0.2.1", "--port", "0"]) == 2
    err = capsys.readouterr().err
    assert "cannot listen on 192.0.2.1:0: this machine has no such address" in err


def test_loopback_needs_no_token_and_anywhere_else_gets_a_random_one():
    assert choose_token(None, None, loopback=True) is None
    one, two = choose_token(None, None, loopback=False), choose_token(None, None, loopback=False)
    assert one and two and one != two and len(one) == 32


def test_a_given_token_wins_over_the_environment_which_wins_over_none():
    given, env = "g" * 16, "e" * 16
    assert choose_token(given, env, loopback=True) == given
    assert choose_token(None, env, loopback=True) == env
    assert choose_token(None, env, loopback=False) == env
    assert choose_token(None, "", loopback=True) is None  # an empty variable is unset
    with pytest.raises(InputError, match="--token is 0 characters"):
        choose_token("", env, loopback=True)


def test_each_tab_runs_kpitui_run_on_the_same_spec_store_and_as_of(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert board_argv("dash.yaml", None, None) == [
        sys.executable,
        "-m",
        "kpitui",
        "run",
        str(tmp_path / "dash.yaml"),
    ]
    assert board_argv("-odd.yaml", "data/m.db", 1_795_521_600)[4:] == [
        str(tmp_path / "-odd.yaml"),  # absolute: never read as an option
        "--db",
        "data/m.db",
        "--as-of",
        "1795521600",
    ]


def test_the_url_names_a_host_a_browser_can_open():
    assert board_url("127.0.0.1", 8040, None) == "http://127.0.0.1:8040/"
    assert board_url("::1", 8040, None) == "http://[::1]:8040/"
    assert board_url("0.0.0.0", 9000, "t") == f"http://{socket.gethostname()}:9000/?token=t"
    assert board_url("10.0.0.5", 8040, "a b/c+d") == "http://10.0.0.5:8040/?token=a%20b%2Fc%2Bd"


def test_help_has_an_example(capsys):
    with pytest.raises(SystemExit):
        main(["serve", "--help"])
    out = capsys.readouterr().out
    assert "ssh -L 8040:localhost:8040" in out
    assert "kpitui serve --host 0.0.0.0" in out
