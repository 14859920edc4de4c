"""Debian's Chromium, headless, through Playwright (never `playwright install`: it
downloads a browser of its own, which cannot work here), and a tab that reads the
served board's terminal."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit

from tests.serve.served import CHROMIUM, HOOK, SERVE_TIMEOUT

CHROMIUM_ARGS = [
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
"""Playwright gives each launch a fresh --user-data-dir of its own (it refuses one
passed here)."""
if os.geteuid() == 0:
    CHROMIUM_ARGS.append("--no-sandbox")  # Chromium's sandbox will not run as root

LOOPBACK = re.compile(r"^(localhost|127\.\d+\.\d+\.\d+|\[?::1\]?)$")
WIDE = {"width": 1600, "height": 900}
PHONE = {"width": 390, "height": 844}


@contextmanager
def launched() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        try:
            yield browser
        finally:
            browser.close()


class Tab:
    """One browser tab (in a context of its own: its own cookies) on a served board.

    Every request that leaves loopback is aborted and kept in `blocked`: the board
    must draw without them.
    """

    def __init__(self, browser: Any, *, viewport: dict[str, int] = WIDE, phone: bool = False):
        options: dict[str, Any] = {"viewport": viewport}
        if phone:
            # A phone's layout (the page's meta viewport honoured, touch), at one device
            # pixel per CSS pixel: Chromium's emulated device scale leaves xterm.js's
            # canvas at CSS size and draws it magnified (a real 3x screen draws right:
            # Chromium run with --force-device-scale-factor=3 does).
            options.update(is_mobile=True, has_touch=True, device_scale_factor=1)
        self.context = browser.new_context(**options)
        self.context.set_default_timeout(SERVE_TIMEOUT * 1000)
        self.blocked: list[str] = []
        self.context.route("**/*", self._only_loopback)
        self.context.add_init_script(path=str(HOOK))
        self.page = self.context.new_page()
        self.errors: list[str] = []
        """Script errors on the page, and the loopback requests that failed."""
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))
        self.page.on("requestfailed", self._failed)
        self.page.on("response", self._answered)

    def _failed(self, request: Any) -> None:
        if request.url not in self.blocked:
            self.errors.append(f"{request.url}: {request.failure}")

    def _answered(self, response: Any) -> None:
        if response.status >= 400:
            self.errors.append(f"{response.url}: {response.status}")

    def _only_loopback(self, route: Any) -> None:
        host = urlsplit(route.request.url).hostname or ""
        if LOOPBACK.match(host):
            route.continue_()
        else:
            self.blocked.append(route.request.url)
            route.abort()

    def open(self, url: str) -> Any:
        """Go to `url`; the response of the page (after any redirect)."""
        return self.page.goto(url)

    def screen(self) -> list[str]:
        """The terminal's lines as xterm.js holds them (empty before it exists)."""
        shown = self.page.evaluate("() => window.__kpituiScreen && window.__kpituiScreen()")
        return shown["lines"] if shown else []

    def size(self) -> tuple[int, int]:
        shown = self.page.evaluate("() => window.__kpituiScreen()")
        return shown["cols"], shown["rows"]

    def text(self) -> str:
        return "\n".join(self.screen())

    def wait_for(
        self, *texts: str, gone: tuple[str, ...] = (), timeout: float = SERVE_TIMEOUT
    ) -> str:
        """Wait until the terminal shows every one of `texts` and none of `gone`."""
        self.page.wait_for_function(
            """([texts, gone]) => {
                const shown = window.__kpituiScreen && window.__kpituiScreen();
                if (!shown) return false;
                const all = shown.lines.join("\\n");
                return texts.every((t) => all.includes(t)) && !gone.some((t) => all.includes(t));
            }""",
            arg=[list(texts), list(gone)],
            timeout=timeout * 1000,
        )
        return self.text()

    def press(self, key: str) -> None:
        self.page.keyboard.press(key)

    def click_text(self, text: str) -> None:
        """Click the middle of the first place the terminal shows `text`."""
        lines = self.screen()
        row = next(i for i, line in enumerate(lines) if text in line)
        col = lines[row].index(text) + len(text) // 2
        cols, rows = self.size()
        box = self.page.locator(".xterm-screen").bounding_box()
        x = box["x"] + (col + 0.5) * box["width"] / cols
        y = box["y"] + (row + 0.5) * box["height"] / rows
        self.page.mouse.click(x, y)

    def close(self) -> None:
        self.context.close()
