"""JSON Lines and JSON array imports: one object per point.

`{"metric": "mrr", "time": "2026-01-01", "value": 12.5, "labels": {"plan": "pro"}}` —
the metric may come from --metric instead. The first bad record raises InputError at the
line it starts on (with the column for bad JSON syntax).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Iterator
from typing import IO

from kpitui.errors import InputError
from kpitui.literal import quoted
from kpitui.store.api import WriteBatch
from kpitui.store.checks import (
    FINITE_HINT,
    METRIC_NAME_HINT,
    NUMBER_HINT,
    is_metric_name,
    is_text,
)
from kpitui.store.csv_options import number_hint
from kpitui.store.times import TimeProblem, point_time

_CHUNK = 50_000  # points per `batch.add`: memory stays flat
_JSON_KEYS = {"metric", "time", "value", "labels"}
_WS = re.compile(r"\s*")
_POINT = '{"metric": "mrr", "time": "2026-11-01", "value": 12.5}'
POINT_HINT = f"e.g. {_POINT}"


def jsonl_records(stream: IO[str], file: str) -> Iterator[tuple[int, object]]:
    for line, text in enumerate(stream, 1):
        if not text.strip():
            continue
        try:
            yield line, json.loads(text)
        except json.JSONDecodeError as exc:
            raise InputError(
                f"not valid JSON: {exc.msg}", file=file, line=line, col=exc.colno
            ) from None
        except ValueError:
            raise _too_many_digits(file, line) from None
        except RecursionError:
            raise _too_deep(file, line) from None


def json_array_records(text: str, file: str) -> Iterator[tuple[int, object]]:
    """The elements of a JSON array, each with the line it starts on."""
    decoder = json.JSONDecoder()
    pos = _WS.match(text).end()  # type: ignore[union-attr]
    if not text.startswith("[", pos):
        lines = text.startswith("{", pos)
        raise InputError(
            "expected a JSON array of points",
            file=file,
            line=text.count("\n", 0, pos) + 1,
            hint="for one object per line, pass --format jsonl or name the file .jsonl"
            if lines
            else f"a .json file holds one array: [{_POINT}, ...]",
        )
    pos = _WS.match(text, pos + 1).end()  # type: ignore[union-attr]
    line, counted = 1, 0
    try:
        while not text.startswith("]", pos):
            line += text.count("\n", counted, pos)
            counted = pos
            item, pos = decoder.raw_decode(text, pos)
            yield line, item
            pos = _WS.match(text, pos).end()  # type: ignore[union-attr]
            if text.startswith("]", pos):
                break
            if not text.startswith(",", pos):
                raise json.JSONDecodeError("expected , or ] after an element", text, pos)
            pos = _WS.match(text, pos + 1).end()  # type: ignore[union-attr]
        after = _WS.match(text, pos + 1).end()  # type: ignore[union-attr]
        if after < len(text):
            # `[...]\n[...]` (arrays appended by a script) would otherwise lose all but
            # the first array without a word.
            line, col = _place(text, after)
            raise InputError(
                "not valid JSON: more after the array of points",
                file=file,
                line=line,
                col=col,
                hint="a .json file holds one array: merge the arrays, or use JSON Lines",
            )
    except json.JSONDecodeError as exc:
        raise InputError(
            f"not valid JSON: {exc.msg}", file=file, line=exc.lineno, col=exc.colno
        ) from None
    except ValueError:
        raise _too_many_digits(file, line) from None
    except RecursionError:
        raise _too_deep(file, line) from None


SURROGATE_HINT = (
    r"a \ud800-\udfff escape is half of a pair: write both halves, or the character itself"
)


def _place(text: str, pos: int) -> tuple[int, int]:
    """The 1-based line and column of `pos` in `text`."""
    return text.count("\n", 0, pos) + 1, pos - text.rfind("\n", 0, pos)


def _too_deep(file: str, line: int) -> InputError:
    return InputError(
        "nested too deeply: a point is one flat object with metric, time, value and labels",
        file=file,
        line=line,
    )


def _too_many_digits(file: str, line: int) -> InputError:
    # The one ValueError json raises that is not a JSONDecodeError: Python refuses to
    # turn an integer of more than 4,300 digits into an int.
    return InputError("a number has too many digits", file=file, line=line)


def read_records(
    batch: WriteBatch, file: str, metric: str | None, records: Iterable[tuple[int, object]]
) -> None:
    ids: list[int] = []
    times: list[int] = []
    values: list[float] = []
    for line, record in records:
        sid, ts, value = _record(batch, file, line, metric, record)
        ids.append(sid)
        times.append(ts)
        values.append(value)
        if len(ids) >= _CHUNK:
            batch.add(ids, times, values)
            ids, times, values = [], [], []
    batch.add(ids, times, values)


def _record(
    batch: WriteBatch,
    file: str,
    line: int,
    default: str | None,
    record: object,
) -> tuple[int, int, float]:
    def bad(message: str, hint: str | None = None) -> InputError:
        return InputError(message, file=file, line=line, hint=hint)

    if not isinstance(record, dict):
        raise bad("expected an object with metric, time and value", POINT_HINT)
    unknown = sorted(set(record) - _JSON_KEYS)
    if unknown:
        raise bad(
            f"unknown key {quoted(unknown[0])}",
            'a point has "metric", "time", "value" and optional "labels": {...}',
        )
    if default is not None and "metric" in record:
        raise bad('the point has a "metric" and --metric was given', "drop --metric")
    name = record.get("metric", default)
    if isinstance(name, str):
        name = name.strip()  # as a CSV cell or --label value is
    if name is None:
        raise bad('no "metric"', "add one, or name the metric with --metric NAME")
    if not is_metric_name(name):
        raise bad(f"{quoted(name)} is not a metric name", METRIC_NAME_HINT)
    if "time" not in record or "value" not in record:
        raise bad('no "time"' if "time" not in record else 'no "value"')
    try:
        ts = point_time(record["time"])
    except TimeProblem as exc:
        raise bad(exc.message, exc.hint) from None
    raw_value = record["value"]
    try:
        if isinstance(raw_value, bool) or not isinstance(raw_value, int | float | str):
            raise ValueError
        value = float(raw_value)
    except ValueError:
        hint = number_hint(raw_value) if isinstance(raw_value, str) else NUMBER_HINT
        raise bad(f"{quoted(raw_value)} is not a number", hint) from None
    except OverflowError:  # an integer too big for a float: as infinite as 1e999
        value = math.inf
    if not math.isfinite(value):
        raise bad(f"{quoted(raw_value)} is not a finite number", FINITE_HINT)
    labels = record.get("labels") or {}
    if not isinstance(labels, dict):
        raise bad('"labels" must be an object of names to values')
    clean = {}
    for key, label in labels.items():
        if not key.strip():
            raise bad(
                "a label has an empty name", 'name every label, e.g. "labels": {"plan": "pro"}'
            )
        if label is None:
            continue
        if isinstance(label, bool) or not isinstance(label, str | int):
            raise bad(f"label {quoted(key)} must be text, not {quoted(label)}")
        if not is_text(key):
            raise bad(f"label name {quoted(key)} is not Unicode text", SURROGATE_HINT)
        if isinstance(label, str) and not is_text(label):
            raise bad(f"label {quoted(key)}: {quoted(label)} is not Unicode text", SURROGATE_HINT)
        key, text = key.strip(), str(label).strip()
        if not text:
            continue  # an empty label is no label
        if key in clean:
            raise bad(f"label {quoted(key)} is given twice", "keep one")
        clean[key] = text
    return batch.series_id(name, clean), ts, value
