"""Wide CSV imports: a time column and one column per metric (a spreadsheet export),
with `--label-column` naming columns that label every metric's point of their row
(`date,plan,mrr,seats` with --label-column plan)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import IO

from kpitui.errors import InputError
from kpitui.literal import quoted
from kpitui.store.api import WriteBatch
from kpitui.store.checks import METRIC_NAME_HINT, NUMBER_HINT, is_metric_name
from kpitui.store.csv_options import (
    CsvOptions,
    NumberForm,
    find_label_columns,
    find_time_column,
    no_time_column,
)
from kpitui.store.import_csv import (
    PLAIN,
    SeriesIds,
    read_csv_rows,
    read_header,
    times_of,
    values_of,
)

WIDE_HINT = "a wide CSV has a time column and one column per metric"


def read_wide_csv(
    batch: WriteBatch, file: str, stream: IO[str], options: CsvOptions = PLAIN
) -> None:
    header = read_header(stream, file, options, WIDE_HINT)
    names = header.names
    t_col = find_time_column(names, options, file)
    if t_col is None:
        raise no_time_column(file, WIDE_HINT)
    label_cols = find_label_columns(names, options, file)
    if t_col in label_cols:
        raise InputError(
            f"--label-column {quoted(names[t_col])} is the time column",
            file=file,
            line=1,
            hint="name a column that labels the points, e.g. plan or region",
        )
    metric_cols = [i for i in range(len(names)) if i != t_col and i not in label_cols]
    if not metric_cols:
        raise InputError("the header names no metric columns", file=file, line=1, hint=WIDE_HINT)
    for i in metric_cols:
        if not is_metric_name(names[i]):
            hint = METRIC_NAME_HINT
            if not label_cols and len(names[i]) <= 40:
                hint += f"; a column of labels? pass --label-column {names[i]}"
            raise InputError(
                f"column {quoted(names[i])} is not a metric name", file=file, line=1, hint=hint
            )
    numbers = NumberForm(options)
    series_ids = SeriesIds(batch, [names[i] for i in label_cols])

    def write(columns: Sequence[Sequence[str]], line_of: Callable[[int], int]) -> None:
        times = times_of(columns[t_col], file, line_of)
        for i in metric_cols:
            cells = columns[i]
            kept = [j for j, cell in enumerate(cells) if cell.strip()]  # an empty cell: no point
            try:
                values = values_of(
                    [cells[j] for j in kept], file, lambda k, kept=kept: line_of(kept[k]), numbers
                )
            except InputError as exc:
                if exc.hint == NUMBER_HINT and len(names[i]) <= 40:  # text, not a number
                    exc.hint = f"is {names[i]} a column of labels? pass --label-column {names[i]}"
                raise
            labels = [[columns[c][j] for j in kept] for c in label_cols]
            ids = series_ids([names[i]] * len(kept), labels) if kept else []
            batch.add(ids, [times[j] for j in kept], values)

    read_csv_rows(stream, file, 2, len(names), write, header.sep)
