"""`kpitui serve` in a real browser: Debian's Chromium, headless, every request that
leaves loopback blocked. The terminal's text is read from the page (xterm.js's buffer,
see xterm_hook.js), the processes from /proc."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from tests.serve.served import SHOWN, wait_until

SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "images" / "serve-board.png"
SAMPLE_AS_OF = 1_795_521_600  # 2026-11-24T12:00:00Z


def rows_holding(lines: list[str], *texts: str) -> list[int]:
    """The row of each text, in order (the first row holding it)."""
    return [next(i for i, line in enumerate(lines) if text in line) for text in texts]


def test_the_board_draws_its_titles_and_values_with_no_internet(serve, board, tab):
    # Given a served board and a browser that may reach loopback only
    served = serve(str(board))
    wide = tab()
    # When the page is opened
    response = wide.open(served.url)
    # Then every KPI's title and value is on the terminal, a grid's row holding all four
    text = wide.wait_for(*SHOWN, *SHOWN.values())
    assert response.status == 200
    assert "Serve <test> board" in text
    lines = wide.screen()
    assert len(set(rows_holding(lines, *SHOWN))) == 1, text
    assert wide.page.title() == "Serve <test> board"
    # And nothing was fetched from outside, though the blocker works
    assert wide.blocked == []
    outside = wide.page.evaluate(
        "() => fetch('https://fonts.googleapis.com/css?family=Roboto%20Mono').then(() => 'got', () => 'refused')"
    )
    assert outside == "refused"
    assert wide.blocked == ["https://fonts.googleapis.com/css?family=Roboto%20Mono"]
    assert wide.errors == []
    # And the served font is the page's own
    assert wide.page.evaluate("() => document.fonts.check('16px \"Roboto Mono\"')")


def test_enter_opens_the_kpi_detail_and_escape_returns(serve, board, tab):
    # Given the board in a tab, focus on the first card
    served = serve(str(board))
    wide = tab()
    wide.open(served.url)
    wide.wait_for(*SHOWN.values())
    # When Enter is pressed
    wide.press("Enter")
    # Then the first KPI's detail replaces the board (its range keys, no other card)
    detail = wide.wait_for("Active users", "7d", gone=("Signups this week",))
    assert "Revenue" not in detail
    # When Escape is pressed, the board is back
    wide.press("Escape")
    wide.wait_for(*SHOWN, *SHOWN.values())


def test_clicks_focus_a_card_and_press_a_footer_key(serve, board, tab):
    # Given the board in a tab
    served = serve(str(board))
    wide = tab()
    wide.open(served.url)
    wide.wait_for(*SHOWN.values())
    # When the Revenue card is clicked, then Enter pressed
    wide.click_text("$9,876.50")
    wide.press("Enter")
    # Then the detail is Revenue's
    wide.wait_for("Revenue", gone=("Active users", "Signups this week"))
    # When Escape returns to the board and the footer's "? Keys" is clicked
    wide.press("Escape")
    wide.wait_for(*SHOWN)
    wide.click_text("Keys")
    # Then the help screen lists the keys
    wide.wait_for("Everywhere", "Focus the next / previous panel")


def test_a_recorded_point_shows_within_one_refresh(serve, board, tab):
    # Given the board (refresh: 1s) on screen
    served = serve(str(board))
    wide = tab()
    wide.open(served.url)
    wide.wait_for("1,234")
    # When another program records a new value
    subprocess.run(
        [sys.executable, "-m", "kpitui", "record", "active_users", "98765"],
        cwd=board.parent,
        check=True,
        capture_output=True,
    )
    recorded = time.monotonic()
    # Then the browser shows it within one refresh (plus the time to draw it)
    wide.wait_for("98,765", gone=("1,234",), timeout=1 + 2)
    assert time.monotonic() - recorded < 3


def test_a_phone_gets_one_column_of_readable_cards(serve, board, tab):
    # Given a phone-sized viewport (390x844)
    served = serve(str(board))
    phone = tab(viewport={"width": 390, "height": 844}, phone=True)
    # When the board is opened
    phone.open(served.url)
    phone.wait_for(*SHOWN.values())
    # Then it gets a terminal about 40 columns wide, at the page's 16px font
    cols, rows = phone.size()
    assert 36 <= cols <= 44 and rows >= 36, (cols, rows)
    # And the cards sit one above the other, each title and value whole on its own row
    lines = phone.screen()
    title_rows = rows_holding(lines, *SHOWN)
    assert title_rows == sorted(title_rows) and len(set(title_rows)) == 4, phone.text()
    value_rows = rows_holding(lines, *SHOWN.values())
    assert all(v > t for v, t in zip(value_rows, title_rows, strict=True))


def test_a_wrong_token_gets_401_and_starts_no_board(serve, board, tab):
    # Given a board served with a token
    token = "correct-horse-battery-staple"
    served = serve(str(board), "--token", token)
    assert served.url == f"{served.base}?token={token}"
    stranger = tab()
    # When a tab comes with a wrong token, or none
    for url in (served.base + "?token=wrong-horse-battery-staple", served.base):
        response = stranger.open(url)
        # Then it gets 401 and a page saying why, and no board is started
        assert response.status == 401
        assert "token" in stranger.page.inner_text("body")
    assert (
        stranger.page.evaluate(
            "(url) => new Promise((done) => { const ws = new WebSocket(url);"
            " ws.onopen = () => done('open'); ws.onerror = () => done('refused'); })",
            served.base.replace("http", "ws") + "ws",
        )
        == "refused"
    )
    assert served.boards() == []
    # When a tab opens the printed URL, it gets the board, and the token leaves the URL
    friend = tab()
    response = friend.open(served.url)
    friend.wait_for(*SHOWN.values())
    assert response.status == 200
    assert friend.page.url == served.base
    # And a reload keeps its session going by the cookie alone
    friend.page.reload()
    friend.wait_for(*SHOWN.values())


def test_closing_the_tab_ends_its_board(serve, board, tab):
    # Given two tabs on the board, each with its board process
    served = serve(str(board))
    first, second = tab(), tab()
    for each in (first, second):
        each.open(served.url)
        each.wait_for(*SHOWN.values())
    both = served.boards()
    assert len(both) == 2
    # When one tab is closed
    first.close()
    # Then its board ends, and the other's goes on
    left = wait_until(lambda: len(served.boards()) == 1 and served.boards(), 15, "one board")
    assert set(left) < set(both)
    second.wait_for(*SHOWN.values())


def test_max_sessions_holds_and_frees(serve, board, tab):
    # Given a board served to one session at most, open in a tab
    served = serve(str(board), "--max-sessions", "1")
    first = tab()
    first.open(served.url)
    first.wait_for(*SHOWN.values())
    # When that tab reloads, it gets the board again: its own session is not in the way
    for _ in range(2):
        assert first.page.reload().status == 200
        first.wait_for(*SHOWN.values())
    # When a second tab opens it
    second = tab()
    second.open(served.url)
    # Then it says the board is full, and no second board starts
    second.page.locator(".full").wait_for(state="visible")
    said = second.page.inner_text("body")
    assert "Board full" in said and "The one session this board allows is in use." in said
    assert "session has ended" not in said
    assert len(served.boards()) == 1
    # When the first tab is closed, the second gets the board
    first.close()
    wait_until(lambda: served.boards() == [], 15, "the first board to end")
    second.open(served.url)
    second.wait_for(*SHOWN.values())


def test_ctrl_c_stops_the_server_and_every_board(serve, board, tab):
    # Given two sessions
    served = serve(str(board))
    for each in (tab(), tab()):
        each.open(served.url)
        each.wait_for(*SHOWN.values())
    boards = served.boards()
    assert len(boards) == 2
    # When the server gets Ctrl+C
    code = served.stop()
    # Then it exits 0 and both boards are gone
    assert code == 0
    for pid in boards:
        assert not Path(f"/proc/{pid}").exists()
    assert "Traceback" not in served.stderr()


def test_screenshot_of_the_sample_board(serve, tab, tmp_path):
    """Takes the README's picture: the sample dashboard at a fixed moment, 1280x800.
    KPITUI_UPDATE_SCREENSHOT=1 writes it to docs/images/."""
    from kpitui.demo import ensure_sample_store
    from kpitui.timeutil import FixedClock

    repo = SCREENSHOT.parents[2]
    store = tmp_path / "sample.db"
    ensure_sample_store(store, FixedClock(SAMPLE_AS_OF))
    served = serve(str(repo / "dashboard.yaml"), "--db", str(store), "--as-of", str(SAMPLE_AS_OF))
    wide = tab(viewport={"width": 1280, "height": 800})
    wide.open(served.url)
    wide.wait_for("Monthly recurring revenue", "MRR by plan", "Alerts")
    shot = tmp_path / "serve-board.png"
    wide.page.screenshot(path=str(shot))
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert shot.stat().st_size > 20_000  # a board, not a blank page
    if os.environ.get("KPITUI_UPDATE_SCREENSHOT") == "1":
        SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(shot, SCREENSHOT)
