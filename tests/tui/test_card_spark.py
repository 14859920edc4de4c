"""The card's sparkline draws exactly what Textual's `Sparkline` renderable draws."""

from __future__ import annotations

import random

import pytest
from rich.color import Color
from rich.console import Console
from rich.style import Style
from textual.renderables.sparkline import Sparkline

from kpitui.tui.widgets.card_lines import draw_spark

BASE = Style(color="white", bgcolor=Color.from_rgb(20, 20, 30))
LOW = Color.from_rgb(0, 60, 120)
HIGH = Color.from_rgb(240, 180, 0)


def _cells(strips) -> list[list[tuple[str, Style]]]:
    return [[(ch, seg.style) for seg in strip for ch in seg.text] for strip in strips]


def _textual(data, width, height, low=LOW, high=HIGH):
    console = Console(width=width, color_system="truecolor", legacy_windows=False)
    options = console.options.update_dimensions(width, height)
    spark = Sparkline(list(data), width=width, height=height, min_color=low, max_color=high)
    return console.render_lines(spark, options, style=BASE, pad=True)


CASES = [
    ([], 10, 1),
    ([], 10, 2),
    ([5.0], 8, 2),
    ([1.0, 1.0, 1.0], 6, 1),  # flat: every bar at the bottom
    ([0.0, 1.0], 9, 1),  # fewer points than columns
    ([3.0, 1.0, 4.0, 1.0, 5.0, 9.0, 2.0, 6.0], 4, 2),  # more points than columns
    ([-2.5, 0.0, 7.25, -1e6, 1e6], 35, 2),
]


@pytest.mark.parametrize(("data", "width", "height"), CASES)
def test_worked_cases_match_textual(data, width, height):
    assert _cells(draw_spark(data, width, height, LOW, HIGH, BASE)) == _cells(
        _textual(data, width, height)
    )


def test_random_series_match_textual():
    rng = random.Random(7)
    for _ in range(300):
        n = rng.choice([2, 3, 7, 30, 31, 90, 365, 400])
        data = [rng.uniform(-100, 100) if rng.random() > 0.1 else 0.0 for _ in range(n)]
        width, height = rng.randint(1, 160), rng.randint(1, 3)
        mine = draw_spark(data, width, height, LOW, HIGH, BASE)
        assert all(strip.cell_length == width for strip in mine)
        assert _cells(mine) == _cells(_textual(data, width, height)), (n, width, height)


def test_a_colourless_end_takes_the_other_colour_as_textual_does():
    data = [1.0, 2.0, 3.0]
    plain = Color.default()
    assert _cells(draw_spark(data, 5, 1, plain, HIGH, BASE)) == _cells(
        _textual(data, 5, 1, low=plain)
    )


def test_a_row_is_a_few_runs_not_a_segment_per_cell():
    strip = draw_spark([1.0] * 10 + [5.0] * 10, 40, 1, LOW, HIGH, BASE)[0]
    assert len(list(strip)) == 2


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        # the span from -1e308 to 1e308 is beyond the float range
        ([-1e308, 1e308], "▁▁▁▁▁█████"),
        # a sum that overflowed: drawn at the top, with the highest; a NaN at the bottom
        ([1.0, float("inf"), 2.0, float("nan")], "▁▁▁█████▁▁"),
        ([float("inf"), float("inf")], "▁▁▁▁▁▁▁▁▁▁"),
    ],
)
def test_values_at_the_float_limit_draw_instead_of_crashing(data, expected):
    (strip,) = draw_spark(data, 10, 1, LOW, HIGH, BASE)
    assert strip.text == expected


def test_buckets_without_data_are_blank_columns():
    # Given a trend with two gaps: one in the middle and the newest two buckets
    data = [1.0, 2.0, None, 4.0, None, None]
    # When drawn one column per bucket
    (row,) = _cells(draw_spark(data, 6, 1, LOW, HIGH, BASE))
    # Then the gaps are blank on the card's background, the rest as without them
    assert "".join(ch for ch, _ in row) == "▁▃ █  "
    assert row[2][1] == BASE and row[5][1] == BASE
    (known,) = _cells(draw_spark([1.0, 2.0, 4.0], 3, 1, LOW, HIGH, BASE))
    assert [row[i] for i in (0, 1, 3)] == known
    # And a trend of gaps only is the empty trend's bottom line
    assert _cells(draw_spark([None, None], 4, 1, LOW, HIGH, BASE)) == _cells(
        draw_spark([], 4, 1, LOW, HIGH, BASE)
    )
