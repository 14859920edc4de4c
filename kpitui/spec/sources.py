"""What a spec's `sources:` and `pull:` name, read without touching a database: which
engine a source URL is, and where a query's `:start`/`:end` parameters sit.

`kpitui check` and `kpitui sync` both read sources and queries through these, so a URL
that check accepts is one sync can open, and a parameter check finds is one sync binds.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

from msgspec import Struct

from kpitui.literal import quoted

Engine = Literal["postgresql", "sqlite", "duckdb"]
ENGINES: tuple[Engine, ...] = ("postgresql", "sqlite", "duckdb")

PARAMETERS = ("start", "end")
"""The names a query binds: the window being pulled, `start <= time < end`."""

_SQLITE_SUFFIXES = (".db", ".sqlite", ".sqlite3", ".db3")
_DUCKDB_SUFFIXES = (".duckdb", ".ddb")
URL_HINT = (
    "write postgresql://HOST/DB, a .sqlite/.db or .duckdb file, sqlite:PATH / duckdb:PATH,"
    " or duckdb::memory: to query Parquet/CSV files only"
)
DUCKDB_MEMORY = "duckdb::memory:"
"""An in-memory DuckDB: no database file, its queries read Parquet/CSV files."""
ENV_NAME_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


class SourceTarget(Struct, frozen=True):
    """A source URL taken apart: its engine, and the file (SQLite, DuckDB) or the URL
    (PostgreSQL) to open; neither for an in-memory DuckDB (`memory`)."""

    engine: Engine
    url: str | None = None
    path: Path | None = None
    memory: bool = False


def source_target(url: str, base: Path | None = None) -> SourceTarget:
    """The engine and target of `url`; a relative file path is taken relative to `base`
    (the spec's folder). Raises ValueError with a message fit to show the user."""
    text = url.strip()
    lowered = text.lower()
    if lowered.startswith(("postgresql://", "postgres://")):
        return SourceTarget("postgresql", url=text)
    if lowered == DUCKDB_MEMORY:
        return SourceTarget("duckdb", memory=True)
    engine: Engine | None = None
    for prefix in ("sqlite:", "duckdb:"):
        if lowered.startswith(prefix):
            engine = prefix[:-1]  # type: ignore[assignment]
            text = text[len(prefix) :]
            if text.startswith("//"):  # sqlite:///abs/path, as SQLAlchemy writes it
                text = text[2:]
            break
    if not text:
        raise ValueError(f"{quoted(url)} names no file: {URL_HINT}")
    if "://" in text:
        scheme = text.split("://", 1)[0]
        raise ValueError(f"{scheme}:// is not a database kpitui reads: {URL_HINT}")
    path = Path(text).expanduser()
    if engine is None:
        suffix = path.suffix.lower()
        if suffix in _SQLITE_SUFFIXES:
            engine = "sqlite"
        elif suffix in _DUCKDB_SUFFIXES:
            engine = "duckdb"
        else:
            raise ValueError(f"cannot tell which database {quoted(url)} is: {URL_HINT}")
    if base is not None and not path.is_absolute():
        path = base / path
    return SourceTarget(engine, path=path)


class Parameter(Struct, frozen=True):
    name: str
    offset: int
    """Where the `:` is in the query text (0-based)."""


# A quoted string, a quoted identifier, a comment, a dollar-quoted string (PostgreSQL),
# a `::` cast, or a `:name`; anything else is skipped one character at a time.
_TOKENS = re.compile(
    r"""
      '(?:[^']|'')*'?
    | "(?:[^"]|"")*"?
    | --[^\n]*
    | /\*.*?(?:\*/|\Z)
    | (?P<dollar>\$(?P<tag>[A-Za-z_][A-Za-z0-9_]*)?\$)
    | ::
    | :(?P<name>[A-Za-z_][A-Za-z0-9_]*)
    """,
    re.VERBOSE | re.DOTALL,
)


def query_parameters(sql: str) -> list[Parameter]:
    """Every `:name` in `sql` outside strings, quoted names and comments (a `::` cast is
    none), in order."""
    found: list[Parameter] = []
    pos = 0
    while True:
        m = _TOKENS.search(sql, pos)
        if m is None:
            return found
        if m.group("dollar"):
            close = sql.find(m.group("dollar"), m.end())
            pos = len(sql) if close < 0 else close + len(m.group("dollar"))
            continue
        if m.group("name"):
            found.append(Parameter(m.group("name"), m.start()))
        pos = m.end()


def bind_parameters(sql: str, placeholder: dict[str, str], *, escape_percent: bool = False) -> str:
    """`sql` with each `:start`/`:end` replaced by `placeholder[name]` (the driver's own
    way of naming a bound parameter). With `escape_percent`, every `%` outside a
    parameter is doubled, for drivers that read `%` as a placeholder (psycopg)."""
    params = [p for p in query_parameters(sql) if p.name in placeholder]
    out: list[str] = []
    pos = 0
    for p in params:
        chunk = sql[pos : p.offset]
        out.append(chunk.replace("%", "%%") if escape_percent else chunk)
        out.append(placeholder[p.name])
        pos = p.offset + 1 + len(p.name)
    rest = sql[pos:]
    out.append(rest.replace("%", "%%") if escape_percent else rest)
    return "".join(out)
