"""A real HTTP server on loopback that records what webhooks post, and answers as told
(the `hook` fixture: tests/alerting and tests/tui import it into their conftest)."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest


class Hook:
    """What the server was sent, and how it answers: `answers` is a list of status codes
    used in turn (the last one repeats); `hang` seconds of silence before answering."""

    def __init__(self) -> None:
        self.requests: list[dict] = []
        self.answers = [200]
        self.hang = 0.0
        self.lock = threading.Lock()
        self.got = threading.Condition(self.lock)
        self.url = ""

    def bodies(self) -> list[object]:
        with self.lock:
            return [json.loads(r["body"]) for r in self.requests]

    def wait_for(self, count: int, timeout: float = 10.0) -> bool:
        with self.got:
            return self.got.wait_for(lambda: len(self.requests) >= count, timeout)


@pytest.fixture
def hook():
    state = Hook()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            size = int(self.headers.get("Content-Length", 0))
            body = self.rfile.read(size)
            with state.got:
                state.requests.append(
                    {"path": self.path, "headers": dict(self.headers), "body": body}
                )
                n = len(state.requests)
                code = state.answers[min(n, len(state.answers)) - 1]
                state.got.notify_all()
            if state.hang:
                time.sleep(state.hang)
            try:
                self.send_response(code)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok" if code < 400 else b"no")
            except OSError:  # the client gave up (a timeout test)
                pass

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    yield state
    server.shutdown()
    server.server_close()
