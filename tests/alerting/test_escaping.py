"""Alerts leave kpitui escaped as every JSON output is (`literal.json_text`): a KPI title
holding escape sequences or bidi overrides reaches a webhook or a command's stdin as
`\\uXXXX`, never raw, so a pager script that echoes it cannot drive a terminal."""

from __future__ import annotations

import json

from kpitui.alerting.delivery import CommandSender, Deliveries, WebhookSender
from kpitui.alerting.observe import Observation
from kpitui.alerting.payload import alert_json
from kpitui.literal import UNSAFE
from kpitui.spec.models import Target
from kpitui.store.api import AlertEvent
from tests.alerting.test_delivery import script

TITLE = "MRR \x1b[2J\x9b31m\u202eevil\u2028"
EVENT = AlertEvent(
    ts=1_796_000_000, subject_kind="kpi", subject_id="mrr", title=TITLE,
    from_state="warn", to_state="crit", value=9100.0, display="$9,100.00", id=7,
)  # fmt: skip
PAYLOAD = alert_json(EVENT, Observation(TITLE, "crit", 9100.0, "$9,100.00"), "Growth")


def deliver(sender):
    deliveries = Deliveries(attempts=1, backoff=0.05)
    try:
        deliveries.submit(sender, EVENT.id, PAYLOAD)
        assert deliveries.wait_idle(20)
        (outcome,) = deliveries.drain()
        return outcome
    finally:
        deliveries.close()


def _raw_unsafe(body: bytes) -> list[str]:
    return [c for c in UNSAFE.findall(body.decode("utf-8")) if c != "\n"]


def test_a_webhook_body_escapes_control_and_bidi_characters(hook):
    # Given an alert whose KPI title holds escape sequences and a bidi override
    outcome = deliver(WebhookSender(Target(webhook=hook.url)))
    # Then the body has none of them raw, and reads back as the title
    assert outcome.ok
    body = hook.requests[0]["body"]
    assert _raw_unsafe(body) == []
    assert json.loads(body)["title"] == TITLE


def test_a_commands_stdin_escapes_control_and_bidi_characters(tmp_path):
    # Given a command that keeps the bytes it gets on stdin
    script(tmp_path, "keep.py", "import sys\nopen('got', 'wb').write(sys.stdin.buffer.read())\n")
    outcome = deliver(CommandSender(Target(command="./keep.py"), tmp_path))
    # Then they hold nothing unsafe raw, and decode to the alert
    assert outcome.ok
    body = (tmp_path / "got").read_bytes()
    assert _raw_unsafe(body) == []
    assert json.loads(body)["title"] == TITLE


def test_a_key_result_one_point_behind_reads_1_pt_in_every_digest_format():
    from kpitui.alerting.digest import Digest, KrLine
    from kpitui.alerting.digest_render import render

    # Given a digest with a key result at 59% done, 60% expected
    kr = KrLine(
        id="kr",
        title="Ship it",
        owner="ana",
        status="at_risk",
        progress="59%",
        expected="60%",
        gap_points=1,
        gap_display="1 pt behind",
    )
    digest = Digest(
        title="Board",
        as_of="2026-11-24 12:00",
        since="2026-11-17 12:00",
        span="7d",
        period="2026-Q4",
        expected="60%",
        off_target=(),
        changes=(),
        history_kept=True,
        key_results=(kr,),
        checkins_due=(),
        movers=(),
    )
    # Then text, markdown and HTML all say "1 pt behind", never "1 pts"
    for fmt in ("text", "markdown", "html"):
        out = render(digest, fmt)
        assert "1 pt behind" in out and "pts behind" not in out, fmt
