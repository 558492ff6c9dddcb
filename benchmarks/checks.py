"""Correctness gates a benchmark run must pass before its time counts: a fast wrong run is a failed run.

* Row counts per raw table equal the sandbox's own counts (``/_sandbox/stats``). Salesforce is read
  through ``queryAll``, which returns deleted and merged records too, so every Salesforce object
  must match exactly. HubSpot CRM objects are read live plus ``archived=true``, which together are
  every record the portal still has; a record merged away after the first load disappears from
  HubSpot but stays in the warehouse (flagged, never hard-deleted), so after a simulated day those
  tables may hold *more* rows than the source, never fewer. So may the tables read whole (owners, the
  ad platforms' accounts, campaigns and ad groups): a record a full refresh no longer reads stays,
  flagged. Ad-platform metrics are read over a trailing window (the first run backfills
  ``history_days``), so they hold at most the source's rows.
* No duplicate or null primary keys in raw tables, and no duplicate grain in the marts (the keys
  the dbt project declares ``unique`` / ``unique_combination_of_columns`` for).

Every function returns a list of human-readable problems; an empty list means the gate passed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

EXACT, AT_LEAST, AT_MOST = "exact", "at_least", "at_most"


@dataclass(frozen=True)
class Expected:
    """How many rows a table must hold, and how strictly (`EXACT`, `AT_LEAST` or `AT_MOST` with at least 1)."""

    rows: int
    rule: str = EXACT


#: Raw tables whose sandbox object is not named like the table, or whose rows are not the object's
#: records one for one, with the rule that relates them. Tables not listed map to
#: ``<api>/<table>`` (HubSpot) or ``<api>/<SalesforceObject>`` (Salesforce, via SALESFORCE_OBJECTS).
STATS_KEYS: dict[str, tuple[str, str]] = {
    "raw_hubspot.companies": ("hubspot/companies", "kept"),
    "raw_hubspot.contacts": ("hubspot/contacts", "kept"),
    "raw_hubspot.deals": ("hubspot/deals", "kept"),
    "raw_hubspot.owners": ("hubspot/owners", "kept"),
    "raw_hubspot.email_events": ("hubspot/email_events", EXACT),
    "raw_hubspot.form_submissions": ("hubspot/form_submissions", EXACT),
    "raw_google_ads.customers": ("google_ads/customer", "kept"),
    "raw_google_ads.campaigns": ("google_ads/campaign", "kept"),
    "raw_google_ads.ad_groups": ("google_ads/ad_group", "kept"),
    "raw_google_ads.campaign_daily_metrics": ("google_ads/campaign_metrics", AT_MOST),
    "raw_google_ads.ad_group_daily_metrics": ("google_ads/ad_group_metrics", AT_MOST),
    "raw_meta_ads.ad_accounts": ("meta_ads/ad_accounts", "kept"),
    "raw_meta_ads.campaigns": ("meta_ads/campaigns", "kept"),
    "raw_meta_ads.adsets": ("meta_ads/adsets", "kept"),
    "raw_meta_ads.adset_daily_insights": ("meta_ads/adset_insights", AT_MOST),
    "raw_linkedin_ads.ad_accounts": ("linkedin_ads/ad_accounts", "kept"),
    "raw_linkedin_ads.campaign_groups": ("linkedin_ads/campaign_groups", "kept"),
    "raw_linkedin_ads.campaigns": ("linkedin_ads/campaigns", "kept"),
    "raw_linkedin_ads.campaign_daily_analytics": ("linkedin_ads/ad_analytics", AT_MOST),
}

SALESFORCE_OBJECTS = {
    "user": "User", "account": "Account", "contact": "Contact", "lead": "Lead", "opportunity": "Opportunity",
    "opportunity_history": "OpportunityHistory", "campaign": "Campaign", "campaign_member": "CampaignMember",
}


def expected_rows(tables: Iterable[str], stats_records: Mapping[str, int], after_first_load: bool = False
                  ) -> dict[str, Expected]:
    """What each raw table (``schema.table``) must hold given the sandbox's record counts.

    `after_first_load` is True when the sandbox has moved on since the warehouse's first load (an
    incremental night), which relaxes the tables that keep records gone from the source (HubSpot CRM objects,
    the streams read whole) to `AT_LEAST`.
    Tables without a known source object are left out (they are still checked for duplicate keys).
    """
    expected = {}
    for table in tables:
        schema, name = table.split(".", 1)
        if schema == "raw_salesforce" and name in SALESFORCE_OBJECTS:
            key, rule = f"salesforce/{SALESFORCE_OBJECTS[name]}", EXACT
        elif table in STATS_KEYS:
            key, rule = STATS_KEYS[table]
        else:
            continue
        if key not in stats_records:
            continue
        if rule == "kept":
            rule = AT_LEAST if after_first_load else EXACT
        expected[table] = Expected(stats_records[key], rule)
    return expected


def count_problems(actual: Mapping[str, int], expected: Mapping[str, Expected]) -> list[str]:
    """Tables whose row count breaks its expectation (a missing table counts as 0 rows)."""
    problems = []
    for table, want in sorted(expected.items()):
        got = actual.get(table, 0)
        if want.rule == EXACT and got != want.rows:
            problems.append(f"{table}: {got} rows, the source has {want.rows}")
        elif want.rule == AT_LEAST and got < want.rows:
            problems.append(f"{table}: {got} rows, fewer than the source's {want.rows}")
        elif want.rule == AT_MOST and not 0 < got <= want.rows:
            problems.append(f"{table}: {got} rows, expected between 1 and the source's {want.rows}")
    return problems


def table_counts(connection, schemas_like: str = "raw\\_%") -> dict[str, int]:
    """Row counts of the data tables in schemas matching `schemas_like` (dlt's own tables and staging left out)."""
    tables = connection.execute(
        "select schema_name, table_name from duckdb_tables() where schema_name like ? escape '\\' "
        "and schema_name not like '%\\_staging' escape '\\' and table_name not like '\\_dlt%' escape '\\' "
        "order by 1, 2", [schemas_like]).fetchall()
    return {f"{schema}.{table}": connection.execute(f'select count(*) from "{schema}"."{table}"').fetchone()[0]
            for schema, table in tables}


def key_problems(connection, table: str, key: Iterable[str], allow_null: bool = False) -> list[str]:
    """Duplicate (and, unless `allow_null`, null) values of the key `key` in `table` (``schema.table``).

    A single-column key ignores nulls when they are allowed (as dbt's ``unique``); a compound key with
    nullable columns counts a null as a value, so two rows equal but for sharing a null are duplicates.
    """
    columns = list(key)
    schema, name = table.split(".", 1)
    relation = f'"{schema}"."{name}"'
    quoted = ", ".join(f'"{c}"' for c in columns)
    any_null = " or ".join(f'"{c}" is null' for c in columns)
    problems = []
    duplicated, extra = connection.execute(
        f"select count(*), coalesce(sum(n - 1), 0) from (select count(*) as n from {relation} "
        f"{'' if allow_null and len(columns) > 1 else f'where not ({any_null})'} "
        f"group by {quoted} having count(*) > 1)").fetchone()
    if duplicated:
        problems.append(f"{table}: {duplicated} duplicated values of ({', '.join(columns)}), {extra} extra rows")
    if not allow_null:
        nulls = connection.execute(f"select count(*) from {relation} where {any_null}").fetchone()[0]
        if nulls:
            problems.append(f"{table}: {nulls} rows with a null ({', '.join(columns)})")
    return problems


def raw_keys_from_streams(sources: Mapping[str, Iterable]) -> dict[str, list[str]]:
    """``raw_<source>.<stream>`` -> its primary key, from the connectors' declared streams."""
    return {f"raw_{source}.{stream.name}": [stream.primary_key] for source, streams in sources.items()
            for stream in streams}


def mart_grains(models_yml: Path) -> dict[str, list[tuple[list[str], bool]]]:
    """The unique keys each mart declares in its dbt yml: ``model -> [(columns, nulls allowed)]``.

    A column with a ``unique`` test is a key (nulls allowed unless it is also ``not_null``); a
    ``unique_combination_of_columns`` test names a compound grain (nulls allowed in it unless every
    one of its columns is ``not_null``, e.g. ad_performance_daily's campaign-level rows have no ad group).
    """
    import yaml

    grains: dict[str, list[tuple[list[str], bool]]] = {}
    for model in (yaml.safe_load(models_yml.read_text()) or {}).get("models", []):
        keys = grains.setdefault(model["name"], [])
        not_null = {column["name"] for column in model.get("columns", []) if "not_null" in _test_names(column)}
        for test in _tests(model):
            if isinstance(test, dict):
                (test_name, spec), = test.items()
                if test_name.split(".")[-1] == "unique_combination_of_columns":
                    arguments = (spec or {}).get("arguments", spec) or {}
                    columns = list(arguments["combination_of_columns"])
                    keys.append((columns, not set(columns) <= not_null))
        for column in model.get("columns", []):
            names = _test_names(column)
            if "unique" in names:
                keys.append(([column["name"]], "not_null" not in names))
    return {model: keys for model, keys in grains.items() if keys}


def _tests(node: dict) -> list:
    return list(node.get("data_tests") or []) + list(node.get("tests") or [])


def _test_names(node: dict) -> list[str]:
    """The names of a node's tests (``unique``, ``not_null``; a test with arguments by its key)."""
    return [test if isinstance(test, str) else next(iter(test)) for test in _tests(node)]


def mart_problems(connection, grains: Mapping[str, list[tuple[list[str], bool]]], schema: str = "marts"
                  ) -> list[str]:
    """Every declared grain of every mart present in `schema` holds; a declared mart that is missing is a problem."""
    present = {row[0] for row in connection.execute(
        "select table_name from duckdb_tables() where schema_name = ?", [schema]).fetchall()}
    problems = []
    for model, keys in sorted(grains.items()):
        if model not in present:
            problems.append(f"{schema}.{model}: missing")
            continue
        for columns, allow_null in keys:
            problems += key_problems(connection, f"{schema}.{model}", columns, allow_null=allow_null)
    return problems


def warehouse_problems(warehouse: Path, stats_records: Mapping[str, int], raw_keys: Mapping[str, list[str]],
                       after_first_load: bool = False, grains: Mapping | None = None,
                       analytics: Path | None = None) -> tuple[list[str], dict[str, int]]:
    """All gates over one warehouse file (and its published snapshot): ``(problems, raw row counts)``."""
    import duckdb

    problems: list[str] = []
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        counts = table_counts(connection)
        loaded_sources = {table.split(".")[0] for table in counts}
        wanted_tables = [t for t in raw_keys if t.split(".")[0] in loaded_sources]
        problems += count_problems(counts, expected_rows(wanted_tables, stats_records, after_first_load))
        for table in wanted_tables:
            if table not in counts:
                problems.append(f"{table}: missing")
            else:
                problems += key_problems(connection, table, raw_keys[table])
        if grains:
            problems += mart_problems(connection, grains)
            mart_counts = table_counts(connection, "marts")
    if grains and analytics is not None:
        if not analytics.exists():
            problems.append(f"{analytics}: no published snapshot")
        else:
            with duckdb.connect(str(analytics), read_only=True) as connection:
                problems += [f"published {p}" for p in mart_problems(connection, grains)]
                published_counts = table_counts(connection, "marts")
            problems += [f"published {table}: {published_counts.get(table)} rows, the warehouse has {rows}"
                         for table, rows in mart_counts.items() if published_counts.get(table) != rows]
    return problems, counts
