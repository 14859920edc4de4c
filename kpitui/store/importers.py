"""Bulk import of points: long CSV, wide CSV, JSON Lines and JSON arrays.

A whole import is one writer batch (one transaction): the first bad line — a value that
is not a finite number, a time that is not a time, a bad metric name, a missing column —
raises InputError with its physical line number (a CSV header is line 1) and nothing of
the import is written. Rows are checked and written in chunks, so memory stays flat
however big the file.

The CSV fast path: most exports are plain `name,1732406400,12.5,eu` lines. A 512 KB block
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
import re
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import chain, repeat
from pathlib import Path
from typing import IO

from kpitui.errors import InputError
from kpitui.store import schema
from kpitui.store.writer import FINITE_HINT, METRIC_NAME_HINT, TIME_RANGE_HINT, Batch, Writer
from kpitui.timeutil import parse_time

FORMATS = ("csv", "jsonl", "json")
_EXTENSIONS = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "json"}
_TIME_COLUMNS = ("time", "timestamp", "date", "ts")
_BLOCK = 1 << 19
_CHUNK = 50_000
_JSON_KEYS = {"metric", "time", "value", "labels"}
_WS = re.compile(r"\s*")

LONG_HEADER_HINT = "a long CSV has a header with metric,time,value and any label columns"


@dataclass(frozen=True)
class ImportResult:
    source: str
    points: int
    series: int
    changed: int
    seconds: float


def detect_format(source: str, fmt: str | None) -> str:
    if fmt:
        return fmt
    if source == "-":
        return "csv"
    found = _EXTENSIONS.get(Path(source).suffix.lower())
    if found is None:
        raise InputError(
            "cannot tell the format from the file name",
            file=source,
            hint="name it .csv, .jsonl, .ndjson or .json, or pass --format csv|jsonl|json",
        )
    return found


def import_file(
    writer: Writer,
    source: str,
    *,
    metric: str | None = None,
    wide: bool = False,
    fmt: str | None = None,
    stdin: IO[str] | None = None,
) -> ImportResult:
    """Import `source` (a path, or "-" for stdin) into the store in one transaction."""
    fmt = detect_format(source, fmt)
    if wide and fmt != "csv":
        raise InputError(
            "--wide is for CSV files", file=source, hint="drop --wide or use --format csv"
        )
    if metric is not None and not schema.is_metric_name(metric):
        raise InputError(f"--metric {metric!r} is not a metric name", hint=METRIC_NAME_HINT)
    name = "<stdin>" if source == "-" else source
    started = time.perf_counter()
    with _open(source, stdin) as stream, writer.batch() as batch:
        try:
            if fmt == "jsonl":
                _read_records(batch, name, metric, _jsonl_records(stream, name))
            elif fmt == "json":
                _read_records(batch, name, metric, _json_array_records(stream.read(), name))
            elif wide:
                _read_wide_csv(batch, name, stream)
            else:
                _read_long_csv(batch, name, stream, metric)
        except UnicodeDecodeError:
            raise InputError(
                "the file is not UTF-8 text", file=name, hint="save it as UTF-8"
            ) from None
    return ImportResult(
        name, batch.points, len(batch.series), batch.changed, time.perf_counter() - started
    )


class _open:
    """The input as text (UTF-8, a BOM dropped, newlines kept for the csv module)."""

    def __init__(self, source: str, stdin: IO[str] | None) -> None:
        self.source, self.stdin, self.handle = source, stdin, None

    def __enter__(self) -> IO[str]:
        if self.source == "-":
            stream = self.stdin or sys.stdin
            buffer = getattr(stream, "buffer", None)
            if buffer is None:
                return stream
            return io.TextIOWrapper(buffer, encoding="utf-8-sig", newline="")
        try:
            self.handle = open(self.source, encoding="utf-8-sig", newline="")
        except FileNotFoundError:
            raise InputError("no such file", file=self.source, hint="check the path") from None
        except IsADirectoryError:
            raise InputError("is a directory, not a file", file=self.source) from None
        except OSError as exc:
            raise InputError(f"cannot read it: {exc.strerror}", file=self.source) from None
        return self.handle

    def __exit__(self, *exc: object) -> None:
        if self.handle is not None:
            self.handle.close()


# -- converting columns (shared by every format) -------------------------------------


def _times(cells: Sequence[str], file: str, line_of: Callable[[int], int]) -> list[int]:
    try:
        out = list(map(int, cells))  # the common case: epoch seconds
    except ValueError:
        memo: dict[str, int] = {}
        out = []
        for i, cell in enumerate(cells):
            if cell not in memo:
                try:
                    memo[cell] = int(cell)
                except ValueError:
                    try:
                        memo[cell] = parse_time(cell)
                    except ValueError as exc:
                        raise InputError(str(exc), file=file, line=line_of(i)) from None
            out.append(memo[cell])
    if out and (min(out) < schema.MIN_TS or max(out) > schema.MAX_TS):
        i = next(i for i, t in enumerate(out) if not schema.MIN_TS <= t <= schema.MAX_TS)
        raise InputError(
            f"time {cells[i]!r} is out of range", file=file, line=line_of(i), hint=TIME_RANGE_HINT
        )
    return out


def _values(cells: Sequence[str], file: str, line_of: Callable[[int], int]) -> list[float]:
    try:
        out = list(map(float, cells))
    except ValueError:
        for i, cell in enumerate(cells):
            try:
                float(cell)
            except ValueError:
                what = "the value is empty" if not cell.strip() else f"{cell!r} is not a number"
                raise InputError(what, file=file, line=line_of(i)) from None
        raise
    if not math.isfinite(sum(out)):  # any NaN/inf makes the sum non-finite
        for i, value in enumerate(out):
            if not math.isfinite(value):
                raise InputError(
                    f"{cells[i]!r} is not a finite number",
                    file=file,
                    line=line_of(i),
                    hint=FINITE_HINT,
                )
    return out


def _check_metrics(cells: Sequence[str], file: str, line_of: Callable[[int], int]) -> None:
    bad = [name for name in set(cells) if not schema.is_metric_name(name)]
    if bad:
        i = min(cells.index(name) for name in bad)
        raise InputError(
            f"{cells[i]!r} is not a metric name", file=file, line=line_of(i), hint=METRIC_NAME_HINT
        )


class _SeriesIds:
    """(metric, label cells…) → series id, creating series on first sight."""

    def __init__(self, batch: Batch, label_names: Sequence[str]) -> None:
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
            labels = {k: v for k, v in zip(self.label_names, key[1:], strict=True) if v}
            found = self.ids[key] = self.batch.series_id(key[0], labels)
        return found


# -- long CSV -------------------------------------------------------------------------


def _header(stream: IO[str], file: str) -> list[str]:
    first = stream.readline()
    if not first.strip():
        raise InputError(
            "the file is empty or starts with a blank line",
            file=file,
            line=1,
            hint=LONG_HEADER_HINT,
        )
    names = [name.strip() for name in next(csv.reader([first]))]
    for i, name in enumerate(names, 1):
        if not name:
            raise InputError(f"column {i} of the header has no name", file=file, line=1)
    seen = set()
    for name in names:
        if name.lower() in seen:
            raise InputError(f"column {name!r} appears twice in the header", file=file, line=1)
        seen.add(name.lower())
    return names


def _find(names: Sequence[str], *wanted: str) -> int | None:
    lowered = [n.lower() for n in names]
    for w in wanted:
        if w in lowered:
            return lowered.index(w)
    return None


def _read_long_csv(batch: Batch, file: str, stream: IO[str], metric: str | None) -> None:
    names = _header(stream, file)
    m_col, t_col, v_col = (
        _find(names, "metric"),
        _find(names, *_TIME_COLUMNS),
        _find(names, "value"),
    )
    if t_col is None or v_col is None:
        missing = " and ".join(n for n, c in (("time", t_col), ("value", v_col)) if c is None)
        raise InputError(
            f"the header has no {missing} column", file=file, line=1, hint=LONG_HEADER_HINT
        )
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
    label_cols = [i for i in range(len(names)) if i not in (m_col, t_col, v_col)]
    series_ids = _SeriesIds(batch, [names[i] for i in label_cols])
    ncols = len(names)

    def write(columns: Sequence[Sequence[str]], line_of: Callable[[int], int]) -> None:
        count = len(columns[t_col])
        if m_col is None:
            metrics: Sequence[str] = [metric] * count  # type: ignore[list-item]
        else:
            metrics = columns[m_col]
            _check_metrics(metrics, file, line_of)
        times = _times(columns[t_col], file, line_of)
        values = _values(columns[v_col], file, line_of)
        batch.add(series_ids(metrics, [columns[i] for i in label_cols]), times, values)

    line = 2
    rest = ""
    while True:
        block = stream.read(_BLOCK)
        text = rest + block
        cut = text.rfind("\n") + 1 if block else len(text)
        text, rest = text[:cut], text[cut:]
        if not text:
            if block:
                continue
            return
        flat = _fast_split(text, ncols)
        if flat is None:
            # `rest` is the start of a line whose end is still in the stream: complete it,
            # or the csv module would see one record as two lines.
            lines = chain(io.StringIO(text + rest + stream.readline(), newline=""), stream)
            return _read_csv_rows(lines, file, line, ncols, write)
        n = len(flat) // ncols
        write([flat[i::ncols] for i in range(ncols)], line.__add__)
        line += n


def _fast_split(text: str, ncols: int) -> list[str] | None:
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
    if set(map(str.count, lines, repeat(","))) != {ncols - 1}:
        return None
    flat = text.replace("\n", ",").split(",")
    if text.endswith("\n"):
        flat.pop()
    return flat


def _read_csv_rows(
    lines: Iterable[str],
    file: str,
    first_line: int,
    ncols: int,
    write: Callable[[Sequence[Sequence[str]], Callable[[int], int]], None],
) -> None:
    reader = csv.reader(lines, strict=True)
    rows: list[list[str]] = []
    starts: list[int] = []
    done = 0
    try:
        for row in reader:
            start, done = first_line + done, reader.line_num
            if not row:
                continue  # a blank line
            if len(row) != ncols:
                raise InputError(
                    f"expected {ncols} columns, found {len(row)}", file=file, line=start
                )
            rows.append(row)
            starts.append(start)
            if len(rows) >= _CHUNK:
                write([list(c) for c in zip(*rows, strict=True)], starts.__getitem__)
                rows, starts = [], []
    except csv.Error as exc:
        raise InputError(f"bad CSV: {exc}", file=file, line=first_line + done) from None
    if rows:
        write([list(c) for c in zip(*rows, strict=True)], starts.__getitem__)


# -- wide CSV -------------------------------------------------------------------------


def _read_wide_csv(batch: Batch, file: str, stream: IO[str]) -> None:
    names = _header(stream, file)
    t_col = _find(names, *_TIME_COLUMNS)
    if t_col is None:
        raise InputError(
            "the header has no time column",
            file=file,
            line=1,
            hint="a wide CSV has a time column and one column per metric",
        )
    metric_cols = [i for i in range(len(names)) if i != t_col]
    if not metric_cols:
        raise InputError("the header names no metric columns", file=file, line=1)
    for i in metric_cols:
        if not schema.is_metric_name(names[i]):
            raise InputError(
                f"column {names[i]!r} is not a metric name",
                file=file,
                line=1,
                hint=METRIC_NAME_HINT,
            )

    def write(columns: Sequence[Sequence[str]], line_of: Callable[[int], int]) -> None:
        times = _times(columns[t_col], file, line_of)
        for i in metric_cols:
            cells = columns[i]
            kept = [j for j, cell in enumerate(cells) if cell.strip()]  # an empty cell: no point
            values = _values([cells[j] for j in kept], file, lambda k, kept=kept: line_of(kept[k]))
            batch.add(batch.series_id(names[i]), [times[j] for j in kept], values)

    _read_csv_rows(stream, file, 2, len(names), write)


# -- JSON -----------------------------------------------------------------------------


def _jsonl_records(stream: IO[str], file: str) -> Iterator[tuple[int, object]]:
    for line, text in enumerate(stream, 1):
        if not text.strip():
            continue
        try:
            yield line, json.loads(text)
        except json.JSONDecodeError as exc:
            raise InputError(
                f"not valid JSON: {exc.msg}", file=file, line=line, col=exc.colno
            ) from None


def _json_array_records(text: str, file: str) -> Iterator[tuple[int, object]]:
    """The elements of a JSON array, each with the line it starts on."""
    decoder = json.JSONDecoder()
    pos = _WS.match(text).end()  # type: ignore[union-attr]
    if not text.startswith("[", pos):
        raise InputError(
            "expected a JSON array of points", file=file, line=text.count("\n", 0, pos) + 1
        )
    pos = _WS.match(text, pos + 1).end()  # type: ignore[union-attr]
    line, counted = 1, 0
    if text.startswith("]", pos):
        return
    try:
        while True:
            line += text.count("\n", counted, pos)
            counted = pos
            item, pos = decoder.raw_decode(text, pos)
            yield line, item
            pos = _WS.match(text, pos).end()  # type: ignore[union-attr]
            if text.startswith("]", pos):
                return
            if not text.startswith(",", pos):
                raise json.JSONDecodeError("expected , or ] after an element", text, pos)
            pos = _WS.match(text, pos + 1).end()  # type: ignore[union-attr]
    except json.JSONDecodeError as exc:
        raise InputError(
            f"not valid JSON: {exc.msg}", file=file, line=exc.lineno, col=exc.colno
        ) from None


def _read_records(
    batch: Batch, file: str, metric: str | None, records: Iterable[tuple[int, object]]
) -> None:
    ids: list[int] = []
    times: list[int] = []
    values: list[float] = []
    cache: dict[tuple[str, str], int] = {}
    for line, record in records:
        sid, ts, value = _record(batch, cache, file, line, metric, record)
        ids.append(sid)
        times.append(ts)
        values.append(value)
        if len(ids) >= _CHUNK:
            batch.add(ids, times, values)
            ids, times, values = [], [], []
    batch.add(ids, times, values)


def _record(
    batch: Batch,
    cache: dict[tuple[str, str], int],
    file: str,
    line: int,
    default: str | None,
    record: object,
) -> tuple[int, int, float]:
    def bad(message: str, hint: str | None = None) -> InputError:
        return InputError(message, file=file, line=line, hint=hint)

    if not isinstance(record, dict):
        raise bad("expected an object with metric, time and value")
    unknown = sorted(set(record) - _JSON_KEYS)
    if unknown:
        raise bad(
            f"unknown key {unknown[0]!r}",
            'a point has "metric", "time", "value" and optional "labels": {...}',
        )
    name = record.get("metric", default)
    if name is None:
        raise bad('no "metric"', "add one, or name the metric with --metric NAME")
    if not schema.is_metric_name(name):
        raise bad(f"{name!r} is not a metric name", METRIC_NAME_HINT)
    if "time" not in record or "value" not in record:
        raise bad('no "time"' if "time" not in record else 'no "value"')
    raw_time = record["time"]
    try:
        if isinstance(raw_time, bool) or raw_time is None:
            raise ValueError(f"{raw_time!r} is not a time")
        ts = parse_time(raw_time)
    except ValueError as exc:
        raise bad(str(exc)) from None
    if not schema.MIN_TS <= ts <= schema.MAX_TS:
        raise bad(f"time {raw_time!r} is out of range", TIME_RANGE_HINT)
    raw_value = record["value"]
    try:
        if isinstance(raw_value, bool) or not isinstance(raw_value, int | float | str):
            raise ValueError
        value = float(raw_value)
    except ValueError:
        raise bad(f"{raw_value!r} is not a number") from None
    if not math.isfinite(value):
        raise bad(f"{raw_value!r} is not a finite number", FINITE_HINT)
    labels = record.get("labels") or {}
    if not isinstance(labels, dict):
        raise bad('"labels" must be an object of names to values')
    clean = {}
    for key, label in labels.items():
        if label is None or label == "":
            continue
        if isinstance(label, bool) or not isinstance(label, str | int):
            raise bad(f"label {key!r} must be text, not {label!r}")
        clean[key] = str(label)
    key = (name, schema.canonical_labels(clean))
    sid = cache.get(key)
    if sid is None:
        sid = cache[key] = batch.series_id(name, clean)
    return sid, ts, value
