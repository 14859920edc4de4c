"""`kpitui demo`: the sample store and the live feed that writes through the writer."""

from __future__ import annotations

import threading
import types
from pathlib import Path

import pytest

from kpitui import demo
from kpitui.errors import StoreLockedError
from kpitui.timeutil import FixedClock

NOW = 1_795_521_600  # 2026-11-24T12:00:00Z


def test_step_once_writes_through_the_normal_writer(tmp_path: Path):
    from kpitui.store import open_reader

    store = tmp_path / "metrics.db"

    def step(writer, now, rng):
        writer.write_points([("signups", {}, now, 3.0)])

    feed = demo.LiveFeed(store, clock=FixedClock(NOW), step=step)
    # When one step runs
    feed.step_once()
    # Then the store (created by the writer) holds the point
    reader = open_reader(store)
    try:
        assert reader.last("signups", None, NOW).value == 3.0
    finally:
        reader.close()
    assert feed.steps == 1


def test_the_feed_thread_writes_until_stopped(tmp_path: Path):
    written = threading.Event()
    calls: list[int] = []

    def step(writer, now, rng):
        calls.append(now)
        written.set()

    feed = demo.LiveFeed(tmp_path / "metrics.db", clock=FixedClock(NOW), interval=0.01, step=step)
    feed.start()
    assert written.wait(10)
    thread = feed._thread
    feed.stop()
    count = len(calls)
    # Then after stop nothing more is written: the thread has ended
    assert count >= 1
    assert feed._thread is None and not thread.is_alive()
    assert len(calls) == count


def test_feed_errors_are_reported_once_and_never_stop_the_feed(tmp_path: Path):
    errors: list[str | None] = []
    attempts: list[int] = []
    done = threading.Event()

    def step(writer, now, rng):
        attempts.append(1)
        if len(attempts) <= 2:
            raise StoreLockedError("store is locked by another writer")
        done.set()

    feed = demo.LiveFeed(tmp_path / "metrics.db", clock=FixedClock(NOW), interval=0.01, step=step)
    feed.start(on_error=errors.append)
    assert done.wait(10)
    feed.stop()
    # Then the lock was reported once, and its recovery once (None)
    assert errors == ["demo feed: store is locked by another writer", None]


def test_ensure_sample_store_builds_only_when_missing(tmp_path: Path, monkeypatch):
    built: list[tuple[Path, int]] = []

    def generate(path, end):
        built.append((path, end))
        Path(path).write_bytes(b"")

    monkeypatch.setattr(
        demo, "sample_data_module", lambda: types.SimpleNamespace(generate=generate)
    )
    store = tmp_path / "sub" / "metrics.db"
    assert demo.ensure_sample_store(store, FixedClock(NOW)) is True
    assert demo.ensure_sample_store(store, FixedClock(NOW)) is False
    # (built beside it, then renamed into place)
    assert built == [(store.with_name("metrics.db.building"), NOW)]
    assert store.is_file() and list(store.parent.iterdir()) == [store]


def test_an_interrupted_sample_build_leaves_no_store(tmp_path: Path, monkeypatch):
    # Given a build that is interrupted half-way (Ctrl-C)
    def generate(path, end):
        Path(path).write_bytes(b"half")
        raise KeyboardInterrupt

    monkeypatch.setattr(
        demo, "sample_data_module", lambda: types.SimpleNamespace(generate=generate)
    )
    store = tmp_path / "metrics.db"
    with pytest.raises(KeyboardInterrupt):
        demo.ensure_sample_store(store, FixedClock(NOW))
    # Then no store and no half file: the next demo builds it again
    assert list(tmp_path.iterdir()) == []


def test_the_sample_data_module_ships_in_the_package():
    module = demo.sample_data_module()
    assert callable(module.generate) and callable(module.feed_step)
    assert Path(module.__file__).parent == Path(demo.__file__).parent / "sample_data"


def test_the_packaged_sample_board_is_the_repositorys(tmp_path):
    repo = Path(__file__).resolve().parents[1]
    assert demo.DEMO_SPEC.read_text() == (repo / "dashboard.yaml").read_text()


def test_demo_in_an_empty_folder_opens_the_packaged_board_on_a_store_of_its_own(
    tmp_path, monkeypatch
):
    from kpitui.cli import main
    from kpitui.tui.app import KpituiApp

    # Given an empty folder (no dashboard.yaml, no sample_data/)
    monkeypatch.chdir(tmp_path)
    seen: list[KpituiApp] = []
    monkeypatch.setattr(KpituiApp, "run", lambda self, **kw: seen.append(self))
    monkeypatch.setattr("kpitui.cli.app_cmds.need_terminal", lambda: None)  # no tty here
    monkeypatch.setattr(demo, "sample_data_module", lambda: _small_sample())
    # When the demo starts
    assert main(["demo"]) == 0
    # Then it built ./kpitui-demo.db and opened the installed sample board on it
    (app,) = seen
    assert app.store_path == tmp_path / "kpitui-demo.db"
    assert (tmp_path / "kpitui-demo.db").is_file()
    assert sorted(p.name for p in tmp_path.iterdir() if not p.name.endswith(("-wal", "-shm"))) == [
        "kpitui-demo.db"
    ]


def _small_sample():
    """The real sample generator over 20 days instead of 400, for speed."""
    from kpitui.sample_data import generate as real

    def generate(path, end):
        return real.generate(path, end=end, days=20)

    return types.SimpleNamespace(generate=generate, feed_step=real.feed_step)


def test_demo_builds_the_store_runs_the_app_with_the_feed_and_stops_it(tmp_path, monkeypatch):
    from kpitui.cli import main
    from kpitui.tui.app import KpituiApp

    repo = Path(__file__).resolve().parents[1]
    monkeypatch.chdir(tmp_path)
    (tmp_path / "dashboard.yaml").write_text((repo / "dashboard.yaml").read_text())
    seen: list[KpituiApp] = []
    monkeypatch.setattr(KpituiApp, "run", lambda self, **kw: seen.append(self))
    monkeypatch.setattr("kpitui.cli.app_cmds.need_terminal", lambda: None)  # no tty here
    assert main(["demo", "--db", str(tmp_path / "demo.db")]) == 0
    (app,) = seen
    assert (tmp_path / "demo.db").is_file()
    assert app.store_path == tmp_path / "demo.db"
    assert isinstance(app.feed, demo.LiveFeed)
    assert app.feed._stop.is_set()  # stopped when the app returned


def test_demo_on_a_broken_spec_builds_no_store(tmp_path, monkeypatch, capsys):
    from kpitui.cli import main

    # Given a ./dashboard.yaml with a mistake
    monkeypatch.chdir(tmp_path)
    (tmp_path / "dashboard.yaml").write_text("kpis:\n  - {metric: mrr, agg: bogus}\n")
    # When the demo is started: the spec is refused before any store is built
    assert main(["demo"]) == 2
    assert "bogus" in capsys.readouterr().err
    assert not (tmp_path / "metrics.db").exists()


def test_the_sample_feed_step_is_loaded_on_the_feed_thread_not_at_start(tmp_path, monkeypatch):
    # Given a feed with the default (sample data) step, whose loading is recorded
    loaded_on: list[threading.Thread] = []
    written = threading.Event()

    def feed_step(writer, now, rng):
        written.set()

    def sample_data_module():
        loaded_on.append(threading.current_thread())
        return types.SimpleNamespace(feed_step=feed_step)

    monkeypatch.setattr(demo, "sample_data_module", sample_data_module)
    feed = demo.LiveFeed(tmp_path / "metrics.db", clock=FixedClock(NOW), interval=0.01)
    # When it starts (on the caller's thread, the app's UI thread)
    feed.start()
    assert written.wait(10)
    feed.stop()
    # Then the sample data was loaded once, on the feed's own thread, not the caller's
    assert len(loaded_on) == 1 and loaded_on[0] is not threading.current_thread()
