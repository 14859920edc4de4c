"""Argument helpers shared by the command modules."""

from __future__ import annotations

import argparse
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

from kpitui.errors import InputError
from kpitui.literal import literal
from kpitui.store.times import EARLIEST, LATEST, TimeProblem, point_time
from kpitui.store.writer import is_text

if TYPE_CHECKING:
    from kpitui.spec.loader import SourceMap

DEFAULT_SPEC = "dashboard.yaml"
DEFAULT_STORE = "metrics.db"
# What to do about a store that is not there (`check`, `snapshot`).
STORE_HINT = "run `kpitui import` or `kpitui demo` first, or pass --db PATH"


def missing_store(
    store: Path, db: str | None, spec_file: str | None, source_map: SourceMap
) -> InputError | None:
    """What to say when the store to read is not there, named where it was chosen: the
    --db value, or the spec's `store:` line. None when it exists (a directory, or a file
    that is no store, `open_reader` says so)."""
    if store.exists():
        return None
    if db:
        return InputError("store not found", file=db, hint=STORE_HINT)
    from kpitui.spec.loader import SpecProblem

    line, col = source_map.value(("store",))
    return SpecProblem(
        f"store not found: {store}",
        path=("store",),
        file=spec_file,
        line=line,
        col=col,
        hint=STORE_HINT,
    )


def time_arg(text: str) -> int:
    """argparse type for `--at`/`--as-of`: ISO 8601, a date, or epoch seconds, by the
    rule every writer uses (so `record --at` and an import agree on what a time is)."""
    try:
        return point_time(text)
    except TimeProblem as exc:
        hint = f": {exc.hint}" if exc.hint else ""
        raise argparse.ArgumentTypeError(f"{exc.message}{hint}") from None


# An as-of's quarter is laid out in the spec's zone, up to 14 hours off UTC: a day in
# from the edge years keeps that quarter on the calendar in every zone.
_AS_OF_EARLIEST, _AS_OF_LATEST = EARLIEST + 86400, LATEST - 86400


def as_of_arg(text: str) -> int:
    """argparse type for `--as-of`: a time as `time_arg` reads it, a day in from the
    edges of the years points may have (9998-12-31 is already 9999 in Kiritimati)."""
    moment = time_arg(text)
    if not _AS_OF_EARLIEST <= moment <= _AS_OF_LATEST:
        raise argparse.ArgumentTypeError(
            f"{text!r} is out of range: use a time from 1971-01-02 to 9998-12-30"
        )
    return moment


def check_text_arguments(*named: tuple[str, str | None]) -> None:
    """Refuse (what, text) arguments that are not UTF-8 before anything is written: the
    store could not hold them, and SQLite would fail on them half-way with a traceback."""
    for what, text in named:
        if text is not None and not is_text(text):
            raise InputError(
                f"{what} '{literal(text)}' is not UTF-8 text",
                hint="the shell or script passed bytes in another encoding: write it in UTF-8",
            )


def number_text(value: float) -> str:
    """`value` exactly as stored, for a confirmation line: repr's shortest digits that
    read back to it, written out in full for everyday magnitudes (12345678 and 0.1234567,
    where `:g` rounded them to 1.23457e+07 and 0.123457)."""
    if value == 0:
        return "0"
    text = repr(value)
    if 1e-7 <= abs(value) < 1e21:
        text = format(Decimal(text), "f")
    return text.removesuffix(".0")


def add_spec_arguments(parser: argparse.ArgumentParser) -> None:
    """SPEC and --db, for the commands that read a dashboard spec."""
    parser.add_argument(
        "spec",
        nargs="?",
        default=DEFAULT_SPEC,
        metavar="SPEC",
        help=f"the dashboard spec (default: ./{DEFAULT_SPEC})",
    )
    parser.add_argument(
        "--db",
        metavar="PATH",
        help="the metric store (default: the spec's `store:`, relative to the spec)",
    )


def add_db_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--db",
        metavar="PATH",
        help=f"the metric store (default: the store named by ./{DEFAULT_SPEC}, else ./{DEFAULT_STORE})",
    )


def default_store_path(db: str | None) -> Path:
    """`--db`, else the `store:` of ./dashboard.yaml (relative to it), else ./metrics.db.

    Only the `store` key is read here: a spec with other problems still names its store.
    """
    if db:
        return Path(db)
    spec = Path(DEFAULT_SPEC)
    if spec.is_file():
        from kpitui.spec import model_problems, store_path_for
        from kpitui.spec.loader import read_yaml

        try:
            loaded = read_yaml(spec)
        except InputError as exc:
            raise InputError(
                f"{exc.message}, so the store it names is unknown",
                file=exc.location.file,
                line=exc.location.line,
                col=exc.location.col,
                hint="`kpitui check` explains; or pass --db PATH",
            ) from None
        data = loaded.data
        if isinstance(data, dict) and "store" in data and not isinstance(data["store"], str):
            # `store: 42` names no store: writing ./metrics.db instead would put the points
            # where the dashboard never looks. Said as `check` says it.
            for problem in model_problems(loaded, loaded.file):
                if problem.path[:1] == ("store",):
                    raise problem
        if isinstance(data, dict) and isinstance(data.get("store"), str):
            return store_path_for(spec, data["store"])
    return Path(DEFAULT_STORE)
