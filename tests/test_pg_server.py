"""The PostgreSQL fixture the backend, sync and alert tests share."""

from __future__ import annotations


def test_each_test_gets_an_empty_database_of_its_own(pg_url, pg_server):
    # Given a fresh database / When it is listed / Then it holds no tables and is not the server's default
    import psycopg

    with psycopg.connect(pg_url) as con:
        tables = con.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'"
        ).fetchone()
        name = con.execute("SELECT current_database()").fetchone()
    assert tables == (0,)
    assert pg_url == f"{pg_server}/{name[0]}"
    assert name[0] not in ("postgres", "template1")
