"""Publishing with hashed e-mails: BI sees HMAC-SHA256(key, e-mail), the warehouse keeps clear e-mails,
and the key is in no table and no log."""

import hashlib
import hmac
import logging
import re
from urllib.parse import urlparse, urlunparse

import duckdb
import psycopg2
import pytest

from pipelines.lib.publish import publish_duckdb, publish_postgres
from pipelines.lib.warehouse import WarehouseResource
from tests.support.postgres import postgres_server

KEY = "pii-test-key-4f0c9e21"
EMAILS = ["ada@example.com", "grace.hopper@navy.mil"]
HEX64 = re.compile(r"^[0-9a-f]{64}$")


def _hashed(email: str) -> str:
    return hmac.new(KEY.encode(), email.encode(), hashlib.sha256).hexdigest()


def _marts_sql() -> list[str]:
    return [
        "create schema if not exists marts",
        "create table marts.prospects as select * from (values ('p1', 'ada@example.com', 'example.com', false), "
        "('p2', 'grace.hopper@navy.mil', 'navy.mil', false), ('p3', null, null, true)) "
        "as v(prospect_id, email, email_domain, is_personal_email)",
        "create table marts.prospect_source_records as select * from (values ('r1', 'p1', 'ada@example.com')) "
        "as v(source_record_id, prospect_id, source_email)",
    ]


def _contains_key(rows: list[tuple]) -> bool:
    return any(KEY in str(value) for row in rows for value in row)


def test_duckdb_publishes_keyed_hashes_and_keeps_clear_emails_in_the_warehouse(tmp_path, caplog):
    warehouse, analytics = tmp_path / "warehouse.duckdb", tmp_path / "analytics.duckdb"
    with duckdb.connect(str(warehouse)) as connection:
        for statement in _marts_sql():
            connection.execute(statement)

    with caplog.at_level(logging.DEBUG):
        publish_duckdb(warehouse, analytics, email_key=KEY)

    with duckdb.connect(str(analytics), read_only=True) as published:
        emails = published.execute("select email, email_domain, is_personal_email from marts.prospects "
                                   "order by prospect_id").fetchall()
        assert emails == [(_hashed(EMAILS[0]), "example.com", False), (_hashed(EMAILS[1]), "navy.mil", False),
                          (None, None, True)]
        assert all(HEX64.match(email) for email, *_ in emails[:2])
        assert published.execute("select source_email from marts.prospect_source_records").fetchall() == [
            (_hashed(EMAILS[0]),)]
        everything = published.execute(
            "select * from marts.prospects, marts.prospect_source_records").fetchall()
        assert not _contains_key(everything)
        assert not published.execute("select * from duckdb_functions() where function_name = 'cg_email_hash'"
                                     ).fetchall()
    with duckdb.connect(str(warehouse), read_only=True) as working:
        assert working.execute("select email from marts.prospects where email is not null order by 1"
                               ).fetchall() == [(e,) for e in EMAILS]
    assert KEY not in caplog.text


def test_hashing_without_a_key_refuses_to_publish():
    warehouse = WarehouseResource(duckdb_path="unused.duckdb", analytics_path="unused.duckdb", hash_emails=True)
    with pytest.raises(ValueError, match="PII_HASH_KEY"):
        warehouse.publish_marts()


@pytest.fixture(scope="module")
def pii_database():
    """A database of its own on the test server (the PostgreSQL end-to-end test uses the default one)."""
    with postgres_server(port=55434) as url:
        admin = psycopg2.connect(url)
        admin.autocommit = True
        with admin.cursor() as cursor:
            cursor.execute("drop database if exists cg_pii_test")
            cursor.execute("create database cg_pii_test")
        parts = urlparse(url)
        yield urlunparse(parts._replace(path="/cg_pii_test"))
        with admin.cursor() as cursor:
            cursor.execute("drop database if exists cg_pii_test with (force)")
        admin.close()


def test_postgres_publishes_keyed_hashes_computed_outside_the_server(pii_database, caplog):
    with psycopg2.connect(pii_database) as connection, connection.cursor() as cursor:
        for statement in _marts_sql():
            cursor.execute(statement)

    with caplog.at_level(logging.DEBUG):
        publish_postgres(pii_database, "bi_reader_pii", email_key=KEY)

    with psycopg2.connect(pii_database) as connection, connection.cursor() as cursor:
        cursor.execute("select email from analytics.prospects order by prospect_id")
        assert cursor.fetchall() == [(_hashed(EMAILS[0]),), (_hashed(EMAILS[1]),), (None,)]
        cursor.execute("select source_email from analytics.prospect_source_records")
        assert cursor.fetchall() == [(_hashed(EMAILS[0]),)]
        cursor.execute("select email from marts.prospects where email is not null order by 1")
        assert cursor.fetchall() == [(e,) for e in EMAILS]
        cursor.execute("select * from analytics.prospects, analytics.prospect_source_records")
        assert not _contains_key(cursor.fetchall())
        cursor.execute("select count(*) from pg_tables where tablename = 'cg_email_hashes'")
        assert cursor.fetchone() == (0,)
    assert KEY not in caplog.text


def test_the_hash_key_comes_from_the_environment_through_envvar(monkeypatch):
    import dagster as dg

    from pipelines.lib.warehouse import warehouse_from_environment

    monkeypatch.setenv("WAREHOUSE_TARGET", "duckdb")
    monkeypatch.setenv("PUBLISH_HASHED_EMAILS", "true")
    warehouse = warehouse_from_environment()
    assert warehouse.hash_emails is True and isinstance(warehouse.pii_hash_key, dg.EnvVar)
    monkeypatch.setenv("PUBLISH_HASHED_EMAILS", "false")
    assert warehouse_from_environment().hash_emails is False
