"""The words the spec, the store and the engine share: what a metric may be called and
how its points can be aggregated. One home each, so the three never disagree.
"""

from __future__ import annotations

import re
from typing import Literal, get_args

METRIC_NAME = r"[A-Za-z_][A-Za-z0-9_.:-]*"
"""A metric name, as a regular expression without anchors (a formula finds names in
its text with it)."""
METRIC_NAME_RE = re.compile(rf"{METRIC_NAME}\Z")
METRIC_NAME_HINT = "a metric name starts with a letter or _ and holds letters, digits, _ . : -"


def is_metric_name(name: object) -> bool:
    return isinstance(name, str) and METRIC_NAME_RE.match(name) is not None


Agg = Literal[
    "last", "sum", "avg", "min", "max", "count", "nps", "csat", "p50", "p90", "p95", "p99"
]
"""How a metric's points become one number (SPEC §3 `agg`)."""
AGGS: tuple[str, ...] = get_args(Agg)

FLOW_AGGS = frozenset({"sum", "count"})
"""Aggs of flows: nothing in a range or bucket is 0 of them (nothing happened), not a gap;
and a flow over a whole window is on another scale than over one bucket."""
SCORE_AGGS = frozenset({"nps", "csat", "p50", "p90", "p95", "p99"})
"""Aggs whose value is a score of the points (a survey's NPS, a latency percentile), not
in the unit of a single point: summing them means nothing."""
SURVEY_SCALES = {"nps": "0–10", "csat": "1–5"}
"""The answers a survey agg counts; others are left out."""
ADDITIVE_AGGS = frozenset({"sum", "count", "last"})
"""Aggs whose per-label values add up to the whole, so a share of the total means something."""


def agg_unit(agg: str) -> str:
    """What an agg's result is measured in: the metric's own unit, except for counts and
    the survey scores, which have units of their own."""
    return agg if agg in ("count", "nps", "csat") else "metric"
