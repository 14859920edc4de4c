"""Semantic checks and warnings: references into the store, the focus warnings of
issue 8, and specs that are right and must stay quiet."""

from __future__ import annotations

GOOD = """\
title: Growth
timezone: Europe/Paris
period: {quarter: 2026-Q4}
checkin_every: 7d
metrics:
  conversion: {formula: "trial_conversions / signups", format: percent}
  stickiness: {formula: dau / mau}
kpis:
  - id: mrr
    metric: mrr
    north_star: true
    indicator: lagging
    format: currency
    currency: USD
    target: 50000
    warn: "90%"
    crit: "80%"
  - metric: conversion
    agg: sum
    window: 30d
    indicator: leading
    target: 0.1
    warn: 0.08
  - metric: churn
    direction: down
    target: 0.02
    warn: "125%"
    crit: 0.04
  - metric: nps
    agg: nps
  - id: latency
    metric: latency
    agg: p90
    direction: down
    target: 300
charts:
  - title: MRR by plan
    metrics: [mrr]
    split_by: plan
okrs:
  - title: Grow revenue
    key_results:
      - {title: MRR to 2k, metric: mrr, start: 1000, target: 2000}
      - {title: Churn under 2%, metric: churn, kind: maintain_below, target: 0.02}
      - {title: Pricing page live, done: false}
      - {title: Customer calls, start: 0, target: 20}
    children:
      - title: Enterprise
        key_results: [{title: Two logos, start: 0, target: 2, weight: 2}]
layout:
  pages:
    - title: Main
      rows: [[mrr, conversion, churn], [okrs, alerts]]
    - title: Quality
      rows: [[nps, latency], [chart-mrr-by-plan, enterprise]]
"""
STORE = {"mrr", "trial_conversions", "signups", "dau", "mau", "churn", "nps", "latency"}


def test_a_good_spec_is_quiet(specs):
    # Given a spec using every part correctly, and a store holding its metrics
    spec = specs.load(GOOD, known=STORE)
    # Then it loads with no warnings
    assert spec.warnings == []
    assert [k.id for k in spec.dashboard.kpis] == ["mrr", "conversion", "churn", "nps", "latency"]


def test_percent_thresholds_resolve_against_the_target(specs):
    # Given "90%"/"80%" of a 50000 target for up and "125%" of 0.02 for down / Then in order
    assert specs.problems(GOOD) == []


def test_a_quoted_number_threshold_is_the_number_as_a_quoted_target_is(specs):
    # Given warn and crit written as quoted numbers beside a quoted target
    text = (
        "kpis:\n  - {metric: a, target: '1000', warn: '950', crit: ' 9e2 ', indicator: leading}\n"
    )
    kpi = specs.load(text).dashboard.kpis[0]
    # Then they are numbers, in order for "up" (a "%" one stays a share of the target)
    assert (kpi.target, kpi.warn, kpi.crit) == (1000, 950, 900)
    assert specs.problems(text.replace("'950'", "'95%'")) == []
    # And text that is neither is still refused at its place
    for bad in ("95x", ".5%", "1e3%"):
        assert [str(p) for p in specs.problems(text.replace("'950'", f"'{bad}'"))] == [
            f"dashboard.yaml:2:39: kpis[0].warn: '{bad}' is neither a number nor a percentage "
            'of target like "90%"'
        ]


def test_unknown_metric_is_a_warning_with_a_suggestion(specs):
    # Given a KPI reading `signup` while the store holds `signups`
    text = GOOD.replace(
        "  - metric: nps\n    agg: nps\n", "  - metric: signup\n    id: nps\n    agg: nps\n"
    )
    warnings = specs.warnings(text, known=STORE)
    # Then a warning at the metric's value, with a "did you mean", and the spec still loads
    assert warnings == [
        "dashboard.yaml:29:13: warning: kpis[3].metric: metric 'signup' has no points in the "
        "store yet (shown as no_data) (did you mean 'signups'?)"
    ]


def test_store_check_is_skipped_without_known_metrics(specs):
    # Given no store names (known_metrics=None) / Then no metric warnings at all
    assert specs.warnings(GOOD.replace("metric: latency", "metric: nothing_like_it")) == []


def test_formula_operands_are_checked_at_their_column(specs):
    # Given a formula whose second operand the store lacks
    warnings = specs.warnings(GOOD, known=STORE - {"mau"})
    # Then the warning points inside the formula, at `mau`
    assert warnings == [
        "dashboard.yaml:7:31: warning: metrics.stickiness.formula: metric 'mau' has no points "
        "in the store yet (stickiness has no value) (did you mean 'dau'?)"
    ]


def test_dash_inside_a_formula_name_gets_a_hint(specs):
    # Given `mrr-cac` where both mrr and cac are stored / Then the hint says to space the minus
    text = (
        "metrics:\n  margin: {formula: mrr-cac}\nkpis:\n  - {metric: margin, indicator: leading}\n"
    )
    (warning,) = specs.warnings(text, known={"mrr", "cac"})
    assert warning.endswith("(to subtract, put spaces around '-': mrr - cac)")


def test_more_than_seven_kpis_on_the_default_page(specs):
    # Given eight KPIs and no layout / When loaded / Then a focus warning at `kpis:`
    kpis = "".join(f"  - {{metric: m{i}, indicator: leading}}\n" for i in range(8))
    warnings = specs.warnings("kpis:\n" + kpis)
    assert warnings == [
        "dashboard.yaml:1:1: warning: kpis: the board's one page holds 8 KPIs: a board that "
        "tracks everything focuses on nothing (keep a North Star and a few supporting KPIs, "
        "at most 7 per page)"
    ]


def test_more_than_seven_kpis_on_a_layout_page(specs):
    # Given eight KPIs spread 8 on page one and 1 on page two
    kpis = "".join(f"  - {{metric: m{i}, indicator: leading}}\n" for i in range(8))
    layout = (
        "layout:\n  pages:\n    - rows: [[m0, m1, m2, m3], [m4, m5, m6, m7]]\n    - rows: [[m0]]\n"
    )
    warnings = specs.warnings("kpis:\n" + kpis + layout)
    # Then only page one is warned about, at its place
    assert len(warnings) == 1
    assert warnings[0].startswith(
        "dashboard.yaml:12:7: warning: layout.pages[0]: this page holds 8 KPIs"
    )


def test_no_leading_indicator_is_a_warning(specs):
    # Given KPIs none of which is leading / Then a warning at the `kpis:` key, exit still fine
    warnings = specs.warnings("title: x\nkpis:\n  - {metric: mrr, indicator: lagging}\n")
    assert warnings == [
        "dashboard.yaml:2:1: warning: kpis: no KPI is marked `indicator: leading`: the board "
        "only shows what has already happened (tag the KPIs that move first, such as "
        "activation or trial starts, with `indicator: leading`)"
    ]


def test_kpi_left_out_of_the_layout_is_a_warning(specs):
    # Given a layout that forgets one KPI / Then that KPI is named
    text = GOOD.replace("[[mrr, conversion, churn]", "[[mrr, conversion]")
    warnings = specs.warnings(text)
    assert warnings == [
        "dashboard.yaml:24:5: warning: kpis[2]: KPI 'churn' is on no page of the layout "
        "(add its id to a row, or drop it)"
    ]


def test_empty_objective_and_checkin_every_on_a_metric_kr(specs):
    # Given an objective with nothing in it and a metric-bound KR with checkin_every
    text = (
        "kpis: [{metric: mrr, indicator: leading}]\n"
        "okrs:\n"
        "  - title: Someday\n"
        "  - title: Grow\n"
        "    key_results:\n"
        "      - {title: MRR up, metric: mrr, start: 1, target: 2, checkin_every: 7d}\n"
    )
    warnings = specs.warnings(text)
    # Then both are warnings, not errors
    assert warnings == [
        "dashboard.yaml:3:5: warning: okrs[0]: objective 'someday' has no key results nor "
        "child objectives: its progress stays empty",
        "dashboard.yaml:6:74: warning: okrs[1].key_results[0].checkin_every: checkin_every is "
        "for manual key results; this one reads metric 'mrr' (drop checkin_every)",
    ]


def test_threshold_order_suggests_the_other_direction(specs):
    # Given thresholds written for `down` on an `up` KPI (crit above warn above target)
    problems = specs.problems(
        "kpis:\n  - {metric: latency, target: 200, warn: 300, crit: 500, indicator: leading}\n"
    )
    # Then both out-of-order thresholds are errors, each hinting at direction: down
    assert [str(p) for p in problems] == [
        "dashboard.yaml:2:42: kpis[0].warn: warn (300) is above target (200): thresholds are "
        "out of order for direction up (did you mean `direction: down`?)",
        "dashboard.yaml:2:53: kpis[0].crit: crit (500) is above warn (300): thresholds are out "
        "of order for direction up (did you mean `direction: down`?)",
    ]


def test_thresholds_equal_to_each_other_are_allowed(specs):
    # Given crit == warn == target / Then nothing is out of order (the worse state wins later)
    assert specs.problems("kpis:\n  - {metric: a, target: 5, warn: 5, crit: 5}\n") == []


def test_krs_with_inferred_kinds_are_consistent(specs):
    # Given a decrease inferred from start > target and a milestone read from a metric
    text = (
        "kpis: [{metric: a, indicator: leading}]\n"
        "okrs:\n  - title: O\n    key_results:\n"
        "      - {title: Cut churn, metric: churn, start: 0.05, target: 0.03}\n"
        "      - {title: Launch, metric: launched, kind: milestone}\n"
        "      - {title: Same, start: 3, target: 3}\n"
    )
    problems = [str(p) for p in specs.problems(text)]
    # Then only the KR with start == target is a problem
    assert problems == [
        "dashboard.yaml:7:41: okrs[0].key_results[2].target: target (3) must be above start (3) "
        "for an increase"
    ]


def test_duplicate_panel_on_a_page(specs):
    # Given the same KPI twice on one page / Then the second is an error naming the first row
    text = "kpis: [{metric: a, indicator: leading}]\nlayout:\n  pages:\n    - rows: [[a], [a]]\n"
    assert [str(p) for p in specs.problems(text)] == [
        "dashboard.yaml:4:20: layout.pages[0].rows[1][0]: 'a' is already on this page (row 1) "
        "(a panel appears once per page)"
    ]


def test_derived_metric_named_like_a_stored_one(specs):
    # Given a derived metric with a stored metric's name / Then a warning that the formula wins
    text = "metrics:\n  mrr: {formula: a + b}\nkpis: [{metric: mrr, indicator: leading}]\n"
    (warning,) = specs.warnings(text, known={"mrr", "a", "b"})
    assert warning.startswith("dashboard.yaml:2:3: warning: metrics.mrr: derived metric 'mrr'")


def test_self_reference_is_a_cycle(specs):
    # Given a metric defined through itself / Then the cycle is named a → a
    (problem,) = specs.problems("metrics:\n  a: {formula: a * 2}\nkpis: [{metric: a}]\n")
    assert str(problem) == (
        "dashboard.yaml:2:16: metrics.a.formula: derived metrics form a cycle: a → a "
        "(a derived metric cannot depend on itself)"
    )


def test_store_warnings_added_later_match_a_load_with_the_store(specs):
    # Given a spec with an unknown KPI metric and no leading indicator, and a store lacking
    # a formula operand (mau) and holding a metric named like a derived one (conversion)
    text = GOOD.replace("metric: latency", "metric: latncy").replace(
        "indicator: leading", "indicator: lagging"
    )
    known = (STORE - {"mau"}) | {"conversion"}
    # When loaded once without the store and given its metric names afterwards
    later = specs.load(text).with_store_metrics(known)
    # Then the warnings are exactly those of a load that knew the store from the start
    expected = specs.warnings(text, known)
    assert [str(w) for w in later.warnings] == expected
    assert len(expected) == 4


def test_an_abbreviated_timezone_is_a_warning_naming_a_place(specs):
    # Given zones an IANA database accepts but that name no place / Then a warning each,
    # with the place when the abbreviation has a usual one
    for name, hint in (
        ("EST", "did you mean America/New_York?"),
        ("CET", "did you mean Europe/Berlin?"),
        ("Etc/GMT+5", "write the place whose clock the board follows, such as "),
    ):
        warnings = specs.warnings(GOOD.replace("Europe/Paris", name))
        assert len(warnings) == 1, name
        assert warnings[0].startswith(
            f"dashboard.yaml:2:11: warning: timezone: {name!r} is not a Region/City zone"
        )
        assert hint in warnings[0]
    # And Region/City names and UTC stay quiet
    for name in ("America/Argentina/Salta", "UTC", "Etc/UTC"):
        assert specs.warnings(GOOD.replace("Europe/Paris", name)) == [], name


def test_currency_format_without_a_currency_is_a_warning(specs):
    # Given a KPI and a derived metric in currency format with no currency code
    text = GOOD.replace("    currency: USD\n", "").replace(
        "stickiness: {formula: dau / mau}",
        "stickiness: {formula: dau / mau}\n  arpu: {formula: mrr / customers, format: currency}",
    )
    warnings = specs.warnings(text)
    # Then a warning at each `format:`
    detail = "format: currency without `currency:` shows its values with no currency sign"
    assert [w.split(" (add")[0] for w in warnings] == [
        f"dashboard.yaml:8:44: warning: metrics.arpu.format: {detail}",
        f"dashboard.yaml:14:13: warning: kpis[0].format: {detail}",
    ]
    assert "add `currency: USD`" in warnings[0]
