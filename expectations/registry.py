"""Which suite validates which warehouse table, and whether a failure blocks publishing.

Every table has two suites:

- ``<table>_suite`` (blocking): structure — the grain present and unique, e-mails well formed,
  money non-negative with a currency, categories allowed, no dates in the future. On a raw table
  only what the loader guarantees blocks (its key, its load stamps): raw keeps what the source
  sent, and the marts' suites decide what reaches BI.
- ``<table>_health`` (warn): distribution — freshness of the newest record, the row count against
  the source's own total where its API reports one (raw tables) or else against the previous night,
  and on raw tables the value rules above, which flag bad source data without stopping the night.

Windows come from the environment: ``QUALITY_LOAD_MAX_AGE_HOURS`` (newest ``_loaded_at``, default 26),
``QUALITY_RECORD_MAX_AGE_HOURS`` (newest source change / event / day, default 72) and
``QUALITY_MAX_ROW_DROP_PCT`` (default 20); the tolerance around a source's total is
``QUALITY_SOURCE_TOTAL_TOLERANCE_PCT`` (default 1). Ages are judged now, or at ``QUALITY_FRESHNESS_AS_OF``
(expectations/table_facts.py).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from expectations.suites import (
    account_source_records,
    accounts,
    ad_performance_daily,
    alignment_issues,
    attribution,
    campaigns,
    channel_performance_monthly,
    customer_retention,
    funnel_monthly,
    opportunities,
    opportunity_stage_history,
    pipeline_daily,
    prospect_source_records,
    prospects,
    raw_google_ads,
    raw_hubspot,
    raw_linkedin_ads,
    raw_meta_ads,
    raw_salesforce,
    shared_metrics_daily,
    touchpoints,
)
from expectations.suites.common import loaded


def _setting(name: str, default: float) -> float:
    return float(os.environ.get(name) or default)


LOAD_MAX_AGE = timedelta(hours=_setting("QUALITY_LOAD_MAX_AGE_HOURS", 26))
RECORD_MAX_AGE = timedelta(hours=_setting("QUALITY_RECORD_MAX_AGE_HOURS", 72))
# A metrics day is complete a day after it ends, in the account's time zone: one day more.
DAY_MAX_AGE = RECORD_MAX_AGE + timedelta(days=1)
MAX_ROW_DROP = _setting("QUALITY_MAX_ROW_DROP_PCT", 20) / 100
# Records created or deleted between the end of a sync and the count it asks for afterwards.
SOURCE_TOTAL_TOLERANCE = _setting("QUALITY_SOURCE_TOTAL_TOLERANCE_PCT", 1) / 100


@dataclass(frozen=True)
class Freshness:
    """The newest value of `column` must be younger than `max_age`."""

    column: str
    max_age: timedelta


@dataclass(frozen=True)
class SuiteSpec:
    """A suite bound to a table: `blocking` suites stop the publish step when they fail.

    `key` names failing rows in the results; values of `masked` columns never leave the check.
    `freshness` and `max_row_drop` add table-level expectations computed in SQL (see `table_facts`);
    `source_total_tolerance` compares the row count with the source's own total where its API reports
    one (the raw asset's ``source_total`` metadata), instead of with the previous night.
    """

    name: str
    schema: str
    table: str
    expectations: Callable[[], list]
    blocking: bool = True
    description: str = ""
    key: tuple[str, ...] = ()
    masked: tuple[str, ...] = ()
    freshness: tuple[Freshness, ...] = ()
    max_row_drop: float | None = None
    source_total_tolerance: float | None = None

    @property
    def relation(self) -> str:
        """``schema.table``, as people write it."""
        return f"{self.schema}.{self.table}"


def _doc(function: Callable) -> str:
    return " ".join((function.__doc__ or "").split())


def raw(
    source: str, table: str, key: str, health: Callable[[], list], *freshness: Freshness, masked: tuple[str, ...] = ()
) -> tuple[SuiteSpec, ...]:
    """The two suites of the raw table ``raw_<source>.<table>``: the loader's guarantees, and the source's health."""
    schema = f"raw_{source}"
    return (
        SuiteSpec(
            name=f"{source}_{table}_suite", schema=schema, table=table, key=(key,), masked=masked,
            expectations=lambda: loaded(key),
            description=f"`{schema}.{table}` as loaded: key `{key}` present and unique, every row stamped "
                        f"with its load (`_loaded_at`, `_run_id`).",
        ),
        SuiteSpec(
            name=f"{source}_{table}_health", schema=schema, table=table, key=(key,), masked=masked,
            expectations=health, blocking=False, description=_doc(health),
            freshness=(Freshness("_loaded_at", LOAD_MAX_AGE), *freshness), max_row_drop=MAX_ROW_DROP,
            source_total_tolerance=SOURCE_TOTAL_TOLERANCE,
        ),
    )


def mart(module, *freshness: Freshness) -> tuple[SuiteSpec, ...]:
    """The two suites of the mart `module` describes (``TABLE``, ``KEY``, ``expectations``, ``health``)."""
    table = module.TABLE
    masked = tuple(getattr(module, "MASKED", ()))
    return (
        SuiteSpec(name=f"{table}_suite", schema="marts", table=table, key=module.KEY, masked=masked,
                  expectations=module.expectations, description=_doc(module)),
        SuiteSpec(name=f"{table}_health", schema="marts", table=table, key=module.KEY, masked=masked,
                  expectations=module.health, blocking=False, description=_doc(module.health),
                  freshness=freshness, max_row_drop=MAX_ROW_DROP),
    )


def modified(column: str) -> Freshness:
    """The newest change the source reports."""
    return Freshness(column, RECORD_MAX_AGE)


def day(column: str) -> Freshness:
    """The newest metrics or snapshot day."""
    return Freshness(column, DAY_MAX_AGE)


SF, HS, GA, MA, LI = raw_salesforce, raw_hubspot, raw_google_ads, raw_meta_ads, raw_linkedin_ads

SUITES: tuple[SuiteSpec, ...] = (
    *raw("salesforce", "account", "id", SF.account, modified("system_modstamp")),
    *raw("salesforce", "contact", "id", SF.contact, modified("system_modstamp"), masked=("email",)),
    *raw("salesforce", "lead", "id", SF.lead, modified("system_modstamp"), masked=("email",)),
    *raw("salesforce", "opportunity", "id", SF.opportunity, modified("system_modstamp")),
    *raw("salesforce", "opportunity_history", "id", SF.opportunity_history),
    *raw("salesforce", "campaign", "id", SF.campaign),
    *raw("salesforce", "campaign_member", "id", SF.campaign_member),
    *raw("salesforce", "user", "id", SF.user, masked=("email", "username")),
    *raw("hubspot", "companies", "id", HS.companies, modified("hs_lastmodifieddate")),
    *raw("hubspot", "contacts", "id", HS.contacts, modified("lastmodifieddate"), masked=("email",)),
    *raw("hubspot", "deals", "id", HS.deals, modified("hs_lastmodifieddate")),
    *raw("hubspot", "owners", "id", HS.owners, masked=("email",)),
    *raw("hubspot", "deal_pipeline_stages", "stage_key", HS.deal_pipeline_stages),
    *raw("hubspot", "email_events", "id", HS.email_events, masked=("recipient",)),
    *raw("hubspot", "form_submissions", "conversion_id", HS.form_submissions),
    *raw("google_ads", "customers", "customer_id", GA.customers),
    *raw("google_ads", "campaigns", "campaign_id", GA.campaigns),
    *raw("google_ads", "ad_groups", "ad_group_id", GA.ad_groups),
    *raw("google_ads", "campaign_daily_metrics", "row_key", GA.campaign_daily_metrics, day("date")),
    *raw("google_ads", "ad_group_daily_metrics", "row_key", GA.ad_group_daily_metrics, day("date")),
    *raw("meta_ads", "ad_accounts", "account_id", MA.ad_accounts),
    *raw("meta_ads", "campaigns", "id", MA.campaigns),
    *raw("meta_ads", "adsets", "id", MA.adsets),
    *raw("meta_ads", "campaign_daily_insights", "row_key", MA.campaign_daily_insights, day("date")),
    *raw("meta_ads", "adset_daily_insights", "row_key", MA.adset_daily_insights, day("date")),
    *raw("linkedin_ads", "ad_accounts", "id", LI.ad_accounts),
    *raw("linkedin_ads", "campaign_groups", "id", LI.campaign_groups),
    *raw("linkedin_ads", "campaigns", "id", LI.campaigns),
    *raw("linkedin_ads", "campaign_daily_analytics", "row_key", LI.campaign_daily_analytics, day("date")),
    *mart(accounts),
    *mart(account_source_records),
    *mart(prospects, modified("created_at")),
    *mart(prospect_source_records),
    *mart(opportunities),
    *mart(opportunity_stage_history),
    *mart(pipeline_daily, day("date_day")),
    *mart(campaigns),
    *mart(ad_performance_daily, day("date_day")),
    *mart(touchpoints, modified("occurred_at")),
    *mart(attribution),
    *mart(channel_performance_monthly),
    *mart(funnel_monthly),
    *mart(customer_retention),
    *mart(alignment_issues),
    *mart(shared_metrics_daily, day("date_day")),
)


def suites_for(schema: str, table: str) -> list[SuiteSpec]:
    """The suites registered for one table."""
    return [spec for spec in SUITES if spec.schema == schema and spec.table == table]
