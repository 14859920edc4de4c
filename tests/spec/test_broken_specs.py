"""A table of broken specs: each problem is reported at its exact `line:col` with a message
a PM can act on. Columns count from 1 and point at the value (or at the key, for unknown
and duplicate keys, or at the mapping that lacks a required key)."""

from __future__ import annotations

import pytest

# (case id, spec text, "line:col", message fragment)
# fmt: off
BROKEN = [
    ("misspelt-direction", """\
        kpis:
          - metric: churn
            direction: upp
        """, "3:16", "kpis[0].direction: 'upp' is not one of up, down (did you mean 'up'?)"),
    ("unknown-key", """\
        kpis:
          - metric: mrr
            tagret: 3
        """, "3:5", "kpis[0].tagret: unknown key (did you mean 'target'?)"),
    ("unknown-key-no-close-match", """\
        kpis:
          - metric: mrr
            colour: red
        """, "3:5", "kpis[0].colour: unknown key (a KPI takes: id, title, metric,"),
    ("unknown-top-level-synonym", """\
        kpis: [{metric: mrr}]
        objectives: []
        """, "2:1", "objectives: unknown key (did you mean 'okrs'?)"),
    ("missing-metric", """\
        kpis:
          - title: Revenue
            target: 10
        """, "2:5", "kpis[0]: missing required key 'metric'"),
    ("target-not-a-number", """\
        kpis:
          - metric: mrr
            target: lots
        """, "3:13", "kpis[0].target: expected a number, got 'lots'"),
    ("window-of-centuries", """\
        kpis:
          - {metric: signups, spark: {window: 800000d}}
        """, "2:39", "kpis[0].spark.window: '800000d' is longer than 100 years: use at most 36500d"),
    ("window-too-big-for-a-number", """\
        kpis:
          - {metric: signups, agg: sum, window: 99999999999999999999999d}
        """, "2:41", "is longer than 100 years"),
    ("period-before-1971", """\
        period: {start: 0001-01-01, end: 2026-12-31}
        kpis: [{metric: mrr}]
        """, "1:17", "period.start: the date 0001-01-01 is out of range: use a year from 1971 to 9998"),
    ("quarter-of-year-one", """\
        period: {quarter: 0001-Q1}
        kpis: [{metric: mrr}]
        """, "1:19", "period.quarter: '0001-Q1' is out of range: use a year from 1971 to 9998"),
    ("refresh-under-a-second", """\
        refresh: 0.5s
        kpis: [{metric: mrr}]
        """, "1:10", "refresh: '0.5s' is shorter than a second: durations are whole seconds"),
    ("bad-window", """\
        kpis:
          - {metric: signups, agg: sum, window: 7q}
        """, "2:41", "kpis[0].window: '7q' is not a window: use 7d, 30d, 12h, mtd, qtd or ytd"),
    ("bad-duration", """\
        kpis:
          - metric: mrr
            stale_after: soon
        """, "3:18", "kpis[0].stale_after: 'soon' is not a duration"),
    ("bad-agg", """\
        kpis:
          - metric: signups
            agg: summ
        """, "3:10", "'summ' is not one of last, sum, avg"),
    ("kpis-not-a-list", """\
        kpis:
          metric: mrr
        """, "2:3", "kpis: expected a list (lines starting with `- `), got a mapping"),
    ("kpi-as-bare-name", """\
        kpis:
          - mrr
        """, "2:5", "kpis[0]: expected a mapping (key: value lines), got 'mrr' (write `- metric: mrr`)"),
    ("title-not-text", """\
        title: 2026
        kpis: [{metric: mrr}]
        """, "1:8", 'title: expected text, got 2026 (quote it: "2026")'),
    ("decimals-not-whole", """\
        kpis:
          - {metric: mrr, decimals: 2.5}
        """, "2:29", "kpis[0].decimals: expected a whole number, got 2.5"),
    ("bell-not-bool", """\
        alerts: {bell: loud}
        kpis: [{metric: mrr}]
        """, "1:16", "alerts.bell: expected true or false, got 'loud'"),
    ("duplicate-key", """\
        kpis:
          - metric: mrr
            target: 10
            target: 20
        """, "4:5", "kpis[0].target: duplicate key (first written at line 3)"),
    ("duplicate-id", """\
        kpis:
          - metric: mrr
          - metric: mrr
            labels: {plan: pro}
        """, "3:5", "kpis[1]: the id 'mrr' is already used by KPI kpis[0] (line 2)"),
    ("duplicate-objective-id-from-titles", """\
        okrs:
          - title: Grow revenue
            key_results: [{title: k, kind: milestone, done: false}]
          - title: Grow Revenue!
            key_results: [{title: l, kind: milestone, done: false}]
        """, "4:5", "okrs[1]: the id 'grow-revenue' is already used by objective okrs[0] (line 2) "
        "(an id defaults to a slug of the title; give this one its own `id:`)"),
    ("duplicate-id-across-kinds", """\
        kpis:
          - {id: growth, metric: mrr}
        okrs:
          - id: growth
            title: Grow
            key_results: [{title: k, kind: milestone, done: false}]
        """, "4:9", "okrs[0].id: the id 'growth' is already used by KPI kpis[0] (line 2)"),
    ("two-north-stars", """\
        kpis:
          - metric: mrr
            north_star: true
          - metric: dau
            north_star: true
        """, "5:17", "kpis[1].north_star: a second North Star: kpis[0] ('mrr', line 3) is already one"),
    ("thresholds-out-of-order-up", """\
        kpis:
          - metric: activation
            target: 0.4
            warn: 0.5
        """, "4:11", "kpis[0].warn: warn (0.5) is above target (0.4): thresholds are out of order for direction up"),
    ("thresholds-out-of-order-down", """\
        kpis:
          - metric: churn
            direction: down
            target: 0.02
            warn: 0.03
            crit: 0.025
        """, "6:11", "kpis[0].crit: crit (0.025) is below warn (0.03)"),
    ("percent-threshold-without-target", """\
        kpis:
          - metric: mrr
            warn: "90%"
        """, "3:11", "kpis[0].warn: '90%' is a percentage of the target, but this KPI has no target"),
    ("threshold-not-number-nor-percent", """\
        kpis:
          - metric: mrr
            target: 100
            crit: ninety
        """, "4:11", "kpis[0].crit: 'ninety' is neither a number nor a percentage of target"),
    ("formula-syntax", """\
        metrics:
          conversion: {formula: "trial_conversions / / signups"}
        kpis: [{metric: conversion}]
        """, "2:46", "metrics.conversion.formula: unexpected '/': expected a number, a metric name or '(' (column 21 of the formula)"),
    ("formula-plain-scalar", """\
        metrics:
          stickiness:
            formula: dau / mau)
        kpis: [{metric: stickiness}]
        """, "3:23", "unmatched ')' (column 10 of the formula)"),
    ("formula-never-eval", """\
        metrics:
          x: {formula: "__import__('os')"}
        kpis: [{metric: x}]
        """, "2:27", "metrics.x.formula: unexpected '(': expected an operator"),
    ("derived-cycle", """\
        metrics:
          a: {formula: b + 1}
          b: {formula: c * 2}
          c: {formula: a / 3}
        kpis: [{metric: a}]
        """, "2:16", "metrics.a.formula: derived metrics form a cycle: a → b → c → a"),
    ("period-backwards", """\
        period: {start: 2026-10-01, end: 2026-09-30}
        kpis: [{metric: mrr}]
        """, "1:34", "period.end: the period ends (2026-09-30) before it starts (2026-10-01)"),
    ("period-bad-quarter", """\
        period: {quarter: 2026-Q5}
        kpis: [{metric: mrr}]
        """, "1:19", "period.quarter: '2026-Q5' is not a quarter: write it as 2026-Q4"),
    ("period-half", """\
        period:
          start: 2026-10-01
        kpis: [{metric: mrr}]
        """, "2:3", "period: a period needs both `start:` and `end:`, or `quarter:`"),
    ("period-bad-date", """\
        period: {start: 2026-13-01, end: 2026-12-31}
        kpis: [{metric: mrr}]
        """, "1:17", "period.start: expected a date like 2026-10-01, got '2026-13-01'"),
    ("kr-increase-backwards", """\
        okrs:
          - title: Grow
            key_results:
              - title: Revenue
                kind: increase
                start: 1000
                target: 900
        """, "7:17", "target (900) must be above start (1000) for an increase (did you mean `kind: decrease`?)"),
    ("kr-decrease-backwards", """\
        okrs:
          - title: Churn less
            key_results:
              - {title: Churn, kind: decrease, start: 0.03, target: 0.05}
        """, "4:61", "target (0.05) must be below start (0.03) for a decrease"),
    ("kr-without-start", """\
        okrs:
          - title: Grow
            key_results:
              - title: Revenue
                metric: mrr
                target: 2000
        """, "4:9", "okrs[0].key_results[0]: a key result needs `start:`"),
    ("kr-maintain-without-target", """\
        okrs:
          - title: Keep it up
            key_results:
              - title: Uptime
                kind: maintain_above
        """, "4:9", "a maintain_above key result needs `target:`"),
    ("kr-milestone-without-done", """\
        okrs:
          - title: Ship
            key_results:
              - title: Launch v2
                kind: milestone
        """, "4:9", "a milestone needs `done: true|false` or a metric that reaches 1"),
    ("kr-negative-weight", """\
        okrs:
          - title: Ship
            key_results:
              - {title: Launch, done: false, weight: -1}
        """, "4:46", "okrs[0].key_results[0].weight: must be at least 0, got -1"),
    ("child-objective-missing-title", """\
        okrs:
          - title: Grow
            children:
              - owner: ana
                key_results: []
        """, "4:9", "okrs[0].children[0]: missing required key 'title'"),
    ("layout-unknown-panel", """\
        kpis: [{metric: mrr}]
        layout:
          pages:
            - title: Main
              rows:
                - [mrr, okr]
        """, "6:17", "layout.pages[0].rows[0][1]: 'okr' is not a KPI, chart or objective id, nor okrs or alerts (did you mean 'okrs'?)"),
    ("layout-kr-as-panel", """\
        okrs:
          - title: Grow
            key_results: [{title: Revenue, start: 1, target: 2}]
        layout:
          pages: [{rows: [[revenue]]}]
        """, "5:20", "key results show inside their objective: use 'grow'"),
    ("layout-no-pages", """\
        kpis: [{metric: mrr}]
        layout: {pages: []}
        """, "2:17", "layout.pages: needs at least one entry"),
    ("timezone-not-iana", """\
        timezone: Europe/Pariss
        kpis: [{metric: mrr}]
        """, "1:11", "timezone: 'Europe/Pariss' is not an IANA time zone name (did you mean 'Europe/Paris'?)"),
    ("chart-split-by-two-metrics", """\
        charts:
          - metrics: [mrr, arr]
            split_by: plan
        """, "3:15", "charts[0].split_by: split_by draws one metric as a line per 'plan' value"),
    ("chart-without-metrics", """\
        charts:
          - title: Empty
            metrics: []
        """, "3:14", "charts[0].metrics: needs at least one entry"),
    ("nothing-to-show", """\
        title: Empty board
        """, "1:1", "the dashboard shows nothing: it has no kpis, charts or okrs"),
    ("bad-metric-name", """\
        kpis:
          - metric: my metric
        """, "2:13", "kpis[0].metric: 'my metric' is not a metric name"),
    ("reserved-id", """\
        kpis:
          - {id: alerts, metric: mrr}
        """, "2:10", "kpis[0].id: the id 'alerts' is reserved for the layout panel 'alerts'"),
    ("period-impossible-day", """\
        period: {start: 2026-02-30, end: 2026-03-31}
        kpis: [{metric: mrr}]
        """, "1:17", "period.start: expected a date like 2026-10-01, got '2026-02-30': day is out of range for month"),
    ("threshold-not-a-number", """\
        kpis:
          - {metric: mrr, target: 10, warn: true}
        """, "2:37", 'kpis[0].warn: expected a number or a percentage of target like "90%", got true'),
    ("label-with-a-list", """\
        kpis:
          - {metric: mrr, labels: {plan: [pro, team]}}
        """, "2:27", "kpis[0].labels: label 'plan' is a list: a label filter matches one value"),
    ("date-as-a-title", """\
        okrs:
          - title: 2026-10-01
            key_results: [{title: k, done: false}]
        """, "2:12", 'okrs[0].title: expected text, got 2026-10-01 (quote it: "2026-10-01")'),
    ("number-too-long-to-echo", """\
        kpis:
          - {metric: mrr, decimals: 1234567890123456789012345678901234567890123456789012345678901234567890}
        """, "2:29", "kpis[0].decimals: must be at most 10, got 12345678901234567890123456789012345678901234567890123456789…"),
    ("quarter-not-text", """\
        period: {quarter: 4}
        kpis: [{metric: mrr}]
        """, "1:19", "period.quarter: 4 is not a quarter: write it as 2026-Q4"),
]
# fmt: on


@pytest.mark.parametrize(
    ("text", "where", "fragment"),
    [case[1:] for case in BROKEN],
    ids=[case[0] for case in BROKEN],
)
def test_broken_spec_reports_the_place(specs, text, where, fragment):
    # Given a spec with one mistake / When it is loaded
    problems = [str(p) for p in specs.problems(text)]
    # Then one of the problems sits at the exact line:col with the expected message
    expected_prefix = f"dashboard.yaml:{where}: "
    matching = [p for p in problems if p.startswith(expected_prefix) and fragment in p]
    assert matching, f"no problem at {where} with {fragment!r} in:\n" + "\n".join(problems)


def test_the_table_is_large_enough():
    # Given the bar of at least 20 broken specs / Then the table holds them
    assert len(BROKEN) >= 20


def test_every_problem_inside_one_item_is_reported_not_only_the_first(specs):
    # Given one KPI with four mistakes and a chart and key result further down with more
    problems = specs.problems("""\
        kpis:
          - metric: mrr
            target: lots
            decimals: 11
            agg: summ
            colour: red
        charts:
          - {metrics: [], window: 7q}
        okrs:
          - title: Grow
            children:
              - {title: Inner, key_results: [{title: k, start: x, kind: grow}]}
        """)
    # Then each is reported at its own place (the models stop at the first problem, so
    # a part that fails is checked again field by field)
    assert [str(p).split(": ")[1] for p in problems] == [
        "kpis[0].target",
        "kpis[0].decimals",
        "kpis[0].agg",
        "kpis[0].colour",
        "charts[0].metrics",
        "charts[0].window",
        "okrs[0].children[0].key_results[0].start",
        "okrs[0].children[0].key_results[0].kind",
    ]


def test_all_problems_are_reported_together_sorted_by_line(specs):
    # Given a spec with mistakes of different kinds
    problems = specs.problems("""\
        timezone: Mars/Olympus
        kpis:
          - metric: churn
            direction: upp
          - metric: mrr
            tagret: 3
        okrs:
          - title: Grow
            key_results: [{title: Revenue, kind: increase, start: 5, target: 1}]
        """)
    # When they are reported / Then all of them at once, in line order
    lines = [p.location.line for p in problems]
    assert lines == sorted(lines)
    # the timezone and the backwards key result wait until the models accept the shape
    assert len(problems) == 2
    # And once the shape is fixed, the semantic problems come out together
    problems = specs.problems("""\
        timezone: Mars/Olympus
        kpis:
          - metric: churn
            direction: down
            target: 1
            warn: 0.5
        okrs:
          - title: Grow
            key_results: [{title: Revenue, kind: increase, start: 5, target: 1}]
        """)
    assert [p.location.line for p in problems] == [1, 6, 9]
