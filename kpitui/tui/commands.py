"""The command palette (Ctrl+P): jump to any KPI, chart or objective, or open its detail.

Titles come from the spec: the hits are built as plain `Content` and highlighted by
hand, because Textual's `Matcher.highlight` parses its text as markup (a KPI titled
`[b]x[/]` would be styled, and `[/]` would raise).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import partial
from typing import Any

from msgspec import Struct
from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.content import Content

from kpitui.engine.board import Board, iter_objectives
from kpitui.tui.text import safe_plain


class PaletteCommand(Struct, frozen=True):
    text: str
    help: str
    run: Callable[[], object]


def board_commands(app: Any, board: Board) -> Iterator[PaletteCommand]:
    """Every palette command for a board, in board order."""
    for kpi in board.kpis:
        title = safe_plain(kpi.title)
        yield PaletteCommand(
            f"Go to {title}", "Focus this KPI's card", partial(app.go_to, "kpi", kpi.id)
        )
        yield PaletteCommand(
            f"Open {title} detail",
            "Full chart, ranges and breakdown",
            partial(app.open_kpi_detail, kpi.id),
        )
    for chart in board.charts:
        title = safe_plain(chart.title)
        yield PaletteCommand(
            f"Go to chart {title}", "Focus this chart", partial(app.go_to, "chart", chart.id)
        )
        yield PaletteCommand(
            f"Open chart {title} detail",
            "The chart full size, with its series and lines",
            partial(app.open_chart_detail, chart.id),
        )
    for objective in iter_objectives(board.okrs):
        title = safe_plain(objective.title)
        yield PaletteCommand(
            f"Go to objective {title}",
            "Show it in the OKR tree",
            partial(app.go_to, "objective", objective.id),
        )
        yield PaletteCommand(
            f"Open objective {title} detail",
            "Progress history against the expected line",
            partial(app.open_kr_detail, "objective", objective.id),
        )
        for kr in objective.key_results:
            yield PaletteCommand(
                f"Open key result {safe_plain(kr.title)} detail",
                "Progress history and check-ins",
                partial(app.open_kr_detail, "kr", kr.id),
            )


def _highlight(text: str, offsets: tuple[int, ...], style: Any) -> Content:
    content = Content(text)
    for offset in offsets:
        if not text[offset].isspace():
            content = content.stylize(style, offset, offset + 1)
    return content


class KpituiCommands(Provider):
    """Go to / open every KPI, chart, objective and key result of the board."""

    def _commands(self) -> list[PaletteCommand]:
        board = getattr(self.app, "board", None)
        if board is None:
            return []
        return list(board_commands(self.app, board))

    async def discover(self) -> Hits:
        for command in self._commands():
            yield DiscoveryHit(
                Content(command.text), command.run, text=command.text, help=command.help
            )

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for command in self._commands():
            score, offsets = matcher.fuzzy_search.match(query, command.text)
            if score > 0:
                yield Hit(
                    score,
                    _highlight(command.text, offsets, matcher.match_style),
                    command.run,
                    text=command.text,
                    help=command.help,
                )
