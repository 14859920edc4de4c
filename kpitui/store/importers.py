"""Bulk import of points: long CSV, wide CSV, JSON Lines and JSON arrays.

A whole import is one writer batch (one transaction): the first bad line — a value that
is not a finite number, a time that is not a time, a bad metric name, a missing column —
raises InputError with its physical line number (a CSV header is line 1) and nothing of
the import is written. Rows are checked and written in chunks, so memory stays flat
however big the file.

The readers themselves are `import_csv` (long and wide CSV, with the fast path that
makes big imports quick) and `import_json` (JSON Lines and JSON arrays).
"""

from __future__ import annotations

import io
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO

from msgspec import Struct

from kpitui.errors import InputError
from kpitui.literal import quoted
from kpitui.store.api import StoreWriter
from kpitui.store.checks import METRIC_NAME_HINT, is_metric_name
from kpitui.store.csv_options import CsvOptions
from kpitui.store.import_csv import PLAIN, read_long_csv
from kpitui.store.import_json import json_array_records, jsonl_records, read_records
from kpitui.store.import_wide import read_wide_csv

FORMATS = ("csv", "jsonl", "json")
_EXTENSIONS = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "json"}


DIRECTORY_HINT = "name the file to import in it"


class ImportResult(Struct, frozen=True):
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
    writer: StoreWriter,
    source: str,
    *,
    metric: str | None = None,
    wide: bool = False,
    fmt: str | None = None,
    stdin: IO[str] | None = None,
    options: CsvOptions = PLAIN,
    progress: Callable[[int], None] | None = None,
) -> ImportResult:
    """Import `source` (a path, or "-" for stdin) into the store in one transaction;
    `progress` is told the bytes of the file read so far, as they are read."""
    fmt = detect_format(source, fmt)
    options.check()
    if fmt != "csv" and options != PLAIN:
        flag = _csv_flags(options)[0]
        raise InputError(
            f"{flag} is for CSV files; a JSON point names its time and value by key",
            file=source,
            hint=f"drop {flag}",
        )
    if wide and fmt != "csv":
        raise InputError(
            "--wide is for CSV files", file=source, hint="drop --wide or use --format csv"
        )
    if wide and metric is not None:
        raise InputError(
            "--metric names the metric of a long file; a wide file's columns name theirs",
            file=source,
            hint="drop --metric",
        )
    if metric is not None:
        metric = metric.strip()  # as a metric cell of a CSV is
    if metric is not None and not is_metric_name(metric):
        raise InputError(f"--metric {quoted(metric)} is not a metric name", hint=METRIC_NAME_HINT)
    name = "<stdin>" if source == "-" else source
    started = time.perf_counter()
    with _open(source, stdin, progress) as stream, writer.batch() as batch:
        try:
            if fmt == "jsonl":
                read_records(batch, name, metric, jsonl_records(stream, name))
            elif fmt == "json":
                read_records(batch, name, metric, json_array_records(stream.read(), name))
            elif wide:
                read_wide_csv(batch, name, stream, options)
            else:
                read_long_csv(batch, name, stream, metric, options)
        except UnicodeDecodeError:
            raise InputError(
                "the file is not UTF-8 text", file=name, hint="save it as UTF-8"
            ) from None
    return ImportResult(
        name, batch.points, len(batch.series), batch.changed, time.perf_counter() - started
    )


def _csv_flags(options: CsvOptions) -> list[str]:
    given = [
        ("--sep", options.sep is not None),
        ("--decimal", options.decimal != PLAIN.decimal),
        ("--thousands", options.thousands is not None),
        ("--time-column", options.time_column is not None),
        ("--label-column", bool(options.label_columns)),
    ]
    return [flag for flag, set_ in given if set_]


class _open:
    """The input as text (UTF-8, a BOM dropped, newlines kept for the csv module)."""

    def __init__(
        self, source: str, stdin: IO[str] | None, progress: Callable[[int], None] | None
    ) -> None:
        self.source, self.stdin, self.progress, self.handle = source, stdin, progress, None

    def __enter__(self) -> IO[str]:
        if self.source == "-":
            stream = self.stdin or sys.stdin
            buffer = getattr(stream, "buffer", None)
            if buffer is None:
                return stream
            return io.TextIOWrapper(buffer, encoding="utf-8-sig", newline="")
        try:
            if self.progress is None:
                self.handle = open(self.source, encoding="utf-8-sig", newline="")
            else:
                raw = _CountedReader(open(self.source, "rb", buffering=0), self.progress)
                buffered = io.BufferedReader(raw, buffer_size=1 << 20)
                self.handle = io.TextIOWrapper(buffered, encoding="utf-8-sig", newline="")
        except FileNotFoundError:
            raise InputError("no such file", file=self.source, hint="check the path") from None
        except IsADirectoryError:
            raise InputError(
                "is a directory, not a file", file=self.source, hint=DIRECTORY_HINT
            ) from None
        except OSError as exc:
            raise InputError(f"cannot read it: {exc.strerror}", file=self.source) from None
        return self.handle

    def __exit__(self, *exc: object) -> None:
        if self.handle is not None:
            self.handle.close()


class _CountedReader(io.RawIOBase):
    """A raw file that tells `progress` how many bytes were read from it so far."""

    def __init__(self, raw: io.RawIOBase, progress: Callable[[int], None]) -> None:
        self.raw, self.progress, self.done = raw, progress, 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int | None:  # type: ignore[no-untyped-def]
        count = self.raw.readinto(buffer)
        if count:
            self.done += count
            self.progress(self.done)
        return count

    def close(self) -> None:
        self.raw.close()
        super().close()
