"""Text from a spec or a store, made safe to print: shown literally, never interpreted."""

from __future__ import annotations

import json
import re
from typing import Any

# C0 and C1 controls, DEL, line/paragraph separators and the bidi overrides that can
# reorder what a terminal shows; and lone surrogates, which no UTF-8 output can encode
# (a spec's "\ud800" escape, or a file name's byte that was not UTF-8).
UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    if char in _NAMED:
        return _NAMED[char]
    code = ord(char)
    if 0xDC80 <= code <= 0xDCFF:
        # How Python keeps a byte that was not UTF-8 (a file name, an argument): the byte.
        code -= 0xDC00
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def literal(text: object) -> str:
    """`text` with control characters replaced by visible escapes (`\\x1b`, `\\n`);
    everything else, emoji and `[markup]` included, unchanged."""
    return UNSAFE.sub(_escape, "" if text is None else str(text))


def _json_escape(match: re.Match[str]) -> str:
    # Outside strings JSON has only spaces and the indent's newlines; inside, json.dumps
    # escaped C0 controls already: what is left is shown as a \u escape.
    char = match.group()
    return char if char == "\n" else f"\\u{ord(char):04x}"


def json_text(value: Any) -> str:
    """`value` as an indented JSON document, readable (emoji and accents as they are)
    yet with every character `UNSAFE` names escaped as `\\uXXXX` — the C1 controls, DEL,
    separators and bidi overrides that `json.dumps` leaves raw when it keeps text
    readable. Every JSON output of kpitui is written with this, so none of them can
    send escape sequences to a terminal, and each still decodes to the text stored."""
    text = json.dumps(value, ensure_ascii=False, indent=2, allow_nan=False)
    return UNSAFE.sub(_json_escape, text) + "\n"
