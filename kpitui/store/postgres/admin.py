"""What a database administrator runs so that a team can share a PostgreSQL store.

`kpitui store init URL --grants` prints these statements: a writer role (record, import,
sync, watch) may read and write kpitui's tables, a reader role (the dashboard, check,
snapshot, serve) may only read them. Tables a later kpitui adds (forward migrations, run
by the owner) get the same grants through default privileges.
"""

from __future__ import annotations

from psycopg.conninfo import conninfo_to_dict

from kpitui.store.name import StoreName
from kpitui.store.postgres.connect import SCHEMA


def quoted(identifier: str) -> str:
    """A role or database name as a SQL identifier, whatever it holds."""
    return '"' + identifier.replace('"', '""') + '"'


def database_of(name: StoreName) -> str | None:
    assert name.url is not None
    try:
        return conninfo_to_dict(name.url).get("dbname")
    except Exception:  # an invalid URL fails later, where it is used, in one line
        return None


def grant_statements(name: StoreName, writer: str, reader: str) -> str:
    """The SQL that lets role `writer` write the store and role `reader` read it (run it
    as the role that owns the tables: the one `store init` ran as)."""
    w, r, s = quoted(writer), quoted(reader), SCHEMA
    lines = [
        f"-- kpitui: a writer role ({writer}) and a read-only role ({reader}).",
        f"-- Create them first if needed: CREATE ROLE {w} LOGIN; CREATE ROLE {r} LOGIN;",
    ]
    database = database_of(name)
    if database:
        lines += [
            f"GRANT CONNECT, TEMPORARY ON DATABASE {quoted(database)} TO {w};",
            f"GRANT CONNECT ON DATABASE {quoted(database)} TO {r};",
        ]
    lines += [
        f"GRANT USAGE ON SCHEMA {s} TO {w}, {r};",
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {s} TO {w};",
        f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {s} TO {w};",
        f"GRANT SELECT ON ALL TABLES IN SCHEMA {s} TO {r};",
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA {s}"
        f" GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {w};",
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA {s} GRANT USAGE, SELECT ON SEQUENCES TO {w};",
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA {s} GRANT SELECT ON TABLES TO {r};",
    ]
    return "\n".join(lines)
