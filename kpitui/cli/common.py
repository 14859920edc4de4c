"""Argument helpers shared by the command modules."""

from __future__ import annotations

import argparse
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

from msgspec import Struct

from kpitui.errors import InputError
from kpitui.literal import literal, quoted
from kpitui.store.checks import is_text
from kpitui.store.name import StoreName, env_store
from kpitui.store.times import EARLIEST, LATEST, TimeProblem, point_time
from kpitui.timeutil import Duration

if TYPE_CHECKING:
    from kpitui.spec.loader import SourceMap

DEFAULT_SPEC = "dashboard.yaml"
DEFAULT_STORE = "metrics.db"
# What to do about a store that is not there (`check`, `snapshot`).
STORE_HINT = "run `kpitui import` or `kpitui demo` first, or pass --db PATH"
SYNC_STORE_HINT = "run `kpitui sync --once` first, to fill it from the spec's `pull:`"


def missing_store(
    store: Path | StoreName, db: str | None, spec_file: str | None, source_map: SourceMap
) -> InputError | None:
    """What to say when the store file to read is not there, named where it was chosen:
    the --db value, or the spec's `store:` line. None when it exists (a directory, or a
    file that is no store, `open_reader` says so) or is a server's (its reader says).
    A spec with pulls is told to sync, which makes its store."""
    name = StoreName.parse(store)
    if name.path is None or name.path.exists():
        return None
    hint = SYNC_STORE_HINT if ("pull", 0) in source_map.values else STORE_HINT
    if db:
        return InputError("store not found", file=db, hint=hint)
    from kpitui.spec.loader import SpecProblem

    line, col = source_map.value(("store",))
    return SpecProblem(
        f"store not found: {name.display}",
        path=("store",),
        file=spec_file,
        line=line,
        col=col,
        hint=hint,
    )


def span_arg(text: str) -> Duration:
    """argparse type for a span on the command line (`--backfill 90d`, `--since 2w`,
    `--older-than 2y`): a duration as a spec writes it, by the same rule, so a span the
    spec takes the command line takes too."""
    try:
        return Duration(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


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
            f"{quoted(text)} is out of range: use a time from 1971-01-02 to 9998-12-30"
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


def counted(n: int, noun: str) -> str:
    """`1 point`, `2 points`, `1,000 points` (a noun whose plural takes an s)."""
    return f"{n:,} {noun}{'' if n == 1 else 's'}"


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
        metavar="STORE",
        help="the metric store, a SQLite file or a postgresql:// URL (default: the spec's "
        "`store:`, relative to the spec)",
    )


def add_db_option(parser: argparse.ArgumentParser, *, spec: bool = True) -> None:
    """--db (and --spec), for the commands that name a store but open no dashboard."""
    parser.add_argument(
        "--db",
        metavar="STORE",
        help="the metric store: a SQLite file or a postgresql:// URL (default: the store "
        f"named by --spec or ./{DEFAULT_SPEC}, else $KPITUI_STORE, else ./{DEFAULT_STORE})",
    )
    if spec:
        parser.add_argument(
            "--spec",
            metavar="FILE",
            help=f"use the store this dashboard spec reads (its `store:`; default ./{DEFAULT_SPEC})",
        )


class ChosenStore(Struct, frozen=True):
    """The store a store command uses, and the spec it came from (None: --db, the
    environment or the default)."""

    name: StoreName
    spec: Path | None
    """The spec whose store this is (`--spec`, else ./dashboard.yaml), or None."""


def chosen_store(db: str | None, spec: str | None = None) -> ChosenStore:
    """`--db`, else the `store:` of `--spec` or ./dashboard.yaml (relative to it, or
    $KPITUI_STORE when the spec names none), else $KPITUI_STORE, else ./metrics.db.

    Only the `store` key is read here: a spec with other problems still names its store.
    """
    spec_path = Path(spec) if spec else Path(DEFAULT_SPEC)
    if spec and not spec_path.is_file():
        raise InputError(
            "no such file" if not spec_path.exists() else "is not a file",
            file=spec,
            hint="pass the dashboard spec whose store to use",
        )
    from_spec = spec_path if spec_path.is_file() else None
    if db:
        return ChosenStore(StoreName.parse(db), Path(spec) if spec else None)
    if from_spec is None:
        return ChosenStore(StoreName.parse(env_store() or DEFAULT_STORE), None)
    return ChosenStore(StoreName.parse(_spec_store(from_spec)), from_spec)


def _spec_store(spec: Path) -> Path | StoreName:
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
            hint="`kpitui check` explains; or pass --db STORE",
        ) from None
    data = loaded.data
    if isinstance(data, dict) and "store" in data and not isinstance(data["store"], str):
        # `store: 42` names no store: writing ./metrics.db instead would put the points
        # where the dashboard never looks. Said as `check` says it.
        for problem in model_problems(loaded, loaded.file):
            if problem.path[:1] == ("store",):
                raise problem
    named = data.get("store") if isinstance(data, dict) else None
    return store_path_for(spec, named if isinstance(named, str) else None)


def default_store_path(db: str | None) -> StoreName:
    """The store of a command given only `--db` (see `chosen_store`)."""
    return chosen_store(db).name


def shown_store(name: StoreName) -> str:
    """A store as the 'created' line names it: ./metrics.db for a file here."""
    text = literal(name.display)
    if name.path is not None and not name.path.is_absolute() and not text.startswith("."):
        text = f"./{text}"
    return text


def created_store_note(chosen: ChosenStore) -> str:
    """The stderr line of a command that created a new store: where it is, and where
    the dashboard reads (pointing out a spec here that reads elsewhere)."""
    if chosen.spec is not None:
        reads = chosen.name
    else:
        from kpitui.spec import store_path_for

        reads = StoreName.parse(store_path_for(Path(DEFAULT_SPEC), None))
    line = (
        f"created a new store {shown_store(chosen.name)}; the dashboard reads {shown_store(reads)}"
    )
    others = [
        p for p in _specs_here() if chosen.spec is None or p.resolve() != chosen.spec.resolve()
    ]
    if others:
        names = ", ".join(f"./{literal(p.name)}" for p in others[:3])
        line += f" (this folder also holds {names}: pass --spec FILE to write where it reads)"
    return line


def _specs_here() -> list[Path]:
    """Dashboard specs in the current folder other than ./dashboard.yaml: YAML files
    whose top level has `kpis` or `okrs`."""
    import yaml

    found = []
    for path in sorted([*Path().glob("*.yaml"), *Path().glob("*.yml")]):
        if path.name == DEFAULT_SPEC or not path.is_file():
            continue
        try:
            if path.stat().st_size > 1 << 20:
                continue
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, ValueError, yaml.YAMLError):
            continue
        if isinstance(data, dict) and ("kpis" in data or "okrs" in data):
            found.append(path)
    return found
