"""A store shared between users: whoever only views it never locks its owner out.

The owner writes the store; another user with read permission opens the dashboard on it.
SQLite in WAL mode keeps two side files beside the store (-wal, -shm); a viewer that made
them would own them, and the owner could no longer write ("attempt to write a readonly
database") for as long as they stay. Run with two real uids (root only; see as_users).
"""

from __future__ import annotations

import subprocess

from tests.store.as_users import OWNER, VIEWER, run_as, shared_dir  # noqa: F401


def _ok(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_a_viewer_never_leaves_the_store_unwritable_for_its_owner(shared_dir):  # noqa: F811
    # Given a store its owner wrote (mode 644: others may read it) in a shared folder
    store = str(shared_dir / "team.db")
    _ok(run_as(OWNER, ["record", "signups", "1", "--db", store], shared_dir))
    # When another user views it
    assert "signups" in _ok(run_as(VIEWER, ["metrics", "--db", store], shared_dir))
    # Then the owner can still write it, and nothing beside it belongs to the viewer
    _ok(run_as(OWNER, ["record", "signups", "2", "--db", store], shared_dir))
    assert [p.name for p in shared_dir.iterdir() if p.stat().st_uid == VIEWER] == []


VIEWER_LOOP = """\
from kpitui.store import open_reader
reader = open_reader(sys.argv[1])
for line in sys.stdin:
    point = reader.last("signups", None, 2**40)
    print(point.value if point else None, flush=True)
"""


def test_a_viewer_that_stays_open_sees_the_owners_new_points(shared_dir):  # noqa: F811
    # Given a store and a viewer of another user holding it open (a dashboard all day)
    store = str(shared_dir / "team.db")
    _ok(run_as(OWNER, ["record", "signups", "1", "--db", store, "--at", "2026-01-01"], shared_dir))
    viewer = run_as(
        VIEWER,
        [store],
        shared_dir,
        code=VIEWER_LOOP,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        assert viewer.stdin and viewer.stdout
        viewer.stdin.write("read\n")
        viewer.stdin.flush()
        assert viewer.stdout.readline() == "1.0\n"
        # When the owner writes twice while it is open (the second into the viewer's files,
        # were they the viewer's)
        _ok(
            run_as(
                OWNER, ["record", "signups", "2", "--db", store, "--at", "2026-01-02"], shared_dir
            )
        )
        _ok(
            run_as(
                OWNER, ["record", "signups", "3", "--db", store, "--at", "2026-01-03"], shared_dir
            )
        )
        viewer.stdin.write("read\n")
        viewer.stdin.flush()
        # Then the viewer reads the newest point
        assert viewer.stdout.readline() == "3.0\n"
    finally:
        viewer.kill()
        viewer.wait()


OWNER_LOOP = """\
from kpitui.store import open_writer
with open_writer(sys.argv[1]) as writer:
    for n, line in enumerate(sys.stdin, 1):
        writer.write_points([("signups", {}, 1_790_000_000 + n, float(n))])
        print("wrote", n, flush=True)
"""


def test_a_viewer_reads_beside_a_writer_that_stays_open(shared_dir):  # noqa: F811
    # Given the owner's writer holding the store open (a live feed), and its side files
    store = str(shared_dir / "team.db")
    _ok(run_as(OWNER, ["record", "signups", "0", "--db", store, "--at", "2026-01-01"], shared_dir))
    pipes = {"stdin": subprocess.PIPE, "stdout": subprocess.PIPE, "stderr": subprocess.PIPE}
    owner = run_as(OWNER, [store], shared_dir, code=OWNER_LOOP, **pipes)
    try:
        assert owner.stdin and owner.stdout
        owner.stdin.write("1\n")
        owner.stdin.flush()
        assert owner.stdout.readline() == "wrote 1\n"
        # When another user views it meanwhile
        assert "signups" in _ok(run_as(VIEWER, ["metrics", "--db", store], shared_dir))
        # Then the writer goes on writing, and nothing there is the viewer's
        owner.stdin.write("2\n")
        owner.stdin.flush()
        assert owner.stdout.readline() == "wrote 2\n"
        assert [p.name for p in shared_dir.iterdir() if p.stat().st_uid == VIEWER] == []
    finally:
        owner.kill()
        owner.wait()
