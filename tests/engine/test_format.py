"""Number formats and the delta line (SPEC §3 `format`, `compare`)."""

from __future__ import annotations

import pytest

from kpitui.engine.format import (
    filled_cells,
    format_delta,
    format_progress,
    format_value,
    gap_short,
    gap_words,
)


@pytest.mark.parametrize(
    ("value", "fmt", "kwargs", "expected"),
    [
        # number: thousands separators, whole values without decimals, others with 2
        (1234, "number", {}, "1,234"),
        (1234567.0, "number", {}, "1,234,567"),
        (1234.5, "number", {}, "1,234.50"),
        (-1234, "number", {}, "-1,234"),
        (0, "number", {}, "0"),
        (1234.5678, "number", {"decimals": 1}, "1,234.6"),
        (1234, "number", {"decimals": 2}, "1,234.00"),
        # percent: a fraction shown with 1 decimal
        (0.021, "percent", {}, "2.1%"),
        (0.5, "percent", {}, "50.0%"),
        (1.25, "percent", {}, "125.0%"),
        (-0.034, "percent", {}, "-3.4%"),
        (0.02146, "percent", {"decimals": 2}, "2.15%"),
        (0.3, "percent", {"decimals": 0}, "30%"),
        # currency: symbol for the common codes, else the code; 2 decimals
        (1234.5, "currency", {"currency": "USD"}, "$1,234.50"),
        (99, "currency", {"currency": "EUR"}, "€99.00"),
        (12, "currency", {"currency": "gbp"}, "£12.00"),
        (1500, "currency", {"currency": "JPY"}, "¥1,500.00"),
        (12.345, "currency", {"currency": "CHF"}, "CHF 12.35"),
        (-3.5, "currency", {"currency": "USD"}, "-$3.50"),
        (
            1234.5,
            "currency",
            {"currency": "USD", "decimals": 0},
            "$1,235",
        ),  # half up, as people round
        (7, "currency", {}, "7.00"),
        # compact: 1 decimal with K/M/B; below 1000 as a number
        (1234, "compact", {}, "1.2K"),
        (3_400_000, "compact", {}, "3.4M"),
        (1_234_000_000, "compact", {}, "1.2B"),
        (-1234, "compact", {}, "-1.2K"),
        (999, "compact", {}, "999"),
        (999_960, "compact", {}, "1.0M"),  # rounding carries into the next unit
        (1234, "compact", {"decimals": 2}, "1.23K"),
        # duration: seconds, the two largest units
        (45, "duration", {}, "45s"),
        (750, "duration", {}, "12m 30s"),
        (7500, "duration", {}, "2h 05m"),
        (273_600, "duration", {}, "3d 04h"),
        (2.5, "duration", {}, "2.5s"),
        (-750, "duration", {}, "-12m 30s"),
        (60, "duration", {}, "1m 00s"),
    ],
)
def test_format_value(value, fmt, kwargs, expected):
    # Given a value and a KPI format / When formatted / Then it reads as SPEC §3 shows
    assert format_value(value, fmt, **kwargs) == expected


@pytest.mark.parametrize("fmt", ["number", "percent", "currency", "compact", "duration"])
def test_missing_value_is_a_dash(fmt):
    # Given no value / When formatted in any format / Then it is an em dash
    assert format_value(None, fmt) == "—"


def test_tiny_negative_rounds_without_a_minus_sign():
    # Given -0.001 shown with 2 decimals / Then it reads 0.00, not -0.00
    assert format_value(-0.001, "number") == "0.00"


@pytest.mark.parametrize(
    ("value", "previous", "fmt", "kwargs", "expected"),
    [
        (13_579, 12_345, "number", {}, "▲ +1,234 (+10.0%)"),
        (9_000, 10_000, "number", {}, "▼ -1,000 (-10.0%)"),
        (100, 103.2, "currency", {"currency": "EUR"}, "▼ -€3.20 (-3.1%)"),
        # a change of a rate is in percentage points, its relative change in percent
        (0.024, 0.021, "percent", {}, "▲ +0.3 pp (+14.3%)"),
        (0.018, 0.021, "percent", {}, "▼ -0.3 pp (-14.3%)"),
        (2_500, 1_200, "compact", {}, "▲ +1.3K (+108.3%)"),
        (900, 750, "duration", {}, "▲ +2m 30s (+20.0%)"),
        # previous 0: the delta only
        (5, 0, "number", {}, "▲ +5"),
        # no change; a change that rounds to zero keeps its arrow but loses its sign
        (5, 5, "number", {}, "= 0"),
        (0.8205, 0.8206, "percent", {}, "= 0.0 pp"),  # too small to show: no arrow
        # a change the percent shows but the KPI's decimals round away gets decimals
        (37.8, 37.4, "number", {"decimals": 0}, "▲ +0.4 (+1.1%)"),
        (0.1203, 0.1201, "percent", {}, "▲ +0.02 pp (+0.2%)"),
        (1_000.004, 1_000, "currency", {"currency": "USD"}, "= $0.00"),
        # a negative previous value: the percent change is against its magnitude
        (-50, -100, "number", {}, "▲ +50 (+50.0%)"),
        # a change that shows, of a percent that rounds to zero: +$5 on $95,761 is
        # +0.005%, neutral at one decimal, never an unsigned "0.0%" beside signed ones
        (95_766, 95_761, "currency", {"currency": "USD", "decimals": 0}, "▲ +$5 (±0.0%)"),
        (95_756, 95_761, "currency", {"currency": "USD", "decimals": 0}, "▼ -$5 (±0.0%)"),
        # 4 in 10,000 is 0.04%: the neutral zero; 5 in 10,000 rounds half up to 0.1%
        (10_004, 10_000, "number", {}, "▲ +4 (±0.0%)"),
        (10_005, 10_000, "number", {}, "▲ +5 (+0.1%)"),
    ],
)
def test_format_delta(value, previous, fmt, kwargs, expected):
    # Given a value and its previous value / When the delta is formatted / Then arrow, delta, %
    assert format_delta(value, previous, fmt, **kwargs) == expected


@pytest.mark.parametrize(("value", "previous"), [(5, None), (None, 5), (None, None)])
def test_delta_without_comparison_is_na(value, previous):
    # Given a missing value or previous value / Then the delta reads n/a
    assert format_delta(value, previous) == "n/a"


def test_rounding_is_half_up_and_huge_values_stay_short():
    # Given values on a rounding edge and one beyond any real KPI
    assert format_value(0.3125, "percent") == "31.3%"
    assert format_value(2.675, "number") == "2.68"
    assert format_value(1e300) == "1e+300"
    # And compact keeps one decimal below a thousand
    assert format_value(12.34, "compact") == "12.3"


def test_progress_rounds_half_up_the_same_for_every_face():
    # Given progress exactly on a half percent, over-achievement, and unknown
    # Then whole percents, half up (the text report, the tree and the detail use this)
    assert format_progress(0.125) == "13%"
    assert format_progress(0.005) == "1%"
    assert format_progress(1.25) == "125%"
    assert format_progress(None) == "—"


def test_short_of_the_target_never_reads_100_percent_nor_fills_the_bar():
    # Given 1,196 of 1,200 (99.7%), 96%, exactly met, and over-achieved
    # Then the percent stops at 99% and the 10-cell bar at 9 until the target is met
    assert format_progress(1196 / 1200) == "99%"
    assert format_progress(0.994) == "99%"
    assert format_progress(1.0) == "100%"
    assert format_progress(1.004) == "100%"
    assert [filled_cells(p, 10) for p in (0.96, 0.997, 1.0, 1.3, 0.45, 0.0)] == [9, 9, 10, 10, 5, 0]


@pytest.mark.parametrize(
    ("gap", "short", "words"),
    [
        # expected 60%, progress 48%: 12 points behind
        (0.60 - 0.48, "12 pts behind", "12 pts behind expected"),
        # one point is a pt, in the digest as on the detail screen
        (0.60 - 0.59, "1 pt behind", "1 pt behind expected"),
        (0.60 - 0.63, "3 pts ahead", "3 pts ahead of expected"),
        (0.001, "on the expected line", "right on the expected line"),
    ],
)
def test_a_gap_reads_in_points_by_one_rule(gap, short, words):
    # Given expected - progress / Then the short and the long words agree
    assert (gap_short(gap), gap_words(gap)) == (short, words)
