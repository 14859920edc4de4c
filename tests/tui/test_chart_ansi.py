"""The chart's ANSI decoding gives exactly what Rich's `Text.from_ansi` gives."""

from __future__ import annotations

import plotext as plt
import pytest
from rich.console import Console
from rich.text import Text

from kpitui.tui.widgets.chart_canvas import ansi_text

CONSOLE = Console(width=200, color_system="truecolor", legacy_windows=False)


def _cells(text: Text) -> list[tuple[str, object]]:
    return [(ch, seg.style) for seg in CONSOLE.render(text) for ch in seg.text]


def _same(ansi: str) -> None:
    mine, rich = ansi_text(ansi), Text.from_ansi(ansi)
    assert mine.plain == rich.plain
    assert _cells(mine) == _cells(rich)


def _plotext(theme: str, marker: str, color) -> str:
    plt.clear_figure()
    plt.theme(theme)
    plt.plotsize(70, 16)
    plt.plot(list(range(40)), [((i * 7) % 13) - 3.5 for i in range(40)], marker=marker, color=color)
    plt.plot(list(range(0, 40, 3)), [i % 5 for i in range(0, 40, 3)], marker="x", color="red+")
    plt.horizontal_line(2.5, color=(230, 40, 60))
    plt.text("target", x=39, y=2.5, alignment="right", color="blue")
    plt.xticks([0, 20, 39], ["Jan 01", "Jan 21", "Feb 09"])
    plt.frame(True)
    return plt.build()


@pytest.mark.parametrize("theme", ["clear", "pro", "dark", "default", "matrix", "elegant"])
@pytest.mark.parametrize(("marker", "color"), [("braille", (0, 150, 230)), ("•", None)])
def test_plotext_output_decodes_as_rich_decodes_it(theme, marker, color):
    ansi = _plotext(theme, marker, color)
    assert "\x1b[" in ansi or theme == "clear"
    _same(ansi)


@pytest.mark.parametrize(
    "ansi",
    [
        "",
        "plain\nlines\n",
        "\x1b[1;38;2;10;20;30mbold\ncarried over a break\x1b[0m after\n\n",
        "\x1b[48;5;3m\x1b[38;5;12mx\x1b[0m\x1b[m y \x1b[4munder\x1b[0m",
        "\x1b[38;2;1;2;3m\n\nafter two breaks",
        "\x1b[2Jcleared\x1b[Kline",  # not colour codes: decoded by Rich itself
        "over\rwritten",
        # one code after two different styles: what it leads to depends on what it follows
        "\x1b[31ma\x1b[1mb\x1b[0m \x1b[34mc\x1b[1md\x1b[0m",
        "\x1b]8;;https://example.com\x1b\\link\x1b]8;;\x1b\\",
    ],
)
def test_worked_escapes_decode_as_rich_decodes_them(ansi):
    _same(ansi)
