"""The SQLite backend: one file, WAL mode, rollups beside the points.

The only place in kpitui that imports `sqlite3`; everything it raises is a
`kpitui.errors.StoreError`.
"""

from kpitui.store.sqlite.reader import SqliteReader, open_reader
from kpitui.store.sqlite.writer import Writer, open_writer

__all__ = ["SqliteReader", "Writer", "open_reader", "open_writer"]
