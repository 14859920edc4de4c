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


def test_a_missing_server_skips_with_the_reason_and_fails_under_ci(monkeypatch):
    # Given a machine without the server binaries
    import pytest

    from tests import pg_server

    monkeypatch.setattr(pg_server, "server_binary", lambda name: None)
    # When a test asks for a server outside CI, Then it is skipped with the reason
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="apt-get install postgresql"):
        pg_server.start_server()
    # And under CI=true the same test fails instead
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI must run this test: no PostgreSQL"):
        pg_server.start_server()
