"""`kpitui sync`: filling the store from the team's own databases.

    runner = Runner(loaded_spec, writer, reader)
    for index, pull in runner.pulls():
        result = runner.run(pull, index, now)   # rows read, points changed, or the error

A spec's `sources:` name the databases (PostgreSQL, SQLite, DuckDB; `source`), its
`pull:` the queries; each run reads a window `[start, end)` (`runner`), turns the rows
into points (`rows`) and writes them through the store's writer, like any other
writer; `schedule` keeps running them. Sync is a writer, not a face: it imports the
spec and the store, nothing that draws.
"""
