"""The metric store: SQLite behind the `StoreReader` interface (see `api`).

`open_reader(path)` for everything that displays (read-only, never creates or migrates);
`open_writer(path)` for the commands and scripts that record points.
"""

from kpitui.store.reader import open_reader
from kpitui.store.writer import open_writer

__all__ = ["open_reader", "open_writer"]
