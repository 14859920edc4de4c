"""The PostgreSQL backend: a store a team shares, in schema `kpitui` of their database.

The only place in kpitui that imports `psycopg`; everything it raises is a
`kpitui.errors.StoreError`. Writers COPY points in and upsert them (`writer`), readers
use read-only transactions and learn of changes by LISTEN/NOTIFY (`reader`).
"""

from kpitui.store.postgres.reader import PgReader, open_reader
from kpitui.store.postgres.writer import PgWriter, open_writer

__all__ = ["PgReader", "PgWriter", "open_reader", "open_writer"]
