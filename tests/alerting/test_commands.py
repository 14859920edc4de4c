"""`kpitui watch --once` and `kpitui digest` as a user runs them: a spec and a store in a
folder, a real webhook server, a real hook script."""

from __future__ import annotations

import json
import sys
import textwrap
import time

import pytest

from kpitui.cli import main
from kpitui.store import open_reader, open_writer

DAY = 86400
AS_OF = 1_796_000_400  # 2026-11-30T01:00:00Z

SPEC = """\
title: Growth <b>
store: metrics.db
timezone: UTC
period: {start: 2026-10-01, end: 2026-12-31}
checkin_every: 7d
alerts:
  notify:
    - command: "hooks/page.py --team growth"
    - webhook: {url_env: GROWTH_HOOK, format: slack}
kpis:
  - metric: mrr
    indicator: leading
    format: currency
    currency: USD
    target: 100
    warn: 80
    crit: 50
  - metric: signups
    agg: sum
    window: 7d
    target: 10
  - {metric: active, target: 100, warn: 50}
okrs:
  - title: Grow
    owner: Maya
    key_results:
      - {title: MRR to 200, metric: mrr, start: 0, target: 200}
      - {title: Customer calls, owner: Priya, start: 0, target: 20}
"""


@pytest.fixture
def folder(tmp_path, hook, monkeypatch):
    (tmp_path / "dashboard.yaml").write_text(SPEC, encoding="utf-8")
    (tmp_path / "hooks").mkdir()
    page = tmp_path / "hooks" / "page.py"
    page.write_text(
        f"#!{sys.executable}\nimport json, sys\n"
        "open('paged.jsonl', 'a').write(json.dumps(json.load(sys.stdin)) + '\\n')\n",
        encoding="utf-8",
    )
    page.chmod(0o755)
    monkeypatch.setenv("GROWTH_HOOK", hook.url)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def points(folder, rows):
    with open_writer(folder / "metrics.db") as writer:
        writer.write_points(rows)


def run(capsys, *args):
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_watch_once_tells_each_target_once_across_runs(folder, hook, capsys):
    # Given MRR at 40 (crit) now
    now = int(time.time())
    points(folder, [("mrr", {}, now - 60, 40.0), ("signups", {}, now - 60, 20.0)])
    # When cron runs `kpitui watch --once` twice
    code, out, err = run(capsys, "watch", "--once")
    assert code == 0, err
    assert run(capsys, "watch", "--once")[0] == 0
    # Then the command and the webhook got MRR's crit once each
    paged = [json.loads(line) for line in (folder / "paged.jsonl").read_text().splitlines()]
    mrr = [p for p in paged if p.get("kpi") == "mrr"]
    assert [(p["from"], p["to"], p["display"]) for p in mrr] == [(None, "crit", "$40.00")]
    slack = [b for b in hook.bodies() if b["text"].startswith("✖ *mrr*")]
    assert len(slack) == 1 and "crit" in slack[0]["text"]
    assert "kpi mrr: at start → crit ($40.00), to 2 targets" in out
    # And the history in the store says it was delivered to both
    reader = open_reader(folder / "metrics.db")
    try:
        (event,) = [e for e in reader.alert_events() if e.subject_id == "mrr"]
    finally:
        reader.close()
    assert sorted(event.delivered) == [
        "command: hooks/page.py --team growth",
        "webhook: $GROWTH_HOOK",
    ]


def test_watch_once_exits_1_when_a_target_cannot_be_reached(folder, hook, capsys, monkeypatch):
    hook.answers = [404]
    points(folder, [("mrr", {}, int(time.time()) - 60, 40.0)])
    code, _, err = run(capsys, "watch", "--once")
    assert code == 1
    line = [e for e in err.splitlines() if "HTTP 404" in e]
    assert line == [
        "kpitui watch: webhook: $GROWTH_HOOK: HTTP 404: no (1 attempt; alert 1 not delivered "
        "there, nor any other until it is back)"
    ]
    assert hook.url not in err


def test_five_boards_and_one_watcher_send_one_webhook(folder, hook, capsys):
    # Given MRR crit, five people taking snapshots of the board, and one watcher
    points(folder, [("mrr", {}, int(time.time()) - 60, 40.0)])
    for _ in range(5):
        assert run(capsys, "snapshot", "--format", "json")[0] == 0
    assert run(capsys, "watch", "--once")[0] == 0
    # Then MRR's alert went out once
    assert sum(b["text"].startswith("✖ *mrr*") for b in hook.bodies()) == 1


def test_watch_on_a_missing_store_says_where_it_was_named(folder, capsys):
    code, _, err = run(capsys, "watch", "--once")
    assert code == 2
    assert err == (
        "kpitui: dashboard.yaml:2:8: store: store not found: metrics.db (run `kpitui import` "
        "or `kpitui demo` first, or pass --db PATH)\n"
    )


def digest_store(folder):
    rows = []
    for day in range(30):
        ts = AS_OF - (29 - day) * DAY
        rows.append(("mrr", {}, ts, 120.0 - day * 2))  # 62 at as-of, from 76 a week ago
        rows.append(("signups", {}, ts, 3.0))  # 21 a week, on target
        rows.append(("active", {}, ts, 90.0))  # ok, and below target
    points(folder, rows)
    with open_writer(folder / "metrics.db") as writer:
        writer.write_checkin("customer-calls", AS_OF - 20 * DAY, 4.0)
        from kpitui.store.api import AlertEvent

        writer.write_alert_events(
            [
                AlertEvent(AS_OF - 3 * DAY, "kpi", "mrr", "mrr", "ok", "warn", 78.0, "$78.00"),
                AlertEvent(AS_OF - 20 * DAY, "kpi", "mrr", "mrr", None, "ok", 110.0, "$110.00"),
            ]
        )


def test_digest_text_is_the_review_in_one_page(folder, capsys):
    digest_store(folder)
    code, out, err = run(capsys, "digest", "--as-of", "2026-11-30T01:00:00Z")
    assert code == 0, err
    assert out == textwrap.dedent(
        """\
        Growth <b>: the last 7d
        2026-11-23 01:00 to 2026-11-30 01:00 · period 2026-Q4, 65% elapsed

        Off target (2)
          ▲  mrr     $62.00  target $100.00  ▼ -$14.00 (-18.4%)  worse  warn
          ✔  active  90      target 100      = 0                 flat   below target

        State changes (1)
          11-27 01:00  ▲  mrr  ok → warn  $78.00

        Key results behind (2)
          ✖  Customer calls  Priya  off_track  20% done, 65% expected  45 pts behind
          ✖  MRR to 200      Maya   off_track  31% done, 65% expected  34 pts behind
             on pace for -$2.73 / $200.00 · -1% ✖ missed

        Check-ins due (1)
          Customer calls  Priya  last check-in 20d ago

        Biggest movers (1)
          mrr  ▼ -$14.00 (-18.4%)  worse
        """
    )


def test_digest_text_fits_a_plain_mails_78_columns(folder, capsys):
    digest_store(folder)
    _, out, _ = run(capsys, "digest", "--as-of", "2026-11-30T01:00:00Z")
    assert max(len(line) for line in out.splitlines()) <= 78


def test_digest_markdown_and_html_escape_what_the_spec_says(folder, capsys, tmp_path):
    digest_store(folder)
    code, out, _ = run(capsys, "digest", "--as-of", "2026-11-30T01:00:00Z", "--format", "markdown")
    assert code == 0
    assert out.startswith("## Growth \\<b\\>: the last 7d\n")
    assert "- ▲ **mrr** $62.00 (target $100.00), ▼ -$14.00 (-18.4%) worse: warn" in out
    # And a key result behind says where it is heading (MRR falls $2 a day)
    assert "34 pts behind; on pace for -$2.73 / $200.00 · -1% ✖ missed" in out
    target = tmp_path / "digest.html"
    code, out, _ = run(
        capsys, "digest", "--as-of", "2026-11-30T01:00:00Z", "--format", "html", "-o", str(target)
    )
    assert (code, out) == (0, "")
    page = target.read_text(encoding="utf-8")
    assert "<title>Growth &lt;b&gt;</title>" in page and "<b>Customer calls</b>" in page
    assert "<style" not in page and 'style="' in page


def test_digest_since_widens_the_span(folder, capsys):
    digest_store(folder)
    _, out, _ = run(capsys, "digest", "--as-of", "2026-11-30T01:00:00Z", "--since", "30d")
    assert "the last 30d\n2026-10-31 01:00 to 2026-11-30 01:00 · " in out
    assert "ok → warn" in out and "at start → ok" in out


def test_digest_without_history_says_how_to_keep_one(folder, capsys):
    points(folder, [("mrr", {}, AS_OF - 60, 120.0)])
    _, out, _ = run(capsys, "digest", "--as-of", "2026-11-30T01:00:00Z")
    assert "No alert history in the store: run `kpitui watch` to keep one." in out


def test_digest_bad_since_is_one_line(folder, capsys):
    points(folder, [("mrr", {}, AS_OF - 60, 120.0)])
    with pytest.raises(SystemExit) as exited:
        main(["digest", "--since", "soon"])
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "'soon' is not a duration" in err


def test_watch_keeps_running_tells_new_changes_and_stops_on_sigterm(folder, hook):
    # Given a running watcher (refresh 1s) and MRR ok
    import os
    import signal
    import subprocess

    spec = folder / "dashboard.yaml"
    spec.write_text(SPEC.replace("store: metrics.db", "store: metrics.db\nrefresh: 1s"))
    points(folder, [("mrr", {}, int(time.time()) - 60, 120.0)])
    proc = subprocess.Popen(
        [sys.executable, "-m", "kpitui", "watch"],
        cwd=folder,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )
    try:
        # Once its first tick is done (customer calls, never checked in, told at start)
        assert proc.stdout is not None
        first = proc.stdout.readline()
        assert "kr customer-calls: at start → off_track" in first
        # When MRR drops to 40
        points(folder, [("mrr", {}, int(time.time()), 40.0)])
        # Then the webhook hears of it while the watcher runs
        # (customer calls, then MRR and its key result)
        assert hook.wait_for(3, timeout=20)
        texts = [b["text"] for b in hook.bodies()]
        assert any(t.startswith("✖ *mrr*: mrr went from ok to crit") for t in texts), texts
    finally:
        proc.send_signal(signal.SIGTERM)
        rest, err = proc.communicate(timeout=20)
    out = first + rest
    # And SIGTERM stops it cleanly
    assert proc.returncode == 0, err
    assert "kpi mrr: ok → crit ($40.00), to 2 targets" in out
    assert err.splitlines()[-1] == "kpitui watch: stopped"


def test_check_warns_about_a_target_the_history_says_missed_its_alerts(folder, hook, capsys):
    # Given a webhook that refused the watcher's alerts an hour ago
    hook.answers = [404]
    points(folder, [("mrr", {}, int(time.time()) - 7200, 40.0)])
    assert run(capsys, "watch", "--once")[0] == 1
    with open_writer(folder / "metrics.db") as writer:  # as if written an hour ago
        reader = open_reader(folder / "metrics.db")
        from msgspec.structs import replace

        old = [replace(e, ts=e.ts - 3600, id=0) for e in reader.alert_events()]
        reader.close()
        writer.write_alert_events(old)
    # When the spec is checked / Then the webhook's line says it, the command's does not
    code, _, err = run(capsys, "check")
    assert code == 0
    missed = [line for line in err.splitlines() if "did not reach" in line]
    assert len(missed) == 1
    assert missed[0].startswith("dashboard.yaml:9:7: warning: alerts.notify[1]: the last 3 ")
    assert "alerts did not reach webhook: $GROWTH_HOOK (newest " in missed[0]


def test_check_warns_of_a_url_variable_holding_no_url_without_printing_it(
    folder, capsys, monkeypatch
):
    # Given the team's Slack URL pasted into the variable without its scheme
    monkeypatch.setenv("GROWTH_HOOK", "hooks.slack.com/services/T0/B0/SeCrEt")
    points(folder, [("mrr", {}, int(time.time()) - 60, 90.0)])
    # When the spec is checked
    code, out, err = run(capsys, "check")
    # Then the variable's line warns, by its name, and the secret is printed nowhere
    assert code == 0
    assert (
        "dashboard.yaml:9:26: warning: alerts.notify[1].webhook.url_env: the environment "
        "variable GROWTH_HOOK does not hold an http(s) URL here"
    ) in err
    assert "SeCrEt" not in out + err and "hooks.slack" not in out + err
