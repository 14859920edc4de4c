"""A Board as plain text (pipes, cron mail) or as the JSON object SPEC §1 fixes.

Both only present a Board, so they show the same numbers as the TUI. Text from the spec
or the store is data: it is printed as is, except control characters, which are shown
escaped (`\\x1b`) so a report can never send escape sequences to a terminal.
"""

from __future__ import annotations

import json
import math
import re
import unicodedata
from collections.abc import Iterator
from typing import Any

from kpitui import timeutil
from kpitui.engine.annotations import AnnotationView
from kpitui.engine.board import (
    STATE_GLYPHS,
    STATUS_GLYPHS,
    Board,
    KpiView,
    KrView,
    ObjectiveView,
)
from kpitui.engine.forecast_view import KrForecast
from kpitui.engine.format import filled_cells, format_progress, format_value
from kpitui.literal import UNSAFE, literal

BAR_CELLS = 10
TITLE_CAP = 36  # longer titles push their row's columns right instead of being cut

# -- JSON -----------------------------------------------------------------------------


def _num(value: float | None) -> float | None:
    """A number without float noise: sums of stored values print as 175161.2, not
    175161.19999999998 (12 significant digits are far beyond any KPI's precision).
    JSON has no infinity: a sum that overflowed is null here, `∞` in its display."""
    return None if value is None or not math.isfinite(value) else float(f"{value:.12g}")


def _kpi_json(kpi: KpiView) -> dict[str, Any]:
    return {
        "id": kpi.id,
        "title": kpi.title,
        "metric": kpi.metric,
        "value": _num(kpi.value),
        "display": kpi.display,
        "state": kpi.state,
        "target": _num(kpi.target),
        "previous": _num(kpi.previous),
        "delta": _num(kpi.delta),
        "delta_pct": _num(kpi.delta_pct),
        "last_at": None if kpi.last_at is None else timeutil.iso_utc(kpi.last_at),
    }


def _kr_json(kr: KrView) -> dict[str, Any]:
    return {
        "id": kr.id,
        "title": kr.title,
        "kind": kr.kind,
        "start": _num(kr.start),
        "target": _num(kr.target),
        "current": _num(kr.current),
        "progress_raw": _num(kr.progress_raw),
        "progress": _num(kr.progress),
        "status": kr.status,
        "confidence": kr.confidence,
        "checkin_due": kr.checkin_due,
        **_forecast_json(kr.forecast),
    }


def _forecast_json(forecast: KrForecast | None) -> dict[str, Any]:
    """`forecast` (null without one) and `forecast_note`, why there is none."""
    if forecast is None or not forecast.has_forecast:
        return {"forecast": None, "forecast_note": None if forecast is None else forecast.note}
    return {
        "forecast": {
            "value": _num(forecast.value),
            "progress": _num(forecast.progress),
            "progress_raw": _num(forecast.progress_raw),
            "status": forecast.status,
            "pace_needed": _num(forecast.pace_needed),
            "pace_now": _num(forecast.pace_now),
            "days": forecast.days,
            "target_at": None
            if forecast.target_at is None
            else timeutil.iso_utc(forecast.target_at),
        },
        "forecast_note": None,
    }


def _annotation_json(annotation: AnnotationView) -> dict[str, Any]:
    return {
        "id": annotation.id,
        "time": timeutil.iso_utc(annotation.ts),
        "text": annotation.text,
        "metrics": list(annotation.metrics),
    }


def _objective_json(objective: ObjectiveView) -> dict[str, Any]:
    return {
        "id": objective.id,
        "title": objective.title,
        "owner": objective.owner,
        "progress": _num(objective.progress),
        "expected": _num(objective.expected),
        "status": objective.status,
        "key_results": [_kr_json(kr) for kr in objective.key_results],
        "children": [_objective_json(child) for child in objective.children],
        "forecast": None
        if objective.forecast is None
        else {"progress": _num(objective.forecast.progress), "status": objective.forecast.status},
    }


def board_to_json(board: Board) -> dict[str, Any]:
    """Exactly the keys of SPEC §1: a contract scripts rely on."""
    return {
        "title": board.title,
        "as_of": timeutil.iso_utc(board.as_of),
        "kpis": [_kpi_json(kpi) for kpi in board.kpis],
        "okrs": [_objective_json(objective) for objective in board.okrs],
        "annotations": [_annotation_json(a) for a in board.annotations],
    }


def board_to_json_text(board: Board) -> str:
    """The JSON document, with every control character escaped (C1 and DEL included,
    which `json.dumps` leaves raw when it keeps emoji readable)."""
    text = json.dumps(board_to_json(board), ensure_ascii=False, indent=2, allow_nan=False)
    return UNSAFE.sub(_json_escape, text) + "\n"


def _json_escape(match: re.Match[str]) -> str:
    # Outside strings JSON has only spaces and the indent's newlines; inside, json.dumps
    # escaped C0 controls already: what is left is shown as a \u escape.
    char = match.group()
    return char if char == "\n" else f"\\u{ord(char):04x}"


# -- text -----------------------------------------------------------------------------


def cell_width(text: str) -> int:
    """Terminal cells `text` takes: wide (CJK, emoji) 2, combining marks 0."""
    width = 0
    for ch in text:
        if unicodedata.combining(ch) or ch in "\u200d\ufe0f\ufe0e":
            continue
        width += 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1
    return width


def pad(text: str, width: int, *, right: bool = False) -> str:
    gap = " " * max(0, width - cell_width(text))
    return gap + text if right else text + gap


def progress_bar(progress: float | None, cells: int = BAR_CELLS) -> str:
    """`[#####-----]  45%` in ASCII, so it survives any mail client or terminal."""
    if progress is None:
        return f"[{'.' * cells}]    —"
    filled = filled_cells(progress, cells)
    return f"[{'#' * filled}{'-' * (cells - filled)}] {format_progress(progress):>4}"


def _timezone_label(board: Board) -> str:
    return "local time" if board.timezone == "local" else board.timezone


def _header(board: Board, width: int) -> list[str]:
    tz = timeutil.resolve_timezone(None if board.timezone == "local" else board.timezone)
    as_of = f"as of {timeutil.format_time(board.as_of, tz)} ({_timezone_label(board)})"
    title = literal(board.title)
    room = width - cell_width(title) - cell_width(as_of)
    if room >= 2:
        # Under the whole line: ruled under the as-of's width only, it stopped mid-line.
        return [title + " " * room + as_of, "=" * width]
    return [title, as_of, "=" * min(width, max(cell_width(title), cell_width(as_of)))]


def _kpi_cells(kpi: KpiView) -> list[str]:
    target = literal(kpi.target_display) if kpi.target_display else ""
    note = ""
    if kpi.state == "stale":
        note = f"{kpi.age_display or 'old'} (was {kpi.band})"
    elif kpi.state == "error":
        note = f"error: {literal(kpi.error or 'query failed')}"
    title = literal(kpi.title) + (" ★" if kpi.north_star else "")
    return [
        f"{STATE_GLYPHS.get(kpi.state, '?')} {kpi.state}",
        title,
        literal(kpi.display),
        kpi.delta_display,
        target,
        note,
    ]


def _kpi_table(board: Board) -> list[str]:
    if not board.kpis:
        return ["  (no KPIs)"]
    rows = [["state", "KPI", "value", "change", "target", ""]]
    rows += [_kpi_cells(kpi) for kpi in board.kpis]
    widths = [max(cell_width(r[i]) for r in rows) for i in range(len(rows[0]))]
    widths[1] = min(widths[1], TITLE_CAP)
    lines = []
    for row in rows:
        cells = [
            pad(row[0], widths[0]),
            pad(row[1], widths[1]),
            pad(row[2], widths[2], right=True),
            pad(row[3], widths[3]),
            pad(row[4], widths[4]),
            row[5],
        ]
        lines.append(("  " + "  ".join(cells)).rstrip())
    return lines


def _kr_value(value: float, kr: KrView) -> str:
    """A KR number as the engine says it is shown (its metric's KPI or derived metric);
    a manual KR's count plainly."""
    if kr.metric is not None:
        return format_value(value, kr.format, currency=kr.currency, decimals=kr.decimals)
    if abs(value) >= 100 or float(value).is_integer():
        return format_value(round(value))
    return f"{value:.3g}" if abs(value) < 1 else f"{value:,.2f}".rstrip("0").rstrip(".")


def _kr_line(kr: KrView, depth: int) -> str:
    indent = "  " * depth
    status = f"{STATUS_GLYPHS.get(kr.status, '?')} {kr.status}"
    bar = progress_bar(kr.progress_raw if kr.progress is not None else None)
    parts = [f"{indent}{bar}  {pad(status, 13)} {literal(kr.title)}"]
    if kr.current is not None and kr.target is not None and kr.kind != "milestone":
        parts.append(f"{_kr_value(kr.current, kr)} / {_kr_value(kr.target, kr)}")
    if kr.owner:
        parts.append(f"@{literal(kr.owner)}")
    if kr.confidence:
        parts.append(f"confidence: {literal(kr.confidence)}")
    if kr.checkin_due:
        parts.append("check-in due")
    if kr.error:
        parts.append(f"error: {literal(kr.error)}")
    return "  ·  ".join(parts)


def _forecast_line(kr: KrView, depth: int) -> str | None:
    """`forecast: on pace for 1,800 / 2,000 · 90% ✖ missed · needs +23.3/day, doing
    +20/day`, under its key result; None for a milestone (never forecast)."""
    forecast = kr.forecast
    if forecast is None or kr.kind == "milestone":
        return None
    # Under the title, past the bar and the status.
    indent = "  " * depth + " " * (len(progress_bar(None)) + 2 + 14)
    if not forecast.has_forecast:
        return f"{indent}forecast: {forecast.note}"
    parts = [f"forecast: {forecast.summary} {forecast.status_label}", forecast.pace_display]
    return indent + "  ·  ".join(p for p in parts if p)


def _objective_lines(objective: ObjectiveView, depth: int) -> Iterator[str]:
    indent = "  " * depth
    status = f"{STATUS_GLYPHS.get(objective.status, '?')} {objective.status}"
    line = (
        f"{indent}{progress_bar(objective.progress)}  {pad(status, 13)} {literal(objective.title)}"
    )
    if objective.owner:
        line += f"  ·  @{literal(objective.owner)}"
    if objective.forecast is not None:
        line += f"  ·  forecast {objective.forecast.compact}"
    yield line
    for kr in objective.key_results:
        yield _kr_line(kr, depth + 1)
        forecast = _forecast_line(kr, depth + 1)
        if forecast is not None:
            yield forecast
    for child in objective.children:
        yield from _objective_lines(child, depth + 1)


def board_to_text(board: Board, width: int = 100) -> str:
    """The board as plain, aligned text: KPIs table, then the OKR tree."""
    lines = _header(board, width)
    lines += ["", "KPIs", *_kpi_table(board)]
    if board.okrs:
        expected = round(board.expected * 100)
        lines += ["", f"OKRs  {board.period_label}  ({expected}% of the period elapsed)"]
        for objective in board.okrs:
            lines.extend("  " + line for line in _objective_lines(objective, 0))
    if board.annotations:
        lines += ["", "Annotations"]
        lines += [_annotation_line(a) for a in board.annotations]
    errors = [c for c in board.charts if c.error]
    if errors:
        lines += ["", "Charts"]
        lines += [f"  ⚠ {literal(c.title)}: error: {literal(c.error or '')}" for c in errors]
    return "\n".join(lines) + "\n"


def _annotation_line(annotation: AnnotationView) -> str:
    on = ", ".join(annotation.metrics) or "every chart"
    return f"  {annotation.time_display}  {literal(annotation.text)}  ({literal(on)})"
