"""Whatever a spec holds, loading it ends in a Dashboard or in KpituiErrors with a place —
never in another exception (which would reach the user as a traceback)."""

from __future__ import annotations

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kpitui.errors import KpituiError, SpecErrors
from kpitui.spec.loader import parse_yaml

KEYS = [
    "title",
    "store",
    "refresh",
    "timezone",
    "period",
    "checkin_every",
    "alerts",
    "metrics",
    "kpis",
    "charts",
    "okrs",
    "layout",
    "id",
    "metric",
    "agg",
    "window",
    "labels",
    "format",
    "direction",
    "target",
    "warn",
    "crit",
    "compare",
    "stale_after",
    "spark",
    "indicator",
    "north_star",
    "formula",
    "metrics",
    "split_by",
    "key_results",
    "children",
    "kind",
    "start",
    "done",
    "weight",
    "pages",
    "rows",
    "quarter",
    "end",
    "bucket",
    "tagret",
]
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-10, 10**6),
    st.floats(allow_nan=True),
    st.sampled_from(
        [
            "up",
            "down",
            "7d",
            "mtd",
            "90%",
            "a / b",
            "(a",
            "2026-Q4",
            "Europe/Paris",
            "[x]",
            "okrs",
            "mrr",
            "",
            "🚀",
            "2026-10-01",
            "sum",
            "nps",
            "p90",
        ]
    ),
    st.text(max_size=8),
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.sampled_from(KEYS), inner, max_size=5),
    ),
    max_leaves=25,
)


def _check(text: str) -> None:
    from kpitui.spec import validate_data

    try:
        loaded = parse_yaml(text, "d.yaml")
        validate_data(loaded, known_metrics={"mrr", "a", "b"})
    except SpecErrors as exc:
        assert exc.problems
        for problem in exc.problems:
            assert problem.location.file == "d.yaml"
            assert problem.location.line is not None
    except KpituiError as exc:
        assert exc.location.file == "d.yaml"


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(st.sampled_from(KEYS), VALUES, max_size=6))
def test_any_structure_gives_a_board_or_located_problems(data):
    # Given any mapping of known-looking keys to any values / When loaded / Then no crash
    _check(yaml.safe_dump(data, allow_unicode=True))


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="kpis:-[]{}\"'&*<>#!%@ \n\tmetric0123target", max_size=80))
def test_any_text_gives_a_board_or_one_located_error(text):
    # Given arbitrary text made of YAML's punctuation / When loaded / Then no crash
    _check(text)
