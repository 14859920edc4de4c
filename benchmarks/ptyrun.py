"""Run kpitui in a pseudo-terminal and watch what it writes, for the app benchmarks."""

from __future__ import annotations

import os
import pty
import select
import signal
import struct
import subprocess
import sys
import termios
import time
from fcntl import ioctl
from pathlib import Path


class PtyApp:
    """A child process on a pty of a fixed size; collects every byte it writes."""

    def __init__(self, argv: list[str], *, width: int = 160, height: int = 48, env=None, cwd=None):
        self.master, slave = pty.openpty()
        ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", height, width, 0, 0))
        child_env = {
            **os.environ,
            "TERM": "xterm-256color",
            "COLUMNS": str(width),
            "LINES": str(height),
            **(env or {}),
        }
        child_env.pop("CI", None)
        self.started = time.perf_counter()
        self.proc = subprocess.Popen(
            argv,
            stdin=slave,
            stdout=slave,
            stderr=slave,
            env=child_env,
            start_new_session=True,
            close_fds=True,
            cwd=cwd,
        )
        os.close(slave)
        self.output = bytearray()

    def pump(self, seconds: float) -> int:
        """Read for `seconds`; return the number of bytes received."""
        received = 0
        deadline = time.perf_counter() + seconds
        while (left := deadline - time.perf_counter()) > 0:
            ready, _, _ = select.select([self.master], [], [], left)
            if ready:
                try:
                    chunk = os.read(self.master, 65536)
                except OSError:
                    break
                received += len(chunk)
                self.output += chunk
        return received

    def wait_for(self, needle: bytes, timeout: float = 20.0) -> float:
        """Seconds from process start until `needle` appeared in the output."""
        deadline = time.perf_counter() + timeout
        while needle not in self.output:
            if time.perf_counter() > deadline or self.proc.poll() is not None:
                tail = bytes(self.output[-2000:]).decode("utf-8", "replace")
                raise RuntimeError(f"{needle!r} never appeared; last output:\n{tail}")
            self.pump(0.01)
        return time.perf_counter() - self.started

    def send(self, keys: str) -> None:
        os.write(self.master, keys.encode())

    def cpu_seconds(self) -> float:
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def rss_mb(self) -> float:
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return float("nan")

    def close(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
        os.close(self.master)


def kpitui_argv(*args: str) -> list[str]:
    return [sys.executable, "-m", "kpitui", *args]
