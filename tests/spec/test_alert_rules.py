"""Alert rules in the spec: `alerts:` for the board, `alert:` on a KPI or key result,
resolved field by field; every bad rule or target reported at its line."""

from __future__ import annotations

import os

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kpitui.errors import KpituiError, SpecErrors
from kpitui.spec import validate_data
from kpitui.spec.alert_rules import label, resolve, subject_rules
from kpitui.spec.loader import parse_yaml
from kpitui.spec.models import AlertRule, Hold, Target, Webhook

RULES = """\
alerts:
  bell: true
  for: 10m
  repeat: 4h
  notify:
    - command: "python3 hooks/page.py --team growth"
    - webhook: {url_env: SLACK_URL, format: slack}
kpis:
  - metric: mrr
    target: 100
    indicator: leading
  - metric: churn
    direction: down
    target: 0.02
    alert: {for: 1h, on: [crit, recover, stale]}
  - metric: quiet
    alert: {on: []}
okrs:
  - title: Grow
    key_results:
      - {title: Calls, start: 0, target: 20, alert: {notify: [{webhook: "https://x.example/h"}]}}
"""


def test_a_kpi_rule_overrides_the_board_field_by_field(specs):
    # Given a board rule and a KPI that only changes for and on
    rules = subject_rules(specs.load(RULES).dashboard)
    # Then it keeps the board's repeat and targets, with its own hold and words
    churn = rules["kpi", "churn"]
    assert (churn.hold, churn.repeat, sorted(churn.on)) == (
        3600,
        14400,
        ["crit", "recover", "stale"],
    )
    assert [t.command for t in churn.notify] == ["python3 hooks/page.py --team growth", None]
    # And a KPI without alert: takes the board's rule, the defaults where it says nothing
    mrr = rules["kpi", "mrr"]
    assert (mrr.hold, sorted(mrr.on)) == (600, ["crit", "recover", "warn"])
    assert rules["kpi", "quiet"].on == frozenset()
    # And a key result has a rule too, its own targets replacing the board's
    assert [label(t) for t in rules["kr", "calls"].notify] == [
        label(Target(webhook="https://x.example/h"))
    ]


def test_without_alerts_the_defaults_are_warn_crit_recover_at_once_never_repeated():
    # Given no rule anywhere / Then it fires at once on warn, crit, recover, to nobody
    rule = resolve(AlertRule(), None)
    assert (rule.hold, rule.repeat, rule.notify, sorted(rule.on)) == (
        0,
        None,
        (),
        ["crit", "recover", "warn"],
    )


def test_a_target_label_never_shows_a_secret():
    # Given a Slack URL in the spec, one in the environment, and a command
    slack = Target(webhook="https://hooks.slack.com/services/T0/B0/SECRETSECRET")
    env = Target(webhook=Webhook(url_env="SLACK_URL"))
    # Then the labels name the host (with a hash telling hooks apart) or the variable
    assert label(slack).startswith("webhook: https://hooks.slack.com #")
    assert "SECRET" not in label(slack)
    assert label(env) == "webhook: $SLACK_URL"
    assert label(Target(command="page --team x")) == "command: page --team x"
    other = Target(webhook="https://hooks.slack.com/services/T0/B0/OTHER")
    assert label(other) != label(slack)


def test_a_good_rule_set_loads_quietly(specs, tmp_path, monkeypatch):
    # Given the hook script exists and the variable is set
    monkeypatch.setenv("SLACK_URL", "https://hooks.slack.com/x")
    (tmp_path / "hooks").mkdir()
    (tmp_path / "hooks" / "page.py").write_text("print(1)\n")
    monkeypatch.chdir(tmp_path)
    # Then nothing is said about the alerts
    assert [w for w in specs.warnings(RULES) if "alert" in w or "notify" in w] == []


BAD_SHAPE = """\
alerts:
  for: soon
  on: [warn, critical]
  notify:
    - email: pm@example.com
kpis:
  - metric: mrr
    indicator: leading
    alert: {repeat: 0s}
"""


def test_every_misshapen_rule_is_reported_at_its_line(specs):
    # Given a rule set with one mistake of shape per line
    text = "\n".join(str(p) for p in specs.problems(BAD_SHAPE))
    # Then each is reported at its line
    assert "dashboard.yaml:2:8: alerts.for: 'soon' is not a duration" in text
    assert "dashboard.yaml:3:14: alerts.on[1]: 'critical' is not one of" in text
    assert "did you mean 'crit'?" in text
    assert "dashboard.yaml:5:7: alerts.notify[0].email: unknown key" in text
    assert "a notify target takes: command, webhook, timeout" in text
    assert "dashboard.yaml:9:21: kpis[0].alert.repeat: '0s' is not a positive duration" in text


BAD = """\
alerts:
  notify:
    - {}
    - command: "page 'unclosed"
    - webhook: ftp://example.com/hook
    - webhook: {url_env: "not a name"}
    - {command: page, webhook: "https://x.example"}
    - webhook: {format: slack}
kpis:
  - metric: mrr
    indicator: leading
    alert: {notify: [{webhook: "http://"}]}
"""


def test_every_bad_target_is_reported_at_its_line(specs):
    # Given targets with one mistake per line
    text = "\n".join(str(p) for p in specs.problems(BAD))
    # Then each is reported at its line
    assert "dashboard.yaml:3:7: alerts.notify[0]: a notify target needs `command:` or" in text
    assert "dashboard.yaml:4:16: alerts.notify[1].command: the command cannot be split" in text
    assert "dashboard.yaml:5:16: alerts.notify[2].webhook: a webhook URL must be http" in text
    assert "dashboard.yaml:6:26: alerts.notify[3].webhook.url_env: 'not a name' is not" in text
    assert (
        "dashboard.yaml:7:32: alerts.notify[4].webhook: a notify target is a command or a webhook, not both"
        in text
    )
    assert "dashboard.yaml:8:16: alerts.notify[5].webhook: a webhook needs `url:` or" in text
    assert "dashboard.yaml:12:32: kpis[0].alert.notify[0].webhook: 'http://' names no host" in text


def test_a_missing_program_or_variable_is_a_warning_for_the_watcher_machine(specs, monkeypatch):
    # Given a command and a variable this machine lacks
    monkeypatch.delenv("NO_SUCH_HOOK_URL", raising=False)
    text = """\
        alerts:
          notify:
            - command: "no-such-pager-kpitui --now"
            - command: "hooks/missing.sh"
            - command: "python3 hooks/gone.py --team x"
            - webhook: {url_env: NO_SUCH_HOOK_URL}
            - webhook: "https://hooks.slack.com/services/T/B/X"
        kpis: [{metric: mrr, indicator: leading}]
        """
    # Then the spec loads, with one warning at each line
    warnings = specs.warnings(text)
    assert any(":3:" in w and "no program 'no-such-pager-kpitui' on this" in w for w in warnings)
    assert any(
        ":4:" in w and "the program 'hooks/missing.sh' does not exist" in w for w in warnings
    )
    assert any(":5:" in w and "the script 'hooks/gone.py' does not exist" in w for w in warnings)
    assert any(":6:" in w and "NO_SUCH_HOOK_URL is not set here" in w for w in warnings)
    assert any(":7:" in w and "is a secret" in w and "url_env" in w for w in warnings)
    assert "NO_SUCH_HOOK_URL" not in os.environ


def test_for_is_written_for_and_read_as_a_duration(specs):
    # Given `for: 90s` / Then it is the rule's hold
    spec = specs.load("kpis: [{metric: m, indicator: leading, alert: {for: 90s}}]\n")
    assert spec.dashboard.kpis[0].alert.hold == Hold("90s")


_RULE_KEYS = ["for", "on", "repeat", "notify", "bell", "command", "webhook", "url", "url_env",
              "format", "timeout", "alert", "email"]  # fmt: skip
_RULE_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 10**5),
    st.sampled_from(
        [
            "10m",
            "0s",
            "0",
            "soon",
            "warn",
            "crit",
            "recover",
            "slack",
            "json",
            "http://",
            "https://x.example/h",
            "ftp://x",
            "py 'x",
            "",
            "SLACK_URL",
            "not a name",
            "🚀",
        ]
    ),
    st.text(max_size=6),
)
_RULE_VALUES = st.recursive(
    _RULE_SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.sampled_from(_RULE_KEYS), inner, max_size=4)
    ),
    max_leaves=20,
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_RULE_VALUES, _RULE_VALUES)
def test_any_alert_rule_gives_rules_or_located_problems(board_rule, kpi_rule):
    # Given any `alerts:` and any KPI `alert:` / When loaded / Then no crash, and what
    # loads resolves to rules
    data = {"alerts": board_rule, "kpis": [{"metric": "mrr", "alert": kpi_rule}]}
    try:
        loaded = parse_yaml(yaml.safe_dump(data, allow_unicode=True), "d.yaml")
        dashboard, _ = validate_data(loaded, known_metrics={"mrr"})
    except SpecErrors as exc:
        assert all(p.location.line is not None for p in exc.problems)
        return
    except KpituiError as exc:
        assert exc.location.file == "d.yaml"
        return
    for rule in subject_rules(dashboard).values():
        assert all(label(t) for t in rule.notify)
