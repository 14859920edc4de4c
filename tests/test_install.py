"""A clean install is a working install: the wheel holds what `kpitui demo` needs (the
sample generator, the sample board, the styles), builds without deprecation banners of
ours, and, installed in a fresh virtualenv, runs the demo in an empty folder.

The wheel is built offline with this venv's setuptools (no build isolation), and the
fresh venv borrows this venv's dependencies through a path file — what it does not
borrow is kpitui itself, which it must import from the wheel. `scripts/check-install`
does the same with a real `pip install .` from the index.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

from benchmarks.ptyrun import PtyApp

REPO = Path(__file__).resolve().parents[1]
PIP = (sys.executable, "-m", "pip")


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    # Built from a copy, so the build's egg-info and build/ stay out of the checkout.
    source = tmp_path_factory.mktemp("source")
    shutil.copytree(
        REPO / "kpitui", source / "kpitui", ignore=shutil.ignore_patterns("__pycache__")
    )
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO / name, source / name)
    out = tmp_path_factory.mktemp("wheel")
    built = subprocess.run(
        [
            *PIP,
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "--no-index",
            "-w",
            str(out),
            str(source),
        ],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert built.returncode == 0, built.stdout + built.stderr
    log = built.stdout + built.stderr
    assert "Deprecat" not in log and "BuildBackendWarning" not in log, log
    (found,) = out.glob("kpitui-*.whl")
    return found


def test_the_wheel_holds_the_sample_generator_board_and_styles(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    for needed in (
        "kpitui/sample_data/generate.py",
        "kpitui/sample_data/dashboard.yaml",
        "kpitui/tui/kpitui.tcss",
        "kpitui/cli/__init__.py",
    ):
        assert needed in names
    metadata = next(n for n in names if n.endswith(".dist-info/METADATA"))
    text = zipfile.ZipFile(wheel).read(metadata).decode()
    assert "License-Expression: MIT" in text


def test_demo_from_the_wheel_in_a_fresh_venv_runs_in_an_empty_folder(wheel, tmp_path):
    # Given a fresh virtualenv with the wheel installed (its dependencies borrowed)
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    installed = subprocess.run(
        [
            *PIP,
            "--python",
            str(python),
            "install",
            "--no-deps",
            "--no-index",
            "--quiet",
            str(wheel),
        ],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert installed.returncode == 0, installed.stderr
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    Path(site, "borrowed-dependencies.pth").write_text(sysconfig.get_path("purelib") + "\n")
    empty = tmp_path / "empty"
    empty.mkdir()
    where = subprocess.run(
        [str(python), "-c", "import kpitui; print(kpitui.__file__)"],
        capture_output=True,
        text=True,
        cwd=empty,
        check=True,
    ).stdout
    assert where.startswith(site), where  # kpitui from the wheel, not from this checkout
    # When `kpitui demo` runs in an empty folder, on a terminal
    app = PtyApp([str(venv / "bin" / "kpitui"), "demo"], width=100, height=30, cwd=empty)
    try:
        app.wait_for(b"live", timeout=60)
        app.wait_for(b"Acme Cloud", timeout=10)
        app.send("q")
        for _ in range(200):  # read on while it quits: a full pty would block it
            if app.proc.poll() is not None:
                break
            app.pump(0.1)
        code = app.proc.wait(1)
    finally:
        app.close()
    # Then the sample board was drawn on the sample store it built there, and q quit it
    assert code == 0
    assert (empty / "kpitui-demo.db").is_file()
