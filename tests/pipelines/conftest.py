"""Fixtures the raw loader's test modules share: a PostgreSQL server, and a warehouse on DuckDB or on it."""

import pytest

from tests.support.postgres import fresh_database, postgres_server


@pytest.fixture(scope="session")
def postgres_url():
    """A PostgreSQL server for this package's tests (a database on CI's own when CI set one)."""
    with postgres_server(port=55463) as url:
        yield url


@pytest.fixture(params=["duckdb", "postgres"])
def any_warehouse(request, warehouse):
    """The requesting module's `warehouse` (a DuckDB file and a dlt folder), or a database of its own on the
    PostgreSQL server with the same dlt folder; the module's fixture still sets what it sets for the test."""
    if request.param == "duckdb":
        yield warehouse
        return
    with fresh_database(request.getfixturevalue("postgres_url")) as url:
        yield url, warehouse[1]
