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


def json_text(value: Any, *, indent: int | None = 2) -> str:
    """`value` as a JSON document (indented, or on one line with `indent=None`), readable
    (emoji and accents as they are) yet with every character `UNSAFE` names escaped as
    `\\uXXXX` — the C1 controls, DEL, separators and bidi overrides that `json.dumps`
    leaves raw when it keeps text readable. Every JSON output of kpitui (stdout, files,
    webhooks, an alert command's stdin) is written with this, so none of them can send
    escape sequences to a terminal, and each still decodes to the text stored."""
    text = json.dumps(value, ensure_ascii=False, indent=indent, allow_nan=False)
    return UNSAFE.sub(_json_escape, text) + "\n"


QUOTE_LIMIT = 80
"""The most characters of an offending value an error line quotes."""


def quoted(value: object, limit: int = QUOTE_LIMIT) -> str:
    """`value` as an error message quotes it: its `repr`, or, past `limit` characters,
    the first `limit` of them, "…" and its length — so a 100 MB cell or a 5 MB time
    still makes one readable line. Every message quoting a user's value uses this."""
    if isinstance(value, str):
        if len(value) <= limit:
            return repr(value)
        return f"{value[:limit] + '…'!r} ({len(value):,} characters)"
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 3 * limit:
        if value.bit_length() > 14_000:  # repr() of an int past 4,300 digits raises
            return f"a number of {_digits(value):,} digits"
        digits = str(value)
        return f"{digits[:limit]}… ({len(digits.lstrip('-')):,} digits)"
    text = repr(value)
    if len(text) <= limit:
        return text
    return f"{text[:limit]}… ({len(text):,} characters)"


def _digits(value: int) -> int:
    # Without converting it to text (refused past 4,300 digits, and slow): 10**k <= |v|.
    from math import log10

    value = abs(value)
    guess = int(value.bit_length() * log10(2))
    return guess + 1 if value >= 10**guess else guess


# Past `quoted`'s own cut (its limit and the "…"), so a quoted value is not cut twice.
# A quote opens where no letter is before it and closes where none is after it: the
# apostrophe of "the source's max_rows" is no quote.
_LONG_QUOTE = re.compile(
    f"(?<![^\\W_])'([^'\\n]{{{QUOTE_LIMIT + 2},}})'(?![^\\W_])|\"([^\"\\n]{{{QUOTE_LIMIT + 2},}})\""
)
MESSAGE_LIMIT = 6 * QUOTE_LIMIT
"""The most characters of one message (before its hint) an error line keeps."""


def shortened(message: str) -> str:
    """A message written by someone else (argparse, a database driver) with every
    quoted value cut as `quoted` cuts it, and the whole kept to MESSAGE_LIMIT."""
    text = _LONG_QUOTE.sub(lambda m: quoted(m.group(1) or m.group(2)), message)
    if len(text) > MESSAGE_LIMIT:
        text = f"{text[:MESSAGE_LIMIT]}… ({len(message):,} characters)"
    return text
