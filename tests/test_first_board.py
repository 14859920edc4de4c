"""The first board evaluated by a forked child while the parent imports the app."""

from __future__ import annotations

import os
import pickle
import signal
import threading
import time
from pathlib import Path

import pytest

from kpitui.cli import first_board
from kpitui.cli.first_board import evaluate_aside
from kpitui.engine import evaluate
from kpitui.spec.models import convert
from kpitui.store import open_reader, open_writer

AS_OF = 1_767_225_600  # 2026-01-01T00:00:00Z
HOUR = 3600

SPEC = convert(
    {
        "timezone": "UTC",
        "kpis": [
            {"metric": "mrr", "target": 150},
            {"metric": "signups", "agg": "sum", "window": "7d"},
        ],
        "charts": [{"metrics": ["signups"], "window": "7d", "bucket": "1d"}],
    }
)

needs_fork = pytest.mark.skipif(not hasattr(os, "fork"), reason="no os.fork here")


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "metrics.db"
    with open_writer(path) as writer:
        writer.write_points(
            [("mrr", {}, AS_OF - 2 * HOUR, 120.0)]
            + [("signups", {}, AS_OF - h * HOUR, 1.0 + h % 3) for h in range(1, 100)]
        )
    return path


def _evaluated_here(db: Path):
    reader = open_reader(db)
    try:
        return evaluate(SPEC, reader, AS_OF)
    finally:
        reader.close()


def _gone(pid: int) -> bool:
    """The child was reaped (waiting for it finds no such child)."""
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        return True
    return False


@needs_fork
def test_the_child_evaluates_the_same_board_as_the_parent_would(db):
    assert threading.active_count() == 1, "another test left a thread running"
    with evaluate_aside(SPEC, db, AS_OF) as aside:
        pid = aside._pid
        assert pid is not None  # forked: no other thread, os.fork exists
        board = aside.result()
    assert board == _evaluated_here(db)
    assert board.kpi("mrr").value == 120.0
    assert _gone(pid)  # reaped: no zombie left behind


@needs_fork
def test_the_child_reads_only_after_go(db):
    # Given a child started, and a write committed well after it was forked but before
    # the parent said go (the parent reads its poll baseline in between)
    with evaluate_aside(SPEC, db, AS_OF) as aside:
        time.sleep(0.3)  # a child that did not wait would have read the store by now
        with open_writer(db) as writer:
            writer.write_points([("mrr", {}, AS_OF - HOUR, 130.0)])
        aside.go()
        board = aside.result()
    # Then the board has it: what the baseline saw, the board shows
    assert board is not None and board.kpi("mrr").value == 130.0


@needs_fork
def test_a_failing_child_leaves_the_parent_to_evaluate(db, monkeypatch):
    def broken(*args):
        raise RuntimeError("a bug in the child")

    monkeypatch.setattr(first_board, "_child", broken)
    with evaluate_aside(SPEC, db, AS_OF) as aside:
        pid = aside._pid
        assert aside.result() is None
    assert _gone(pid)


@needs_fork
def test_a_parent_that_stops_early_ends_the_child(db):
    # The parent's own store check failed (or Ctrl+C): it never says go
    with pytest.raises(KeyboardInterrupt), evaluate_aside(SPEC, db, AS_OF) as aside:
        pid = aside._pid
        raise KeyboardInterrupt
    assert _gone(pid)


def test_no_fork_while_other_threads_run(db):
    stop = threading.Event()
    other = threading.Thread(target=stop.wait)
    other.start()
    try:
        with evaluate_aside(SPEC, db, AS_OF) as aside:
            assert aside._pid is None
            assert aside.result() is None  # the caller evaluates
    finally:
        stop.set()
        other.join()


def test_no_fork_where_there_is_none(db, monkeypatch):
    monkeypatch.delattr(os, "fork", raising=False)
    with evaluate_aside(SPEC, db, AS_OF) as aside:
        assert aside.result() is None


def test_evaluated_here_the_board_and_its_version_are_read_together(db, tmp_path, monkeypatch):
    # Given no child (no fork here), and a write landing while the app is imported
    from kpitui.cli import app_cmds
    from kpitui.timeutil import FixedClock
    from kpitui.tui.poller import Poller

    spec = tmp_path / "dash.yaml"
    spec.write_text("kpis:\n  - {metric: mrr}\n", encoding="utf-8")

    def no_child(self):
        with open_writer(db) as writer:
            writer.write_points([("mrr", {}, AS_OF - 60, 140.0)])
        return None

    monkeypatch.setattr(first_board.FirstBoard, "result", no_child)
    loaded, store, read, board, _ = app_cmds.load_for_app(app_cmds.load_spec(spec), str(db), AS_OF)
    # Then the board shows the write, and the first poll has nothing new to evaluate
    assert board.kpi("mrr").value == 140.0
    poller = Poller(loaded, store_path=store, clock=FixedClock(AS_OF), first_read=read)
    try:
        assert poller.poll().board is None
    finally:
        poller.close()


def test_ctrl_c_is_held_off_only_while_forking(db):
    before = signal.pthread_sigmask(signal.SIG_BLOCK, set())
    with evaluate_aside(SPEC, db, AS_OF) as aside:
        assert signal.pthread_sigmask(signal.SIG_BLOCK, set()) == before
        aside.result()
    assert signal.SIGINT not in signal.pthread_sigmask(signal.SIG_BLOCK, set()) - before


@needs_fork
def test_the_child_evaluates_and_only_after_the_baseline_is_read(db, tmp_path, monkeypatch):
    # Given a record of what happens, in order, and in which process
    from kpitui import engine
    from kpitui.cli import app_cmds
    from kpitui.store.sqlite.reader import SqliteReader

    assert threading.active_count() == 1, "another test left a thread running"
    parent = os.getpid()
    order: list[str] = []
    evaluate_here = engine.evaluate

    def evaluate(*args):
        assert os.getpid() != parent, "the parent evaluated the first board"
        return evaluate_here(*args)

    version, go = SqliteReader.data_version, first_board.FirstBoard.go
    monkeypatch.setattr(engine, "evaluate", evaluate)
    monkeypatch.setattr(
        SqliteReader, "data_version", lambda r: order.append("baseline") or version(r)
    )
    monkeypatch.setattr(first_board.FirstBoard, "go", lambda a: order.append("go") or go(a))
    spec = tmp_path / "dash.yaml"
    spec.write_text("kpis:\n  - {metric: mrr}\n", encoding="utf-8")
    # When the app's first board is loaded
    _, _, read, board, _ = app_cmds.load_for_app(app_cmds.load_spec(spec), str(db), AS_OF)
    read.reader.close()
    # Then the child evaluated it, told to read only once the poller's baseline was read
    assert board.kpi("mrr").value == 120.0
    assert order[:2] == ["baseline", "go"]


@needs_fork
def test_ctrl_c_is_held_off_while_the_child_is_forked(db, monkeypatch):
    held: list[set[int]] = []
    fork = first_board._fork

    def watched(*args):
        held.append(signal.pthread_sigmask(signal.SIG_BLOCK, set()))
        return fork(*args)

    monkeypatch.setattr(first_board, "_fork", watched)
    with evaluate_aside(SPEC, db, AS_OF) as aside:
        aside.result()
    assert signal.SIGINT in held[0]


@needs_fork
def test_a_child_cut_short_mid_write_leaves_the_parent_to_evaluate(db, monkeypatch):
    def cut_short(dashboard, store_path, as_of, go, out):
        os.write(out, pickle.dumps(_evaluated_here(db))[:100])
        return 0

    monkeypatch.setattr(first_board, "_child", cut_short)
    with evaluate_aside(SPEC, db, AS_OF) as aside:
        assert aside.result() is None
