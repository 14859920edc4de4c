"""A Board as plain text (pipes, cron mail) or as the JSON object SPEC §1 fixes.

Both only present a Board, so they show the same numbers as the TUI. Text from the spec
or the store is data: it is printed as is, except control characters, which are shown
escaped (`\\x1b`) so a report can never send escape sequences to a terminal.
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Iterator
from typing import Any

from kpitui.engine.annotations import AnnotationView
from kpitui.engine.board import (
    BAR_CELLS,
    Board,
    ChartSeries,
    ChartView,
    KpiView,
    KrView,
    ObjectiveView,
    StateChange,
)
from kpitui.engine.forecast_view import KrForecast
from kpitui.engine.pulls import PullHealth
from kpitui.literal import json_text, literal

TITLE_CAP = 36  # longer titles push their row's columns right instead of being cut

# -- JSON -----------------------------------------------------------------------------


def _num(value: float | None) -> float | None:
    """A number without float noise: sums of stored values print as 175161.2, not
    175161.19999999998 (12 significant digits are far beyond any KPI's precision).
    JSON has no infinity: a sum that overflowed is null here, `∞` in its display."""
    return None if value is None or not math.isfinite(value) else float(f"{value:.12g}")


def _buckets_json(buckets: tuple[tuple[str, float | None], ...]) -> list[dict[str, Any]]:
    return [{"start": start, "value": _num(value)} for start, value in buckets]


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
        "last_at": kpi.last_at_iso,
        "direction": kpi.direction,
        "warn": _num(kpi.warn),
        "crit": _num(kpi.crit),
        "agg": kpi.agg,
        "window": kpi.window,
        "format": kpi.format,
        "stale": kpi.stale,
        "stale_reason": kpi.stale_reason,
        "indicator": kpi.indicator,
        "north_star": kpi.north_star,
        "spark": _buckets_json(kpi.spark_buckets),
    }


def _chart_json(chart: ChartView) -> dict[str, Any]:
    return {
        "id": chart.id,
        "title": chart.title,
        "agg": chart.agg,
        "bucket": chart.bucket_label,
        "series": [
            {
                "name": s.name,
                "labels": dict(s.labels),
                "buckets": _buckets_json(s.buckets_iso),
                "compare": _compare_json(chart, s),
            }
            for s in chart.series
        ],
    }


def _compare_json(chart: ChartView, series: ChartSeries) -> dict[str, Any] | None:
    """`series`' comparison line, bucket by bucket against its own (`start` is the
    bucket it is drawn against; `offset` seconds earlier is when it was measured)."""
    earlier = chart.comparison_of(series)
    if earlier is None or chart.comparison_label is None:
        return None
    return {
        "label": chart.comparison_label,
        "offset": chart.comparison_offset,
        "buckets": _buckets_json(earlier.buckets_iso),
    }


def _alert_json(alert: StateChange) -> dict[str, Any]:
    return {
        "time": alert.at_iso,
        alert.subject: alert.kpi_id,
        "from": alert.old_state or None,
        "to": alert.new_state,
        "value": _num(alert.value),
        "display": alert.display,
    }


def _annotation_json(mark: AnnotationView) -> dict[str, Any]:
    return {"id": mark.id, "time": mark.time_iso, "text": mark.text, "metrics": list(mark.metrics)}


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
            "target_at": forecast.target_at_iso,
        },
        "forecast_note": None,
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
    """The keys of SPEC §1 (a contract scripts rely on: keys are added, never taken away),
    each documented in docs/spec.md."""
    return {
        "title": board.title,
        "as_of": board.as_of_iso,
        "kpis": [_kpi_json(kpi) for kpi in board.kpis],
        "okrs": [_objective_json(objective) for objective in board.okrs],
        "period": {
            "id": board.period_label,
            "start": board.period_start_iso,
            "end": board.period_end_iso,
            "elapsed": _num(board.expected),
        },
        "charts": [_chart_json(chart) for chart in board.charts],
        "alerts": [_alert_json(alert) for alert in board.alerts],
        "annotations": [_annotation_json(mark) for mark in board.annotations],
        "pulls": [_pull_json(pull) for pull in board.pulls],
    }


def _pull_json(pull: PullHealth) -> dict[str, Any]:
    return {
        "id": pull.pull_id,
        "metric": pull.metric,
        "condition": pull.condition,
        "since": pull.since_iso,
        "message": pull.message,
    }


def board_to_json_text(board: Board) -> str:
    """The JSON document, escaped by the one rule of every JSON output (`json_text`)."""
    return json_text(board_to_json(board))


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


def progress_bar(node: KrView | ObjectiveView) -> str:
    """`[#####-----]  45%` in ASCII, so it survives any mail client or terminal: the
    node's own bar cells and percent."""
    filled = node.bar_cells
    if filled is None:
        return f"[{'.' * BAR_CELLS}]    —"
    return f"[{'#' * filled}{'-' * (BAR_CELLS - filled)}] {node.progress_display:>4}"


def _header(board: Board, width: int) -> list[str]:
    as_of = f"as of {board.as_of_display} ({board.timezone_label})"
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
        if kpi.stale_reason:
            note += f", {literal(kpi.stale_reason)}"
    elif kpi.state == "error":
        note = f"error: {literal(kpi.error or 'query failed')}"
    title = literal(kpi.title) + (" ★" if kpi.north_star else "")
    return [
        kpi.state_label,
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


def _kr_line(kr: KrView, depth: int) -> str:
    indent = "  " * depth
    parts = [f"{indent}{progress_bar(kr)}  {pad(kr.status_label, 13)} {literal(kr.title)}"]
    if kr.current is not None and kr.target is not None and kr.kind != "milestone":
        parts.append(f"{literal(kr.current_display)} / {literal(kr.target_display)}")
    if kr.owner:
        parts.append(f"@{literal(kr.owner)}")
    if kr.confidence_label:
        parts.append(f"confidence: {literal(kr.confidence_label)}")
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
    indent = "  " * depth + " " * (BAR_CELLS + 7 + 2 + 14)
    if not forecast.has_forecast:
        return f"{indent}forecast: {forecast.note}"
    parts = [f"forecast: {forecast.summary} {forecast.status_label}", forecast.pace_display]
    return indent + "  ·  ".join(p for p in parts if p)


def _objective_lines(objective: ObjectiveView, depth: int) -> Iterator[str]:
    indent = "  " * depth
    status = objective.status_label
    line = f"{indent}{progress_bar(objective)}  {pad(status, 13)} {literal(objective.title)}"
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
    if board.pulls:
        lines += [""] + [f"⚠ {literal(pull.message)}" for pull in board.pulls]
    lines += ["", "KPIs", *_kpi_table(board)]
    if board.okrs:
        lines += [
            "",
            f"OKRs  {board.period_label}  ({board.expected_display} of the period elapsed)",
        ]
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
