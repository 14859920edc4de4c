"""Long and wide CSV imports, read in blocks and written in chunks.

Every cell is checked column by column: the first bad one — a value that is not a finite
number, a time that is not a time, a bad metric name, a missing column — raises
InputError with its physical line number (the header is line 1).

The fast path: most exports are plain `name,1732406400,12.5,eu` lines. A 512 KB block
of those is split with `str.split` and columns are taken by slicing, then converted with
`map(int, …)`/`map(float, …)`: every step runs in C, which is what lets an import pass
400,000 points/s (SPEC §5). A block with quotes, blank lines or ragged rows, and every
row after it, goes through the `csv` module instead.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Callable, Iterable, Iterator, Sequence
from itertools import chain, repeat
from typing import IO

from msgspec import Struct

from kpitui.errors import InputError
from kpitui.literal import quoted
from kpitui.store.api import WriteBatch
from kpitui.store.checks import FINITE_HINT, METRIC_NAME_HINT, is_metric_name
from kpitui.store.csv_options import (
    CsvOptions,
    NumberForm,
    find_time_column,
    no_time_column,
    number_hint,
    sniff_separator,
)
from kpitui.store.csv_quotes import field_past_limit, kept_lines, quote_hint
from kpitui.store.times import EARLIEST, LATEST, TimeProblem, point_time

_BLOCK = 1 << 19  # characters the fast path reads at a time
_CHUNK = 50_000  # rows per `batch.add` once in the csv module: memory stays flat

PLAIN = CsvOptions()
"""No flags: the separator read off the header, numbers as 1234.5."""

LONG_HEADER_HINT = "a long CSV has a header with metric,time,value and any label columns"


# -- converting columns (shared by long and wide CSV) ---------------------------------


_DATE_DIGITS = (10_000_000, 100_000_000)


def times_of(cells: Sequence[str], file: str, line_of: Callable[[int], int]) -> list[int]:
    try:
        out = list(map(int, cells))  # the common case: epoch seconds
        # 8-digit numbers are YYYYMMDD dates (as epochs they fall in 1970–1973).
        fast = not out or min(out) >= _DATE_DIGITS[1] or max(out) < _DATE_DIGITS[0]
    except ValueError:
        fast = False
    if not fast:
        memo: dict[str, int] = {}
        out = []
        for i, cell in enumerate(cells):
            if cell not in memo:
                try:
                    memo[cell] = point_time(cell)
                except TimeProblem as exc:
                    raise InputError(
                        exc.message, file=file, line=line_of(i), hint=exc.hint
                    ) from None
            out.append(memo[cell])
    elif out and (min(out) < EARLIEST or max(out) > LATEST):
        # The shared rule says why (a bare year, or out of range) and how to fix it.
        i = next(i for i, t in enumerate(out) if not EARLIEST <= t <= LATEST)
        try:
            point_time(cells[i])
            raise TimeProblem(f"time {quoted(cells[i])} is out of range")  # not reached
        except TimeProblem as exc:
            raise InputError(exc.message, file=file, line=line_of(i), hint=exc.hint) from None
    return out


def values_of(
    cells: Sequence[str], file: str, line_of: Callable[[int], int], numbers: NumberForm
) -> list[float]:
    convert = float if numbers.plain else numbers
    try:
        out = list(map(convert, cells))
    except ValueError:
        for i, cell in enumerate(cells):
            try:
                convert(cell)
            except ValueError:
                if cell.strip():
                    what, hint = f"{quoted(cell)} is not a number", number_hint(cell, numbers)
                else:
                    what, hint = "the value is empty", "fill it in, or delete the row"
                raise InputError(what, file=file, line=line_of(i), hint=hint) from None
        raise
    if not math.isfinite(sum(out)):  # any NaN/inf makes the sum non-finite
        for i, value in enumerate(out):
            if not math.isfinite(value):
                raise InputError(
                    f"{quoted(cells[i])} is not a finite number",
                    file=file,
                    line=line_of(i),
                    hint=FINITE_HINT,
                )
    return out


def _check_metrics(cells: Sequence[str], file: str, line_of: Callable[[int], int]) -> None:
    bad = [name for name in set(cells) if not is_metric_name(name)]
    # " lat" (a CSV written with ", ") is lat: the series lookup strips it.
    bad = [name for name in bad if not is_metric_name(name.strip())]
    if bad:
        i = min(cells.index(name) for name in bad)
        raise InputError(
            f"{quoted(cells[i])} is not a metric name",
            file=file,
            line=line_of(i),
            hint=METRIC_NAME_HINT,
        )


class SeriesIds:
    """(metric, label cells…) → series id, creating series on first sight."""

    def __init__(self, batch: WriteBatch, label_names: Sequence[str]) -> None:
        self.batch, self.label_names = batch, list(label_names)
        self.ids: dict[tuple[str, ...], int] = {}

    def __call__(self, metrics: Sequence[str], labels: Sequence[Sequence[str]]) -> int | list[int]:
        if len(set(metrics)) == 1 and all(len(set(c)) == 1 for c in labels):
            return self.lookup((metrics[0], *(c[0] for c in labels)))
        try:
            return list(map(self.ids.__getitem__, zip(metrics, *labels, strict=True)))
        except KeyError:
            for key in set(zip(metrics, *labels, strict=True)):
                self.lookup(key)
            return list(map(self.ids.__getitem__, zip(metrics, *labels, strict=True)))

    def lookup(self, key: tuple[str, ...]) -> int:
        found = self.ids.get(key)
        if found is None:
            # "eu" and " eu" (a CSV written with ", ") are one label value.
            cells = zip(self.label_names, key[1:], strict=True)
            labels = {k: v.strip() for k, v in cells if v.strip()}
            found = self.ids[key] = self.batch.series_id(key[0].strip(), labels)
        return found


# -- long CSV -------------------------------------------------------------------------


class Header(Struct, frozen=True):
    """A CSV file's first line: its column names and the separator between them."""

    names: list[str]
    sep: str


def read_header(stream: IO[str], file: str, options: CsvOptions, what: str) -> Header:
    first = stream.readline()
    if not first.strip():
        raise InputError(
            "the file is empty or starts with a blank line", file=file, line=1, hint=what
        )
    _refuse_json(first, file)
    sep = options.sep or sniff_separator(first, file)
    try:
        names = [name.strip() for name in next(csv.reader([first], delimiter=sep))]
    except csv.Error as exc:
        if "field limit" not in str(exc):
            raise InputError(f"bad CSV header: {exc}", file=file, line=1) from None
        raise InputError(
            f"a column name is longer than {csv.field_size_limit():,} characters",
            file=file,
            line=1,
            hint="the first line names the columns, e.g. metric,time,value,plan",
        ) from None
    for i, name in enumerate(names, 1):
        if not name:
            raise InputError(
                f"column {i} of the header has no name",
                file=file,
                line=1,
                hint="name it, or delete the column"
                if len(names) > 1 or options.sep
                else "is the separator , ; or tab? pass --sep",
            )
    seen = set()
    for name in names:
        if name.lower() in seen:
            raise InputError(
                f"column {quoted(name)} appears twice in the header",
                file=file,
                line=1,
                hint="rename or delete one of them",
            )
        seen.add(name.lower())
    return Header(names, sep)


def _refuse_json(first: str, file: str) -> None:
    """JSON read as CSV (piped to `import -` without --format) would fail on its
    "header" with a message about columns: say what it is instead."""
    text = first.strip()
    if text.startswith("{"):
        try:
            is_object = isinstance(json.loads(text), dict)
        except ValueError:
            is_object = False
        if is_object:
            raise InputError(
                "this is JSON Lines, not CSV", file=file, line=1, hint="pass --format jsonl"
            )
    if text == "[" or text.startswith(("[{", "[ {")):
        raise InputError(
            "this is a JSON array, not CSV", file=file, line=1, hint="pass --format json"
        )


def _find(names: Sequence[str], *wanted: str) -> int | None:
    lowered = [n.lower() for n in names]
    for w in wanted:
        if w in lowered:
            return lowered.index(w)
    return None


def read_long_csv(
    batch: WriteBatch,
    file: str,
    stream: IO[str],
    metric: str | None,
    options: CsvOptions = PLAIN,
) -> None:
    if options.label_columns:
        raise InputError(
            "--label-column is for --wide files: every column of a long file but metric,"
            " time and value is a label already",
            file=file,
            hint="drop --label-column",
        )
    header = read_header(stream, file, options, LONG_HEADER_HINT)
    names, sep = header.names, header.sep
    m_col, t_col, v_col = (
        _find(names, "metric"),
        find_time_column(names, options, file),
        _find(names, "value"),
    )
    if t_col is None:
        raise no_time_column(file, "a long CSV has metric,time,value and any label columns")
    if v_col is None:
        raise InputError("the header has no value column", file=file, line=1, hint=LONG_HEADER_HINT)
    if m_col is None and metric is None:
        raise InputError(
            "the header has no metric column",
            file=file,
            line=1,
            hint="add a metric column, or name the metric with --metric NAME",
        )
    if m_col is not None and metric is not None:
        raise InputError(
            "the file has a metric column and --metric was given",
            file=file,
            line=1,
            hint="drop --metric",
        )
    numbers = NumberForm(options)
    label_cols = [i for i in range(len(names)) if i not in (m_col, t_col, v_col)]
    series_ids = SeriesIds(batch, [names[i] for i in label_cols])
    ncols = len(names)

    def write(columns: Sequence[Sequence[str]], line_of: Callable[[int], int]) -> None:
        count = len(columns[t_col])
        if m_col is None:
            metrics: Sequence[str] = [metric] * count  # type: ignore[list-item]
        else:
            metrics = columns[m_col]
            _check_metrics(metrics, file, line_of)
        times = times_of(columns[t_col], file, line_of)
        values = values_of(columns[v_col], file, line_of, numbers)
        batch.add(series_ids(metrics, [columns[i] for i in label_cols]), times, values)

    line = 2
    blocks = _LineBlocks(stream)
    for text in blocks:
        flat = _fast_split(text, ncols, sep)
        if flat is None:
            # `rest` is the start of a line whose end is still in the stream: complete it,
            # or the csv module would see one record as two lines.
            lines = chain(io.StringIO(text + blocks.rest + stream.readline(), newline=""), stream)
            return read_csv_rows(lines, file, line, ncols, write, sep)
        n = len(flat) // ncols
        columns = [flat[i::ncols] for i in range(ncols)]
        try:
            write(columns, line.__add__)
        except InputError:
            # Spreadsheets end with empty rows (",,"): looked for only once a block fails,
            # so the plain blocks of a big import never pay for it.
            kept = _kept_rows(columns)
            if kept is None:
                raise
            write(
                [[c[j] for j in kept] for c in columns], lambda k, at=line, kept=kept: at + kept[k]
            )
        line += n


class _LineBlocks:
    """The stream in blocks of whole lines, about _BLOCK characters each (a longer line
    is one block, gathered in parts rather than re-copied on every read); `rest` is
    what was read past the last block's end."""

    def __init__(self, stream: IO[str]) -> None:
        self.stream, self.rest = stream, ""

    def __iter__(self) -> Iterator[str]:
        pending: list[str] = []
        while block := self.stream.read(_BLOCK):
            cut = block.rfind("\n") + 1
            if not cut:
                pending.append(block)
                continue
            pending.append(block[:cut])
            self.rest = block[cut:]
            yield "".join(pending)
            pending, self.rest = [self.rest], ""
        if tail := "".join(pending):
            yield tail


def _fast_split(text: str, ncols: int, sep: str) -> list[str] | None:
    """All cells of a block of plain lines, row after row; None if the block needs the
    csv module (quotes, blank lines, stray carriage returns, ragged rows)."""
    if '"' in text:
        return None
    if "\r" in text:
        text = text.replace("\r\n", "\n")
        if "\r" in text:
            return None
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()
    if set(map(str.count, lines, repeat(sep))) != {ncols - 1}:
        return None
    flat = text.replace("\n", sep).split(sep)
    if text.endswith("\n"):
        flat.pop()
    return flat


def _is_blank(cell: str) -> bool:
    return not cell or cell.isspace()


def _kept_rows(columns: Sequence[Sequence[str]]) -> list[int] | None:
    """The rows that are not blank (every cell empty or spaces), or None when all are kept."""
    blank = {j for j, cell in enumerate(columns[0]) if _is_blank(cell)}
    blank = {j for j in blank if all(_is_blank(column[j]) for column in columns)}
    if not blank:
        return None
    return [j for j in range(len(columns[0])) if j not in blank]


def read_csv_rows(
    lines: Iterable[str],
    file: str,
    first_line: int,
    ncols: int,
    write: Callable[[Sequence[Sequence[str]], Callable[[int], int]], None],
    sep: str,
) -> None:
    record: list[str] = []  # the lines of the record being read, for a field-limit error
    reader = csv.reader(kept_lines(lines, record), delimiter=sep, strict=True)
    rows: list[list[str]] = []
    starts: list[int] = []
    done = 0
    try:
        for row in reader:
            record.clear()
            start, done = first_line + done, reader.line_num
            if not row or (_is_blank(row[0]) and all(map(_is_blank, row))):
                continue  # a blank line, or a spreadsheet's empty row (",,")
            if len(row) != ncols:
                raise InputError(
                    f"expected {ncols} columns, found {len(row)}",
                    file=file,
                    line=start,
                    hint='quote a cell that holds a comma: "1,5"'
                    if len(row) > ncols
                    else "give every column a cell: an empty one is two commas, a,,c",
                )
            rows.append(row)
            starts.append(start)
            if len(rows) >= _CHUNK:
                write([list(c) for c in zip(*rows, strict=True)], starts.__getitem__)
                rows, starts = [], []
    except csv.Error as exc:
        start = first_line + done
        if "field limit" in str(exc):
            raise field_past_limit(file, start, record, lines) from None
        raise InputError(
            f"bad CSV: {exc}", file=file, line=start, hint=quote_hint(str(exc))
        ) from None
    if rows:
        write([list(c) for c in zip(*rows, strict=True)], starts.__getitem__)
