"""Delivering alerts to their targets, off the evaluating thread.

Each target (a command, a webhook) has its own worker thread and queue, so a webhook
that hangs delays neither the board's evaluation nor the other targets. An attempt has
the target's timeout; a failed attempt is retried with a doubling backoff (2 s, 4 s …)
up to `attempts` times, except when retrying cannot help (a 4xx answer, a program that
is not there). Every delivery ends as one `Outcome` the watcher collects with `drain`,
and records in the store: the workers never touch the store themselves.
"""

from __future__ import annotations

import http.client
import os
import queue
import signal
import subprocess
import tempfile
import threading
import urllib.error
import urllib.request
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol

from msgspec import Struct

from kpitui import __version__
from kpitui.alerting.payload import alert_env, slack_message
from kpitui.literal import json_text
from kpitui.spec.alert_rules import command_words, label, webhook_of
from kpitui.spec.models import Target
from kpitui.spec.validate_alerts import url_problem

ATTEMPTS = 3
BACKOFF = 2.0
"""Seconds before the first retry; each next one waits twice as long."""
_TAIL = 300
"""How much of a failing command's stderr (or a webhook's answer) a message quotes."""


class DeliveryError(Exception):
    """An attempt failed; `final`: retrying cannot help."""

    def __init__(self, message: str, *, final: bool = False) -> None:
        super().__init__(message)
        self.final = final


class Sender(Protocol):
    label: str

    def send(self, payload: dict[str, Any]) -> None:
        """Deliver once or raise DeliveryError."""


class Outcome(Struct, frozen=True):
    event_id: int
    target: str
    """The target's label (see `spec.alert_rules.label`): never a secret."""
    ok: bool
    attempts: int
    error: str | None = None


def _tail(data: bytes) -> str:
    text = data.decode("utf-8", "replace").strip()
    last = text.splitlines()[-1] if text else ""
    return last if len(last) <= _TAIL else f"…{last[-_TAIL:]}"


class CommandSender:
    """Runs the command without a shell, in `cwd`; the alert is JSON on stdin and
    `KPITUI_*` variables. Its stdout is discarded and its stderr kept on disk, so a
    command that writes 10 MB costs no memory; a command past its timeout is killed
    with everything it started."""

    def __init__(self, target: Target, cwd: Path) -> None:
        self.label = label(target)
        self.words = command_words(target)
        self.cwd = cwd
        self.timeout = target.timeout.seconds

    def send(self, payload: dict[str, Any]) -> None:
        body = json_text(payload, indent=None).encode()
        env = {**os.environ, **alert_env(payload)}
        with tempfile.TemporaryFile() as stderr:
            try:
                proc = subprocess.Popen(
                    self.words,
                    cwd=self.cwd,
                    env=env,
                    stdin=subprocess.PIPE,
                    stdout=subprocess.DEVNULL,
                    stderr=stderr,
                    start_new_session=True,
                )
            except FileNotFoundError:
                raise DeliveryError(f"no program {self.words[0]!r}", final=True) from None
            except PermissionError:
                raise DeliveryError(f"{self.words[0]!r} is not executable", final=True) from None
            except OSError as exc:
                raise DeliveryError(f"cannot run {self.words[0]!r}: {exc.strerror}") from None
            try:
                assert proc.stdin is not None
                proc.stdin.write(body)
                proc.stdin.close()
            except BrokenPipeError:  # it did not read the alert: its exit code says
                pass
            try:
                code = proc.wait(self.timeout)
            except subprocess.TimeoutExpired:
                _kill(proc)
                raise DeliveryError(f"no exit within {self.timeout} s (killed)") from None
            if code != 0:
                size = stderr.seek(0, os.SEEK_END)
                stderr.seek(max(0, size - 4 * _TAIL))
                said = _tail(stderr.read())
                raise DeliveryError(f"exited with {code}" + (f": {said}" if said else ""))


def _kill(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except OSError:
        proc.kill()
    proc.wait()


class WebhookSender:
    """POSTs the alert as JSON (or as a Slack message) to the URL, read from the
    environment at each delivery when the spec names a variable."""

    def __init__(self, target: Target, environ: Mapping[str, str] | None = None) -> None:
        hook = webhook_of(target)
        assert hook is not None
        self.label = label(target)
        self.hook = hook
        self.timeout = target.timeout.seconds
        self.environ = os.environ if environ is None else environ

    def url(self) -> str:
        if self.hook.url_env is None:
            return self.hook.url or ""
        url = self.environ.get(self.hook.url_env, "").strip()
        if not url:
            raise DeliveryError(
                f"the environment variable {self.hook.url_env} is not set", final=True
            )
        # `kpitui check` vets a URL in the spec; one from the environment is vetted here,
        # and said by its variable: urllib's own complaint would quote it, secret path
        # and all.
        if url_problem(url) is not None:
            raise DeliveryError(
                f"the environment variable {self.hook.url_env} does not hold an http(s) URL",
                final=True,
            )
        return url

    def send(self, payload: dict[str, Any]) -> None:
        message = slack_message(payload) if self.hook.format == "slack" else payload
        try:
            request = urllib.request.Request(
                self.url(),
                data=json_text(message, indent=None).encode(),
                headers={
                    "Content-Type": "application/json",
                    "User-Agent": f"kpitui/{__version__}",
                },
                method="POST",
            )
        except ValueError:
            raise DeliveryError("its URL is not a valid URL", final=True) from None
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as answer:
                answer.read(64 * 1024)
        except urllib.error.HTTPError as exc:
            said = _tail(exc.read(4 * _TAIL) or b"")
            # A 4xx says the request is wrong: the same request will not do better.
            final = 400 <= exc.code < 500 and exc.code not in (408, 425, 429)
            raise DeliveryError(
                f"HTTP {exc.code}" + (f": {said}" if said else ""), final=final
            ) from None
        except (ValueError, http.client.InvalidURL):  # their words quote the URL
            raise DeliveryError("its URL is not a valid URL", final=True) from None
        except (urllib.error.URLError, OSError) as exc:
            # Said in its own words: the URL (a secret) is never part of the message.
            why = getattr(exc, "reason", None) or exc
            if isinstance(why, TimeoutError) or "timed out" in str(why):
                raise DeliveryError(f"no answer within {self.timeout} s") from None
            raise DeliveryError(
                f"cannot reach it: {getattr(why, 'strerror', None) or why}"
            ) from None


def sender_for(target: Target, cwd: Path) -> Sender:
    if target.command is not None:
        return CommandSender(target, cwd)
    return WebhookSender(target)


class Deliveries:
    """A worker thread per target; `submit` never blocks, `drain` collects outcomes."""

    def __init__(
        self,
        *,
        attempts: int = ATTEMPTS,
        backoff: float = BACKOFF,
    ) -> None:
        self.attempts = attempts
        self.backoff = backoff
        self._outcomes: queue.Queue[Outcome] = queue.Queue()
        self._queues: dict[str, queue.Queue[tuple[int, dict[str, Any]] | None]] = {}
        self._senders: dict[str, Sender] = {}
        self._threads: list[threading.Thread] = []
        self._stop = threading.Event()
        self._idle = threading.Condition()
        self._pending = 0
        self._down: dict[str, bool] = {}

    def submit(self, sender: Sender, event_id: int, payload: dict[str, Any]) -> None:
        """Queue one delivery of `payload` (the alert of event `event_id`) to `sender`."""
        jobs = self._queues.get(sender.label)
        if jobs is None:
            jobs = self._queues[sender.label] = queue.Queue()
            self._senders[sender.label] = sender
            worker = threading.Thread(
                target=self._work, args=(sender.label,), name=f"kpitui-deliver-{len(self._queues)}",
                daemon=True,
            )  # fmt: skip
            self._threads.append(worker)
            worker.start()
        else:
            self._senders[sender.label] = sender  # a reloaded spec's (same label)
        with self._idle:
            self._pending += 1
        jobs.put((event_id, payload))

    def _work(self, name: str) -> None:
        jobs = self._queues[name]
        while not self._stop.is_set():
            job = jobs.get()
            if job is None:  # `close`
                return
            event_id, payload = job
            outcome = self._deliver(self._senders[name], event_id, payload)
            self._outcomes.put(outcome)
            with self._idle:
                self._pending -= 1
                self._idle.notify_all()

    def _deliver(self, sender: Sender, event_id: int, payload: dict[str, Any]) -> Outcome:
        outcome = self._attempt(sender, event_id, payload)
        self._down[sender.label] = not outcome.ok
        return outcome

    def _attempt(self, sender: Sender, event_id: int, payload: dict[str, Any]) -> Outcome:
        # A target that failed its last delivery gets one attempt per alert until one
        # goes through: ten alerts to a dead webhook cost ten timeouts, not thirty.
        attempts = 1 if self._down.get(sender.label) else self.attempts
        error = "stopped"
        for attempt in range(1, attempts + 1):
            try:
                sender.send(payload)
                return Outcome(event_id, sender.label, True, attempt)
            except DeliveryError as exc:
                error = str(exc)
                if exc.final or attempt == attempts:
                    return Outcome(event_id, sender.label, False, attempt, error)
            except Exception as exc:  # a bug in a sender must not kill its worker
                return Outcome(
                    event_id, sender.label, False, attempt, f"{type(exc).__name__}: {exc}"
                )
            if self._stop.wait(self.backoff * 2 ** (attempt - 1)):
                return Outcome(event_id, sender.label, False, attempt, f"{error} (stopped)")
        return Outcome(event_id, sender.label, False, attempts, error)

    def drain(self) -> list[Outcome]:
        """The outcomes finished since the last call, oldest first."""
        done: list[Outcome] = []
        while True:
            try:
                done.append(self._outcomes.get_nowait())
            except queue.Empty:
                return done

    @property
    def pending(self) -> int:
        """Deliveries submitted and not ended yet."""
        with self._idle:
            return self._pending

    def wait_idle(self, timeout: float) -> bool:
        """Wait until every submitted delivery has ended (True), at most `timeout` s."""
        with self._idle:
            return self._idle.wait_for(lambda: self._pending == 0, timeout)

    def close(self, timeout: float = 2.0) -> None:
        self._stop.set()
        for jobs in self._queues.values():
            jobs.put(None)
        for worker in self._threads:
            worker.join(timeout)
