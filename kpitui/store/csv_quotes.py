"""What went wrong with the quotes of a CSV record the csv module refused: which hint
fits its error, and which cell passed its field limit and why (a cell that long, or a
quote that never closes — told apart by reading on to the closing quote)."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator

from kpitui.errors import InputError


def quote_hint(error: str) -> str:
    """What to do about a `csv.Error`: with strict=True, each is a quote problem."""
    if "expected after" in error:
        return 'a quote inside a quoted cell is written twice: "say ""hi"""'
    if "end of data" in error:
        return "a quote opened on this line is never closed: close it"
    return "check the quotes on this line"


def kept_lines(lines: Iterable[str], record: list[str]) -> Iterator[str]:
    """`lines`, each also appended to `record` (which the caller clears at each row)."""
    for line in lines:
        record.append(line)
        yield line


def field_past_limit(file: str, start: int, record: list[str], rest: Iterable[str]) -> InputError:
    """Which cell of the record starting at line `start` passed csv's field limit, and
    why: a plain cell that long, a quoted cell that long (it does close), or a quote that
    never closes — told apart by reading on to its closing quote or the end of the file."""
    limit = csv.field_size_limit()
    text = "".join(record)
    pos = 0
    while pos < len(text):
        line = start + text.count("\n", 0, pos)
        if text.startswith('"', pos):
            close = _closing_quote(text, pos + 1)
            if close is None:
                return _open_quoted_cell(file, line, len(text) - pos - 1, text[pos:], rest)
            if close - pos - 1 > limit:
                return _long_cell(file, line, line + text.count("\n", pos, close), close - pos - 1)
            pos = close + 2  # past the quote and its comma or newline
            continue
        ends = [end for end in (text.find(",", pos), text.find("\n", pos)) if end != -1]
        end = min(ends) if ends else len(text)
        if end - pos > limit:
            return _long_cell(file, line, line, end - pos)
        pos = end + 1
    return _long_cell(file, start, start, None)


def _closing_quote(text: str, pos: int) -> int | None:
    """Where the quoted cell that `pos` is inside ends ("" is a quote inside it)."""
    at = text.find('"', pos)
    while at != -1 and text.startswith('""', at):
        at = text.find('"', at + 2)
    return None if at == -1 else at


def _open_quoted_cell(
    file: str, line: int, length: int, cell: str, rest: Iterable[str]
) -> InputError:
    last = line + cell.count("\n")
    for text in rest:  # the rest of the file, a line at a time
        last += 1
        close = _closing_quote(text, 0)
        if close is not None:
            return _long_cell(file, line, last, length + close)
        length += len(text)
    return InputError(
        f"a quote opened on line {line} is never closed",
        file=file,
        line=line,
        hint="close it, or delete it",
    )


def _long_cell(file: str, first: int, last: int, length: int | None) -> InputError:
    limit = csv.field_size_limit()
    what = f"a cell is longer than {limit:,} characters"
    if length is not None:
        lines = f"line {first}" if first == last else f"lines {first} to {last}"
        what += f": the cell on {lines} holds {length:,}"
    return InputError(
        what, file=file, line=first, hint="a cell holds a metric name, a time, a value or a label"
    )
