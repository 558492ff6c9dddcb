"""A hand-written ad-platform dataset (Google Ads, Meta, LinkedIn) with known values, and client factories.

Metrics run from 2026-05-01 to 2026-06-14 for two accounts per platform in different currencies
and time zones. The clients' clock is pinned at :data:`NOW` (2026-06-15 06:00 UTC): it is
already 2026-06-15 in Berlin but still 2026-06-14 in Los Angeles.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from connectors.ad_metrics import MetricWindow
from connectors.google_ads.client import GoogleAdsClient
from connectors.http import RetryPolicy
from connectors.linkedin_ads.client import LinkedInAdsClient
from connectors.meta_ads.client import MetaAdsClient
from connectors.schema import Stream, to_arrow
from sandbox import auth
from sandbox.apis.google_ads import DEVELOPER_TOKEN
from sandbox.apis.linkedin_ads import REFRESH_TOKEN_SECONDS
from sandbox.launcher import RunningSandbox, running_sandbox
from tests.conftest import write_dataset
from tests.support.warehouse import warehouse_resource

NOW = datetime(2026, 6, 15, 6, 0, tzinfo=UTC)
SANDBOX_CLOCK = "2026-06-15T08:00:00+00:00"
DAYS = [date(2026, 5, 1) + timedelta(days=n) for n in range(45)]
#: A window that reaches back past the first day of data, so one read returns everything.
EVERYTHING = MetricWindow(lookback_days=7, history_days=60, chunk_days=30)

# --- Google Ads ---------------------------------------------------------------------------------
G_DE, G_US, G_MANAGER = "1234567890", "9876543210", "5555555555"
G_CAMPAIGNS = {  # id: (customer, status, channel)
    "111": (G_DE, "ENABLED", "SEARCH"),
    "222": (G_DE, "PAUSED", "DISPLAY"),
    "333": (G_DE, "REMOVED", "SEARCH"),
    "444": (G_US, "ENABLED", "SEARCH"),
}
G_AD_GROUPS = {"9001": "111", "9002": "111", "9003": "333", "9004": "444"}
#: One day's cost too large for a float to carry its micros: 987,654,321,987.654321.
G_HUGE_COST = ("111", "2026-05-20", "987654321987654321")


def g_impressions(entity: str, n: int) -> int:
    """Impressions of a campaign or ad group on day `n`; campaign 222 is dark every tenth day."""
    return 0 if entity == "222" and n % 10 == 9 else 1000 + n * 10 + int(entity[-1])


def g_cost_micros(entity: str, n: int) -> str:
    """Cost in micros, with a remainder below one cent."""
    if (entity, DAYS[n].isoformat()) == G_HUGE_COST[:2]:
        return G_HUGE_COST[2]
    return str(g_impressions(entity, n) * 1_500_000 + 10)


def _google() -> dict:
    customers = [
        {"customer.id": G_DE, "customer.descriptive_name": "Acme DE", "customer.currency_code": "EUR",
         "customer.time_zone": "Europe/Berlin"},
        {"customer.id": G_US, "customer.descriptive_name": "Acme US", "customer.currency_code": "USD",
         "customer.time_zone": "America/Los_Angeles"},
        {"customer.id": G_MANAGER, "customer.descriptive_name": "Acme MCC", "customer.currency_code": "USD",
         "customer.time_zone": "America/New_York", "customer.manager": True},
    ]
    campaigns = [{"customer.id": cid, "campaign.id": campaign, "campaign.name": f"Campaign {campaign}",
                  "campaign.status": status, "campaign.advertising_channel_type": channel}
                 for campaign, (cid, status, channel) in G_CAMPAIGNS.items()]
    groups = [{"customer.id": G_CAMPAIGNS[campaign][0], "campaign.id": campaign, "ad_group.id": group,
               "ad_group.name": f"Group {group}", "ad_group.status": "REMOVED" if campaign == "333" else "ENABLED",
               "ad_group.cpc_bid_micros": "1250000"}
              for group, campaign in G_AD_GROUPS.items()]

    def metrics(entity: str, n: int) -> dict:
        impressions = g_impressions(entity, n)
        return {"segments.date": DAYS[n].isoformat(), "metrics.impressions": str(impressions),
                "metrics.clicks": str(impressions // 20), "metrics.cost_micros": g_cost_micros(entity, n),
                "metrics.conversions": 1.333333, "metrics.conversions_value": 50.25}

    campaign_metrics = [{"customer.id": G_CAMPAIGNS[c][0], "campaign.id": c, **metrics(c, n)}
                        for n in range(len(DAYS)) for c in G_CAMPAIGNS]
    group_metrics = [{"customer.id": G_CAMPAIGNS[c][0], "campaign.id": c, "ad_group.id": g, **metrics(g, n)}
                     for n in range(len(DAYS)) for g, c in G_AD_GROUPS.items()]
    return {("google_ads", "customer"): customers, ("google_ads", "campaign"): campaigns,
            ("google_ads", "ad_group"): groups, ("google_ads", "campaign_metrics"): campaign_metrics,
            ("google_ads", "ad_group_metrics"): group_metrics}


# --- Meta ---------------------------------------------------------------------------------------
M_EU, M_US = "104857600123456", "104857600999999"
M_CAMPAIGNS = {  # id: (account, effective status)
    "120208811223340001": (M_EU, "ACTIVE"),
    "120208811223340002": (M_EU, "PAUSED"),
    "120208811223340003": (M_EU, "DELETED"),
    "120208811223340004": (M_EU, "ARCHIVED"),
    "120208811223340005": (M_US, "ACTIVE"),
}
M_ADSETS = {  # id: (campaign, effective status)
    "120208811223350001": ("120208811223340001", "ACTIVE"),
    "120208811223350002": ("120208811223340001", "ACTIVE"),
    "120208811223350003": ("120208811223340002", "PAUSED"),
    "120208811223350004": ("120208811223340003", "DELETED"),
    "120208811223350005": ("120208811223340004", "ARCHIVED"),
    "120208811223350006": ("120208811223340005", "ACTIVE"),
}


def m_delivers(adset: str, n: int) -> bool:
    """Ad set 2 has no delivery every seventh day (Meta then returns no row)."""
    return not (adset.endswith("2") and n % 7 == 6)


def m_spend(adset: str, n: int) -> str:
    """Spend as Meta writes it: a decimal string in major units."""
    return f"{10 + n}.{int(adset[-1]) * 3:02d}"


def m_insight(adset: str, n: int) -> dict:
    """One ad set's insights row for day `n`; even days carry actions."""
    campaign = M_ADSETS[adset][0]
    impressions = 1000 + n * 7 + int(adset[-1]) if m_delivers(adset, n) else 0
    account = M_CAMPAIGNS[campaign][0]
    row = {"account_id": account, "account_currency": "EUR" if account == M_EU else "USD", "campaign_id": campaign,
           "campaign_name": f"name of {campaign}", "adset_id": adset, "adset_name": f"adset {adset[-1]}",
           "date_start": DAYS[n].isoformat(), "date_stop": DAYS[n].isoformat(), "impressions": str(impressions),
           "reach": str(max(0, impressions - 100)), "clicks": str(impressions // 50),
           "spend": m_spend(adset, n) if impressions else "0.00"}
    if n % 2 == 0 and impressions:
        row["actions"] = [{"action_type": "link_click", "value": str(n + 3)}, {"action_type": "lead", "value": "2"},
                          {"action_type": "offsite_conversion.fb_pixel_lead", "value": "1"}]
        row["action_values"] = [{"action_type": "offsite_conversion.fb_pixel_lead", "value": "9.5"}]
    return row


def _meta() -> dict:
    accounts = [
        {"id": f"act_{M_EU}", "account_id": M_EU, "name": "Acme EU", "currency": "EUR",
         "timezone_name": "Europe/Berlin", "account_status": 1},
        {"id": f"act_{M_US}", "account_id": M_US, "name": "Acme US", "currency": "USD",
         "timezone_name": "America/Los_Angeles", "account_status": 1},
    ]
    campaigns = [{"id": cid, "account_id": account, "name": f"name of {cid}", "objective": "OUTCOME_LEADS",
                  "status": status if status != "ARCHIVED" else "PAUSED", "effective_status": status,
                  "created_time": "2026-01-05T10:00:00+0200", "updated_time": "2026-03-01T10:00:00-0700",
                  "daily_budget": "15000"}
                 for cid, (account, status) in M_CAMPAIGNS.items()]
    adsets = [{"id": aid, "account_id": M_CAMPAIGNS[cid][0], "campaign_id": cid, "name": f"adset {aid[-1]}",
               "status": status, "effective_status": status} for aid, (cid, status) in M_ADSETS.items()]
    insights = [m_insight(aid, n) for n in range(len(DAYS)) for aid in M_ADSETS]
    return {("meta_ads", "ad_accounts"): accounts, ("meta_ads", "campaigns"): campaigns,
            ("meta_ads", "adsets"): adsets, ("meta_ads", "adset_insights"): insights}


# --- LinkedIn -----------------------------------------------------------------------------------
L_EU, L_US, L_CLOSED = 508812345, 508899999, 508800000
L_CAMPAIGNS = {  # id: (account, group, status)
    312456781: (L_EU, 7001, "ACTIVE"),
    312456782: (L_EU, 7001, "PAUSED"),
    312456783: (L_EU, 7002, "ARCHIVED"),
    312456784: (L_EU, 7002, "REMOVED"),
    312456785: (L_EU, 7001, "COMPLETED"),
    312456786: (L_US, 7003, "ACTIVE"),
}
L_DELIVERING = (312456781, 312456782, 312456784, 312456786)


def l_cost(campaign: int, n: int) -> str:
    """Local-currency cost with LinkedIn's long binary tail."""
    return f"{n + 1}.{campaign % 10}300000000000335346"


def l_element(campaign: int, n: int) -> dict:
    """One campaign's DAILY analytics element for day `n`."""
    stamp = {"year": DAYS[n].year, "month": DAYS[n].month, "day": DAYS[n].day}
    return {"pivotValues": [f"urn:li:sponsoredCampaign:{campaign}"], "dateRange": {"start": stamp, "end": stamp},
            "impressions": 1000 + n, "clicks": 20 + campaign % 10, "costInLocalCurrency": l_cost(campaign, n),
            "costInUsd": f"{n + 1}.1", "externalWebsiteConversions": campaign % 3, "landingPageClicks": 5}


def _linkedin() -> dict:
    accounts = [{"id": L_EU, "name": "Acme EMEA", "currency": "EUR", "status": "ACTIVE", "type": "BUSINESS"},
                {"id": L_US, "name": "Acme US", "currency": "USD", "status": "ACTIVE", "type": "BUSINESS"},
                {"id": L_CLOSED, "name": "Closed", "currency": "USD", "status": "REMOVED", "type": "BUSINESS"}]
    groups = [{"id": gid, "account": f"urn:li:sponsoredAccount:{acc}", "name": f"Group {gid}", "status": status}
              for gid, acc, status in ((7001, L_EU, "ACTIVE"), (7002, L_EU, "REMOVED"), (7003, L_US, "ACTIVE"))]
    campaigns = [{"id": cid, "account": f"urn:li:sponsoredAccount:{acc}",
                  "campaignGroup": f"urn:li:sponsoredCampaignGroup:{gid}", "name": f"Campaign {cid}",
                  "status": status, "type": "SPONSORED_UPDATES", "costType": "CPM",
                  "dailyBudget": {"amount": "50", "currencyCode": "EUR"}, "runSchedule": {"start": 1775001600000},
                  "changeAuditStamps": {"created": {"time": 1775001600000},
                                        "lastModified": {"time": 1775001600000 + cid % 10}}}
                 for cid, (acc, gid, status) in L_CAMPAIGNS.items()]
    analytics = [l_element(cid, n) for n in range(len(DAYS)) for cid in L_DELIVERING]
    return {("linkedin_ads", "ad_accounts"): accounts, ("linkedin_ads", "campaign_groups"): groups,
            ("linkedin_ads", "campaigns"): campaigns, ("linkedin_ads", "ad_analytics"): analytics}


def write_ads_dataset(folder: Path, records: dict[tuple[str, str], list[dict]] | None = None) -> Path:
    """Write the three platforms' records (or `records` instead) and the sandbox clock as a ``--dataset`` folder."""
    write_dataset(folder, {**_google(), **_meta(), **_linkedin()} if records is None else records)
    (folder / "clock.txt").write_text(SANDBOX_CLOCK + "\n")
    return folder


# --- sandbox fixtures -----------------------------------------------------------------------------


@contextmanager
def running_ads_sandbox(tmp_path_factory: pytest.TempPathFactory, *, env: dict[str, str] | None = None,
                        extra_args: tuple[str, ...] = (),
                        records: dict[tuple[str, str], list[dict]] | None = None) -> Iterator[RunningSandbox]:
    """A sandbox serving the hand-written ad dataset (or `records`, on the same clock) from a new folder of
    `tmp_path_factory`, with `env` set in the environment while it runs and `extra_args` on its command line."""
    folder = write_ads_dataset(tmp_path_factory.mktemp("ads"), records)
    with pytest.MonkeyPatch.context() as patch:
        for name, value in (env or {}).items():
            patch.setenv(name, value)
        with running_sandbox(dataset=folder, extra_args=extra_args) as running:
            yield running


def clearing_faults(sandbox: RunningSandbox) -> Iterator[RunningSandbox]:
    """The body of a function-scoped fixture (``yield from clearing_faults(sandbox)``): hand `sandbox` to one test,
    then remove the faults it injected."""
    yield sandbox
    sandbox.clear_faults()


def restoring_linkedin_refresh_token(sandbox: RunningSandbox) -> Iterator[RunningSandbox]:
    """The body of a function-scoped fixture: hand `sandbox` to one test, then give LinkedIn's refresh token its
    default lifetime back."""
    yield sandbox
    sandbox.set_linkedin_refresh_token_expiry(REFRESH_TOKEN_SECONDS)


# --- clients ------------------------------------------------------------------------------------


class Sleeps(list):
    """A `sleep` that records the delays it is asked for instead of sleeping."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def _settings(defaults: dict, overrides: dict) -> dict:
    return {"window": EVERYTHING, "clock": lambda: NOW, "policy": RetryPolicy(backoff_base=0.01),
            "sleep": Sleeps(), **defaults, **overrides}


def google_client(url: str, **overrides) -> GoogleAdsClient:
    """A Google Ads client pointed at a sandbox, clock pinned at :data:`NOW`."""
    return GoogleAdsClient(**_settings({
        "client_id": auth.CLIENT_ID, "client_secret": auth.CLIENT_SECRET, "refresh_token": auth.REFRESH_TOKEN,
        "developer_token": DEVELOPER_TOKEN, "base_url": url, "token_url": f"{url}/token"}, overrides))


def meta_client(url: str, **overrides) -> MetaAdsClient:
    """A Meta client pointed at a sandbox, clock pinned at :data:`NOW`, small pages, polling without delay."""
    return MetaAdsClient(**_settings({
        "app_id": auth.CLIENT_ID, "app_secret": auth.CLIENT_SECRET, "access_token": auth.REFRESH_TOKEN,
        "base_url": url, "page_limit": 25, "report_poll_seconds": 0.0}, overrides))


def linkedin_client(url: str, **overrides) -> LinkedInAdsClient:
    """A LinkedIn client pointed at a sandbox, clock pinned at :data:`NOW`."""
    return LinkedInAdsClient(**_settings({
        "client_id": auth.CLIENT_ID, "client_secret": auth.CLIENT_SECRET, "refresh_token": auth.REFRESH_TOKEN,
        "base_url": url, "auth_url": url}, overrides))


def rows_of(pages) -> list[dict]:
    """Every record of an iterator of pages."""
    return [record for page in pages for record in page]


def typed_rows(stream: Stream, rows: list[dict]) -> list[dict]:
    """`rows` as :func:`connectors.schema.to_arrow` types them for `stream`, none of them rejected."""
    conversion = to_arrow(stream, rows)
    assert conversion.rejected == [], conversion.rejected  # (no assertion rewriting outside test modules)
    return conversion.table.to_pylist()


def decimal_sum(values) -> Decimal:
    """The exact sum of decimal strings."""
    return sum((Decimal(str(value)) for value in values), Decimal(0))


def google_ads_resources(url: str, env: dict[str, str], **settings) -> dict:
    """The resources of a Google Ads raw asset run: the warehouse of `env` (:func:`tests.conftest.pipeline_env`) and
    the sandbox at `url`, with Google Ads `settings` (e.g. ``history_days``) on top."""
    from pipelines.lib.sources import GoogleAdsResource

    return {
        "warehouse": warehouse_resource(env),
        "google_ads": GoogleAdsResource(base_url=url, token_url=f"{url}/token", client_id=auth.CLIENT_ID,
                                        client_secret=auth.CLIENT_SECRET, refresh_token=auth.REFRESH_TOKEN,
                                        developer_token=DEVELOPER_TOKEN, **settings),
    }
