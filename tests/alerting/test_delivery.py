"""Delivery to real targets: a webhook server on loopback, commands that are real scripts
written by the test. Backoff is shortened to keep the suite fast."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from kpitui.alerting.delivery import CommandSender, Deliveries, WebhookSender
from kpitui.alerting.observe import Observation
from kpitui.alerting.payload import alert_json
from kpitui.spec.models import Duration, Target, Webhook
from kpitui.store.api import AlertEvent

EVENT = AlertEvent(
    ts=1_796_000_000, subject_kind="kpi", subject_id="mrr", title="MRR <b>&",
    from_state="warn", to_state="crit", value=9100.0, display="$9,100.00", id=7,
)  # fmt: skip
SEEN = Observation("MRR <b>&", "crit", 9100.0, "$9,100.00", 10000.0, "$10,000.00", "▼ -400 (-4.2%)")
PAYLOAD = alert_json(EVENT, SEEN, "Growth")


def deliver(sender, *, attempts=3, timeout=20.0):
    deliveries = Deliveries(attempts=attempts, backoff=0.05)
    try:
        started = time.monotonic()
        deliveries.submit(sender, EVENT.id, PAYLOAD)
        submitted = time.monotonic() - started
        assert deliveries.wait_idle(timeout)
        (outcome,) = deliveries.drain()
        return outcome, submitted
    finally:
        deliveries.close()


def test_a_webhook_gets_the_alert_as_one_json_object(hook):
    # Given a webhook target on a real local server
    outcome, _ = deliver(WebhookSender(Target(webhook=hook.url)))
    # Then it is delivered once, the body the alert object, with its content type
    assert outcome.ok and outcome.attempts == 1
    (body,) = hook.bodies()
    assert body == PAYLOAD
    assert body["kpi"] == "mrr" and body["from"] == "warn" and body["to"] == "crit"
    assert body["time"] == "2026-11-30T00:53:20Z" and body["target"] == 10000.0
    assert hook.requests[0]["headers"]["Content-Type"] == "application/json"


def test_a_slack_webhook_gets_a_message_with_value_target_change_and_reason(hook, monkeypatch):
    # Given `webhook: {url_env: HOOK_URL, format: slack}`
    monkeypatch.setenv("HOOK_URL", hook.url)
    outcome, _ = deliver(WebhookSender(Target(webhook=Webhook(url_env="HOOK_URL", format="slack"))))
    assert outcome.ok and outcome.target == "webhook: $HOOK_URL"
    (body,) = hook.bodies()
    # Then the text says it in a line, the title escaped as Slack needs it
    assert body["text"].startswith(
        "✖ *MRR &lt;b&gt;&amp;*: MRR &lt;b&gt;&amp; went from warn to crit"
    )
    fields = {f["title"]: f["value"] for f in body["attachments"][0]["fields"]}
    assert fields == {
        "Value": "$9,100.00",
        "Target": "$10,000.00",
        "Change": "▼ -400 (-4.2%)",
        "State": "warn → crit",
    }
    assert body["attachments"][0]["color"] == "#d40000"


def test_a_webhook_answering_500_is_retried_with_backoff_until_it_takes_it(hook):
    # Given a server that answers 500 twice, then 200
    hook.answers = [500, 500, 200]
    outcome, _ = deliver(WebhookSender(Target(webhook=hook.url)))
    # Then the third attempt delivers it
    assert (outcome.ok, outcome.attempts, len(hook.requests)) == (True, 3, 3)


def test_a_webhook_that_keeps_failing_is_reported_without_its_url(hook, monkeypatch):
    hook.answers = [503]
    monkeypatch.setenv("SECRET_HOOK", hook.url)
    outcome, _ = deliver(WebhookSender(Target(webhook=Webhook(url_env="SECRET_HOOK"))))
    assert (outcome.ok, outcome.attempts, outcome.error) == (False, 3, "HTTP 503: no")
    assert "127.0.0.1" not in outcome.target


def test_a_4xx_answer_is_not_retried(hook):
    hook.answers = [404]
    outcome, _ = deliver(WebhookSender(Target(webhook=hook.url)))
    assert (outcome.ok, outcome.attempts, len(hook.requests)) == (False, 1, 1)


def test_a_hanging_webhook_times_out_and_never_delays_the_caller(hook):
    # Given a server that holds every request 3 s, and a 1 s timeout
    hook.hang = 3.0
    target = Target(webhook=hook.url, timeout=Duration("1s"))
    outcome, submitted = deliver(WebhookSender(target), attempts=1)
    # Then submitting returned at once, and the delivery failed on its timeout
    assert submitted < 0.1
    assert (outcome.ok, outcome.error) == (False, "no answer within 1 s")


def test_an_unset_url_variable_is_said_by_its_name(monkeypatch):
    monkeypatch.delenv("NO_SUCH_HOOK", raising=False)
    outcome, _ = deliver(WebhookSender(Target(webhook=Webhook(url_env="NO_SUCH_HOOK"))), attempts=1)
    assert outcome.error == "the environment variable NO_SUCH_HOOK is not set"


def test_a_variable_holding_no_http_url_is_said_by_its_name_never_its_secret():
    # Given the Slack URL pasted without its scheme (or with a space, or as ftp)
    secret = "T0000/B0000/SeCrEtPaTh"
    for url in (
        f"hooks.slack.com/services/{secret}",
        f"https://hooks.slack .com/services/{secret}",
        f"ftp://hooks.slack.com/{secret}",
        f"http://[hooks/{secret}",
    ):
        hook = Target(webhook=Webhook(url_env="SLACK_URL", format="slack"))
        outcome, _ = deliver(WebhookSender(hook, {"SLACK_URL": url}))
        # Then it fails once, naming the variable, and the secret is nowhere in it
        assert (outcome.ok, outcome.attempts) == (False, 1)
        assert secret not in outcome.error and "slack" not in outcome.error
        assert outcome.error in (
            "the environment variable SLACK_URL does not hold an http(s) URL",
            "its URL is not a valid URL",
        )


def test_an_unreachable_webhook_is_a_failure_not_a_crash():
    # Given a port nobody listens on (the discard port on loopback)
    outcome, _ = deliver(WebhookSender(Target(webhook="http://127.0.0.1:9/x")), attempts=2)
    assert (outcome.ok, outcome.attempts) == (False, 2)
    assert outcome.error.startswith("cannot reach it")


def script(folder: Path, name: str, body: str) -> Path:
    path = folder / name
    path.write_text(f"#!{sys.executable}\n{body}", encoding="utf-8")
    path.chmod(0o755)
    return path


def test_a_command_gets_the_alert_on_stdin_and_as_variables_in_the_spec_folder(tmp_path):
    # Given hooks/page.py, run as `hooks/page.py --team growth` from the spec's folder
    (tmp_path / "hooks").mkdir()
    script(
        tmp_path / "hooks",
        "page.py",
        "import json, os, sys\n"
        "alert = json.load(sys.stdin)\n"
        "env = {k: v for k, v in os.environ.items() if k.startswith('KPITUI_')}\n"
        "json.dump({'alert': alert, 'env': env, 'argv': sys.argv[1:], 'cwd': os.getcwd()},"
        " open('got.json', 'w'))\n",
    )
    sender = CommandSender(Target(command="hooks/page.py --team 'growth team'"), tmp_path)
    outcome, _ = deliver(sender)
    assert outcome.ok
    got = json.loads((tmp_path / "got.json").read_text())
    # Then it read the alert, its words split like a shell's, in the spec's folder
    assert got["alert"] == PAYLOAD
    assert got["argv"] == ["--team", "growth team"]
    assert Path(got["cwd"]) == tmp_path
    env = got["env"]
    assert (env["KPITUI_SUBJECT"], env["KPITUI_KPI"], env["KPITUI_FROM"], env["KPITUI_TO"]) == (
        "kpi",
        "mrr",
        "warn",
        "crit",
    )
    assert (env["KPITUI_VALUE"], env["KPITUI_DISPLAY"], env["KPITUI_TARGET"]) == (
        "9100",
        "$9,100.00",
        "10000",
    )
    assert env["KPITUI_TIME"] == "2026-11-30T00:53:20Z" and env["KPITUI_REPEAT"] == "0"


def test_a_command_that_exits_1_is_retried_and_its_last_words_reported(tmp_path):
    count = tmp_path / "count"
    script(
        tmp_path,
        "fail.py",
        "import sys\n"
        f"open({str(count)!r}, 'a').write('x')\n"
        "print('first line', file=sys.stderr)\n"
        "print('pager service said no', file=sys.stderr)\n"
        "sys.exit(1)\n",
    )
    outcome, _ = deliver(CommandSender(Target(command="./fail.py"), tmp_path))
    assert (outcome.ok, outcome.attempts) == (False, 3)
    assert outcome.error == "exited with 1: pager service said no"
    assert count.read_text() == "xxx"


def test_a_command_writing_10_mb_is_reported_not_buffered(tmp_path):
    # Given a command that writes 10 MB to stdout and to stderr, then fails
    script(
        tmp_path,
        "loud.py",
        "import sys\n"
        "sys.stdout.write('y' * 10_000_000)\n"
        "sys.stderr.write('z' * 10_000_000)\n"
        "sys.exit(1)\n",
    )
    outcome, _ = deliver(CommandSender(Target(command="./loud.py"), tmp_path), attempts=1)
    # Then the failure is reported with a bounded quote of what it said
    assert not outcome.ok
    assert outcome.error.startswith("exited with 1: …zzz") and len(outcome.error) < 400


def test_a_command_past_its_timeout_is_killed(tmp_path):
    script(tmp_path, "slow.py", "import time\ntime.sleep(30)\n")
    target = Target(command="./slow.py", timeout=Duration("1s"))
    started = time.monotonic()
    outcome, _ = deliver(CommandSender(target, tmp_path), attempts=1)
    assert outcome.error == "no exit within 1 s (killed)"
    assert time.monotonic() - started < 5


def test_a_missing_program_fails_once_without_retrying(tmp_path):
    outcome, _ = deliver(CommandSender(Target(command="no-such-kpitui-pager"), tmp_path))
    assert (outcome.ok, outcome.attempts, outcome.error) == (
        False,
        1,
        "no program 'no-such-kpitui-pager'",
    )


def test_a_target_that_is_down_gets_one_attempt_per_alert_until_it_is_back(hook):
    # Given a webhook answering 500 to everything, and three alerts for it
    hook.answers = [500]
    deliveries = Deliveries(attempts=3, backoff=0.01)
    sender = WebhookSender(Target(webhook=hook.url))
    try:
        for event_id in (1, 2, 3):
            deliveries.submit(sender, event_id, PAYLOAD)
        assert deliveries.wait_idle(10)
        # Then the first is tried three times, the others once each
        assert [o.attempts for o in deliveries.drain()] == [3, 1, 1]
        # And once it answers again, the next alert gets its retries back
        hook.answers = [200]
        deliveries.submit(sender, 4, PAYLOAD)
        deliveries.submit(sender, 5, PAYLOAD)
        assert deliveries.wait_idle(10)
        assert [(o.ok, o.attempts) for o in deliveries.drain()] == [(True, 1), (True, 1)]
    finally:
        deliveries.close()
