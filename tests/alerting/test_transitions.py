"""for/on/repeat as pure functions of what was seen when, in worked examples: a minute
is 60 seconds, the clock starts at 0."""

from __future__ import annotations

from kpitui.alerting.transitions import Fire, Track, alert_word, resumed, step
from kpitui.spec.alert_rules import Rule

M = 60
H = 3600


def run(rule: Rule, seen: list[tuple[int, str | None]], track: Track | None = None, kind="kpi"):
    """Feed (time, state) observations; return [(time, Fire)] and the last track."""
    track = track or Track()
    fired = []
    for at, state in seen:
        track, fire = step(track, state, at, rule, kind)
        if fire is not None:
            fired.append((at, fire))
    return fired, track


def test_flapping_inside_for_fires_nothing():
    # Given for: 10m and a KPI that flips ok/warn every 4 minutes for an hour
    seen = [(t * 4 * M, "warn" if t % 2 else "ok") for t in range(16)]
    # When it starts ok / Then nothing fires
    fired, _ = run(Rule(hold=10 * M), [(0, "ok"), *seen])
    assert fired == []


def test_a_state_that_holds_for_fires_once_at_the_end_of_for():
    # Given for: 10m, ok until 0:05, then warn seen every minute
    seen = [(0, "ok"), *[(t * M, "warn") for t in range(5, 40)]]
    fired, track = run(Rule(hold=10 * M), seen)
    # Then it fires at 0:15 (warn first seen 0:05 + 10m), from ok, and never again
    assert fired == [(15 * M, Fire("ok", "warn"))]
    assert (track.fired, track.fired_at) == ("warn", 15 * M)


def test_without_for_it_fires_on_the_first_observation():
    fired, _ = run(Rule(), [(0, "ok"), (60, "crit"), (120, "crit"), (180, "ok")])
    assert fired == [(60, Fire("ok", "crit")), (180, Fire("crit", "ok"))]


def test_crit_at_start_fires_once_and_a_good_start_is_silent():
    # Given a first run where one KPI is already crit, another ok
    crit, _ = run(Rule(), [(0, "crit"), (60, "crit"), (120, "crit")])
    ok, track = run(Rule(), [(0, "ok"), (60, "ok")])
    # Then crit fires once, "at start" (from None); ok fires nothing but becomes the start
    assert crit == [(0, Fire(None, "crit"))]
    assert ok == [] and track.fired == "ok" and track.fired_at is None


def test_on_selects_the_changes_and_an_unfired_change_keeps_the_told_state():
    # Given on: [crit, recover]: ok → warn → crit → warn → ok
    rule = Rule(on=frozenset({"crit", "recover"}))
    seen = [(0, "ok"), (60, "warn"), (120, "crit"), (180, "warn"), (240, "ok")]
    fired, _ = run(rule, seen)
    # Then warn fires nothing, and the recovery is told from crit, the last state told
    assert fired == [(120, Fire("ok", "crit")), (240, Fire("crit", "ok"))]


def test_no_data_and_stale_fire_only_when_asked():
    seen = [(0, "ok"), (60, "no_data"), (120, "ok"), (180, "stale"), (240, "ok")]
    assert run(Rule(), seen)[0] == []
    asked = Rule(on=frozenset({"no_data", "stale", "recover"}))
    assert run(asked, seen)[0] == [
        (60, Fire("ok", "no_data")),
        (120, Fire("no_data", "ok")),
        (180, Fire("ok", "stale")),
        (240, Fire("stale", "ok")),
    ]


def test_repeat_renotifies_while_bad_and_stops_on_recovery():
    # Given repeat: 4h and a KPI crit from 0:00 to 9:30, seen every 30 minutes
    seen = [(t * 30 * M, "crit") for t in range(20)] + [(10 * H, "ok"), (15 * H, "ok")]
    fired, _ = run(Rule(repeat=4 * H), seen)
    # Then it fires at start, again at 4h and 8h, then the recovery, and nothing after
    assert fired == [
        (0, Fire(None, "crit")),
        (4 * H, Fire("crit", "crit", repeat=True)),
        (8 * H, Fire("crit", "crit", repeat=True)),
        (10 * H, Fire("crit", "ok")),
    ]


def test_repeat_counts_from_the_last_notification_read_back_from_history():
    # Given the history says crit was last told at 1:00 (a watcher that restarted)
    track = Track(fired="crit", fired_at=1 * H)
    fired, _ = run(Rule(repeat=4 * H), [(2 * H, "crit"), (4 * H, "crit"), (5 * H, "crit")], track)
    # Then the state already told is not sent again; the repeat comes at 5:00
    assert fired == [(5 * H, Fire("crit", "crit", repeat=True))]


def test_a_restart_sends_nothing_for_a_state_already_told():
    # Given history: warn told at 0:00; the new process sees warn
    fired, _ = run(Rule(hold=10 * M), [(H, "warn"), (2 * H, "warn")], Track("warn", 0))
    assert fired == []


def test_an_error_keeps_the_track_as_it_was():
    # Given crit, then the store fails for a while (None), then crit again
    fired, track = run(Rule(hold=5 * M), [(0, "crit"), (60, None), (120, None), (300, "crit")])
    # Then crit fires once, at 5:00, counted from when it was first seen
    assert fired == [(300, Fire(None, "crit"))]
    assert track.seen_since == 0


def test_key_results_read_at_risk_as_warn_and_off_track_as_crit():
    seen = [
        (0, "on_track"),
        (60, "at_risk"),
        (120, "off_track"),
        (180, "missed"),
        (240, "achieved"),
    ]
    fired, _ = run(Rule(), seen, kind="kr")
    # Then at_risk and off_track fire; missed is still crit; achieved is a recovery
    assert fired == [
        (60, Fire("on_track", "at_risk")),
        (120, Fire("at_risk", "off_track")),
        (240, Fire("off_track", "achieved")),
    ]


def test_alert_words():
    assert alert_word("kpi", "ok", "warn") == "warn"
    assert alert_word("kpi", "crit", "warn") == "warn"
    assert alert_word("kpi", "warn", "ok") == "recover"
    assert alert_word("kpi", "ok", "neutral") is None
    assert alert_word("kpi", None, "ok") is None
    assert alert_word("kpi", None, "crit") == "crit"
    assert alert_word("kr", "not_started", "on_track") is None


def test_a_resumed_track_counts_a_state_seen_for_ago_as_held():
    # Given a cron run at 10:00 with for: 10m, crit now and at 9:50
    track = resumed(Track("ok", 0), "crit", "crit", 10 * H, 10 * M)
    # Then it fires on this run, not 10 minutes after it
    assert step(track, "crit", 10 * H, Rule(hold=10 * M))[1] == Fire("ok", "crit")
    # But ok at 9:50 means crit has not held: nothing fires yet
    fresh = resumed(Track("ok", 0), "crit", "ok", 10 * H, 10 * M)
    assert step(fresh, "crit", 10 * H, Rule(hold=10 * M))[1] is None


def test_a_key_results_rule_may_say_on_in_its_own_words(tmp_path):
    from kpitui.spec import load_dashboard
    from kpitui.spec.alert_rules import subject_rules

    # Given a key result told only when it goes off track (or is missed)
    spec = tmp_path / "dashboard.yaml"
    spec.write_text(
        "title: t\nstore: m.db\nkpis: []\nokrs:\n  - title: Grow\n    key_results:\n"
        "      - title: Ship\n        done: false\n        alert: {on: [off_track]}\n",
        encoding="utf-8",
    )
    rule = subject_rules(load_dashboard(spec).dashboard)["kr", "ship"]
    assert rule.on == {"crit"}
    seen = [(0, "on_track"), (60, "at_risk"), (120, "off_track"), (180, "missed")]
    fired, _ = run(rule, seen, kind="kr")
    # Then at_risk fires nothing, off_track fires, missed is still crit
    assert fired == [(120, Fire("on_track", "off_track"))]
