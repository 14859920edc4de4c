"""A Digest laid out as plain text (a plain mail), Markdown (a channel post) or HTML
with inline styles (mail clients drop style sheets). Layout only: every word and number
is a Digest field. Text from the spec or the store is shown literally in each format
(escaped for Markdown and HTML, control characters made visible everywhere)."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator

from kpitui.alerting.digest import ChangeLine, Digest, KpiLine
from kpitui.engine.board import STATE_GLYPHS, STATUS_GLYPHS
from kpitui.literal import literal


def render(digest: Digest, fmt: str) -> str:
    if fmt == "markdown":
        return to_markdown(digest)
    if fmt == "html":
        return to_html(digest)
    return to_text(digest)


def _states(line: ChangeLine) -> str:
    if line.from_state == line.to_state:
        return f"still {line.to_state}"
    return f"{line.from_state or 'at start'} → {line.to_state}"


def _glyph(state: str) -> str:
    return STATE_GLYPHS.get(state) or STATUS_GLYPHS.get(state) or "●"


def _target(line: KpiLine) -> str:
    return f"target {line.target_display}" if line.target_display else "no target"


def _no_history(d: Digest) -> str:
    if d.history_kept:
        return "No state changes in the span."
    return "No alert history in the store: run `kpitui watch` to keep one."


# -- text ------------------------------------------------------------------------------


MAIL_WIDTH = 78
"""Columns of a plain mail's line (RFC 5322's advice): wider ones are wrapped by the
reader's client, and a table then reads as a jumble."""


def _table(rows: list[list[str]]) -> list[str]:
    """The rows as aligned columns; when they are too wide for a mail, the columns that
    do not fit go on a second line under the title (aligned among themselves)."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    fit, used = len(widths), 2 + sum(widths) + 2 * (len(widths) - 1)
    while fit > 2 and used > MAIL_WIDTH:
        fit -= 1
        used -= widths[fit] + 2
    # Under the title: the first column wider than a glyph.
    title = next((i for i, w in enumerate(widths) if w > 2), 0)
    indent = 2 + sum(widths[:title]) + 2 * title
    lines: list[str] = []
    for row in rows:
        lines.append(
            "  " + "  ".join(c.ljust(w) for c, w in zip(row[:fit], widths, strict=False)).rstrip()
        )
        rest = "  ".join(c.ljust(w) for c, w in zip(row[fit:], widths[fit:], strict=True)).rstrip()
        if rest:
            lines.append(" " * indent + rest)
    return lines


def to_text(d: Digest) -> str:
    out = [
        literal(f"{d.title}: the last {d.span}"),
        literal(f"{d.since} to {d.as_of} · period {d.period}, {d.expected} elapsed"),
        "",
    ]

    def section(title: str, rows: list[list[str]], empty: str) -> None:
        out.append(f"{title} ({len(rows)})" if rows else title)
        out.extend(_table([[literal(c) for c in row] for row in rows]) if rows else [f"  {empty}"])
        out.append("")

    section(
        "Off target",
        [
            [_glyph(k.state), k.title, k.display, _target(k), k.change, k.trend, k.why]
            for k in d.off_target
        ],
        "Every KPI is on target.",
    )
    section(
        "State changes",
        [[c.time, _glyph(c.to_state), c.title, _states(c), c.display or ""] for c in d.changes],
        _no_history(d),
    )
    section(
        "Key results behind",
        [
            [
                _glyph(k.status),
                k.title,
                k.owner or "",
                k.status,
                f"{k.progress} done, {k.expected} expected",
                k.gap_display,
                k.forecast,
            ]
            for k in d.key_results
        ],
        "Every key result is on track.",
    )
    section(
        "Check-ins due",
        [[c.title, c.owner or "no owner", f"last check-in {c.last}"] for c in d.checkins_due],
        "None due.",
    )
    section(
        "Biggest movers",
        [[m.title, m.change, m.trend] for m in d.movers],
        f"Nothing moved in the last {d.span}.",
    )
    return "\n".join(out).rstrip() + "\n"


# -- markdown --------------------------------------------------------------------------

# What starts emphasis, code, a link, HTML or a table cell inside a line.
_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>|~])")


def _md(text: object) -> str:
    return _MD_SPECIAL.sub(r"\\\1", literal(text))


def to_markdown(d: Digest) -> str:
    out = [
        f"## {_md(d.title)}: the last {d.span}",
        "",
        f"{_md(d.since)} to {_md(d.as_of)} · period {_md(d.period)}, {_md(d.expected)} elapsed",
        "",
    ]

    def section(title: str, items: list[str], empty: str) -> None:
        out.append(f"### {title}")
        out.append("")
        out.extend([f"- {item}" for item in items] or [_md(empty)])
        out.append("")

    section(
        "Off target",
        [
            f"{_glyph(k.state)} **{_md(k.title)}** {_md(k.display)} ({_md(_target(k))}), "
            f"{_md(k.change)} {k.trend}: {_md(k.why)}"
            for k in d.off_target
        ],
        "Every KPI is on target.",
    )
    section(
        "State changes",
        [
            f"{_md(c.time)} {_glyph(c.to_state)} **{_md(c.title)}** {_md(_states(c))}"
            + (f" ({_md(c.display)})" if c.display else "")
            for c in d.changes
        ],
        _no_history(d),
    )
    section(
        "Key results behind",
        [
            f"{_glyph(k.status)} **{_md(k.title)}**"
            + (f" ({_md(k.owner)})" if k.owner else "")
            + f": {_md(k.status)}, {_md(k.progress)} done, {_md(k.expected)} expected,"
            f" {_md(k.gap_display)}"
            + (f"; {_md(k.forecast)}" if k.forecast else "")
            for k in d.key_results
        ],
        "Every key result is on track.",
    )
    section(
        "Check-ins due",
        [
            f"**{_md(c.title)}** ({_md(c.owner or 'no owner')}): last check-in {_md(c.last)}"
            for c in d.checkins_due
        ],
        "None due.",
    )
    section(
        "Biggest movers",
        [f"**{_md(m.title)}** {_md(m.change)} {m.trend}".rstrip() for m in d.movers],
        f"Nothing moved in the last {d.span}.",
    )
    return "\n".join(out).rstrip() + "\n"


# -- html ------------------------------------------------------------------------------

_COLOURS = {
    "crit": "#b00020", "missed": "#b00020", "off_track": "#b00020", "error": "#b00020",
    "warn": "#9a6700", "at_risk": "#9a6700", "stale": "#666666", "no_data": "#666666",
    "ok": "#1a7f37", "on_track": "#1a7f37", "achieved": "#1a7f37",
}  # fmt: skip
_TABLE = "border-collapse:collapse;margin:4px 0 16px 0;font-size:14px"
_CELL = (
    "padding:4px 10px;border-bottom:1px solid #e5e5e5;text-align:left;vertical-align:top;"
    "white-space:nowrap"
)
_TREND_COLOURS = {"better": "#1a7f37", "worse": "#b00020"}
_H2 = "font-size:16px;margin:16px 0 4px 0;color:#222"


def _h(text: object) -> str:
    return html.escape(literal(text), quote=True)


def _state_cell(state: str) -> str:
    colour = _COLOURS.get(state, "#444444")
    return f'<span style="color:{colour};font-weight:bold">{_glyph(state)} {_h(state)}</span>'


def _trend_cell(trend: str) -> str:
    colour = _TREND_COLOURS.get(trend, "#444444")
    return f'<span style="color:{colour}">{_h(trend)}</span>'


def _rows(rows: list[list[str]]) -> Iterator[str]:
    for row in rows:
        yield "<tr>" + "".join(f'<td style="{_CELL}">{cell}</td>' for cell in row) + "</tr>"


def to_html(d: Digest) -> str:
    out = [
        "<!DOCTYPE html>",
        '<html><head><meta charset="utf-8"><title>' + _h(d.title) + "</title></head>",
        '<body style="font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;'
        'color:#222;max-width:760px">',
        f'<h1 style="font-size:20px;margin:0 0 4px 0">{_h(d.title)}: the last {_h(d.span)}</h1>',
        f'<p style="margin:0 0 8px 0;color:#555">{_h(d.since)} to {_h(d.as_of)} · period '
        f"{_h(d.period)}, {_h(d.expected)} elapsed</p>",
    ]

    def section(title: str, rows: list[list[str]], empty: str) -> None:
        out.append(f'<h2 style="{_H2}">{title}</h2>')
        if not rows:
            out.append(f'<p style="margin:0 0 16px 0;color:#555">{_h(empty)}</p>')
            return
        out.append(f'<table style="{_TABLE}">')
        out.extend(_rows(rows))
        out.append("</table>")

    section(
        "Off target",
        [
            [
                _state_cell(k.state),
                f"<b>{_h(k.title)}</b>",
                _h(k.display),
                _h(_target(k)),
                _h(k.change),
                _trend_cell(k.trend),
                _h("" if k.why == k.state else k.why),
            ]
            for k in d.off_target
        ],
        "Every KPI is on target.",
    )
    section(
        "State changes",
        [
            [
                _h(c.time),
                _state_cell(c.to_state),
                f"<b>{_h(c.title)}</b>",
                _h(_states(c)),
                _h(c.display or ""),
            ]
            for c in d.changes
        ],
        _no_history(d),
    )
    section(
        "Key results behind",
        [
            [
                _state_cell(k.status),
                f"<b>{_h(k.title)}</b>",
                _h(k.owner or ""),
                _h(f"{k.progress} done, {k.expected} expected"),
                _h(k.gap_display),
                _h(k.forecast),
            ]
            for k in d.key_results
        ],
        "Every key result is on track.",
    )
    section(
        "Check-ins due",
        [
            [f"<b>{_h(c.title)}</b>", _h(c.owner or "no owner"), _h(f"last check-in {c.last}")]
            for c in d.checkins_due
        ],
        "None due.",
    )
    section(
        "Biggest movers",
        [[f"<b>{_h(m.title)}</b>", _h(m.change), _trend_cell(m.trend)] for m in d.movers],
        f"Nothing moved in the last {d.span}.",
    )
    out.append("</body></html>")
    return "\n".join(out) + "\n"
