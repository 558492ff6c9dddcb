"""Reading a test's warehouse, whichever it is: a DuckDB file path or a ``postgresql://`` URL."""

from __future__ import annotations

import duckdb


def warehouse_rows(target: str, query: str, parameters: list | None = None) -> list[tuple]:
    """The rows of `query` in the warehouse `target` (a DuckDB file, opened read-only, or a PostgreSQL URL);
    `parameters` fill its ``?`` placeholders."""
    if target.startswith("postgresql://"):
        import psycopg2

        connection = psycopg2.connect(target)
        try:
            with connection.cursor() as cursor:
                cursor.execute(query.replace("?", "%s") if parameters else query, parameters)
                return cursor.fetchall()
        finally:
            connection.close()
    with duckdb.connect(target, read_only=True) as connection:
        return connection.execute(query, parameters or []).fetchall()


def warehouse_resource(env: dict[str, str]):
    """The warehouse resource of a raw asset run on the warehouse of `env` (:func:`tests.conftest.pipeline_env`)."""
    from pipelines.lib.warehouse import WarehouseResource

    return WarehouseResource(duckdb_path=env["WAREHOUSE_DUCKDB_PATH"], analytics_path=env["ANALYTICS_DUCKDB_PATH"],
                             dlt_pipelines_dir=env["DLT_PIPELINES_DIR"])


def salesforce_resources(url: str, env: dict[str, str]) -> dict:
    """The resources of a Salesforce raw asset run: the warehouse of `env` and the sandbox org at `url`."""
    from pipelines.lib.sources import SalesforceResource
    from sandbox import auth

    return {"warehouse": warehouse_resource(env),
            "salesforce": SalesforceResource(login_url=url, client_id=auth.CLIENT_ID, client_secret=auth.CLIENT_SECRET,
                                             refresh_token=auth.REFRESH_TOKEN)}


def hubspot_resources(url: str, env: dict[str, str]) -> dict:
    """The resources of a HubSpot raw asset run: the warehouse of `env` and the sandbox portal at `url`."""
    from pipelines.lib.sources import HubSpotResource
    from sandbox import auth

    return {"warehouse": warehouse_resource(env),
            "hubspot": HubSpotResource(base_url=url, client_id=auth.CLIENT_ID, client_secret=auth.CLIENT_SECRET,
                                       refresh_token=auth.REFRESH_TOKEN)}
