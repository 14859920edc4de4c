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
from pathlib import Path
from typing import IO

from msgspec import Struct

from kpitui.errors import InputError
from kpitui.store.api import StoreWriter
from kpitui.store.checks import METRIC_NAME_HINT, is_metric_name
from kpitui.store.import_csv import read_long_csv, read_wide_csv
from kpitui.store.import_json import json_array_records, jsonl_records, read_records

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
) -> ImportResult:
    """Import `source` (a path, or "-" for stdin) into the store in one transaction."""
    fmt = detect_format(source, fmt)
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
        raise InputError(f"--metric {metric!r} is not a metric name", hint=METRIC_NAME_HINT)
    name = "<stdin>" if source == "-" else source
    started = time.perf_counter()
    with _open(source, stdin) as stream, writer.batch() as batch:
        try:
            if fmt == "jsonl":
                read_records(batch, name, metric, jsonl_records(stream, name))
            elif fmt == "json":
                read_records(batch, name, metric, json_array_records(stream.read(), name))
            elif wide:
                read_wide_csv(batch, name, stream)
            else:
                read_long_csv(batch, name, stream, metric)
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
            raise InputError(
                "is a directory, not a file", file=self.source, hint=DIRECTORY_HINT
            ) from None
        except OSError as exc:
            raise InputError(f"cannot read it: {exc.strerror}", file=self.source) from None
        return self.handle

    def __exit__(self, *exc: object) -> None:
        if self.handle is not None:
            self.handle.close()
