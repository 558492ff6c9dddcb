"""Dagster resources for the source APIs; credentials arrive through `dg.EnvVar` only."""

import dagster as dg
from pydantic import Field

from connectors.ad_metrics import MetricWindow
from connectors.google_ads.client import GoogleAdsClient
from connectors.hubspot.client import HubSpotClient
from connectors.linkedin_ads.client import LinkedInAdsClient
from connectors.meta_ads.client import MetaAdsClient
from connectors.salesforce.client import SalesforceClient


class SalesforceResource(dg.ConfigurableResource):
    """A Salesforce org reached through the OAuth refresh-token flow (the sandbox by default)."""

    login_url: str
    client_id: str
    client_secret: str
    refresh_token: str

    def client(self) -> SalesforceClient:
        """A new client for one run."""
        return SalesforceClient(
            login_url=self.login_url,
            client_id=self.client_id,
            client_secret=self.client_secret,
            refresh_token=self.refresh_token,
        )


class HubSpotResource(dg.ConfigurableResource):
    """A HubSpot portal reached through an OAuth app's refresh token (the sandbox by default)."""

    base_url: str
    client_id: str
    client_secret: str
    refresh_token: str

    def client(self) -> HubSpotClient:
        """A new client for one run."""
        return HubSpotClient(
            base_url=self.base_url,
            client_id=self.client_id,
            client_secret=self.client_secret,
            refresh_token=self.refresh_token,
        )


def _ids(text: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in text.split(",") if part.strip())


class AdPlatformResource(dg.ConfigurableResource):
    """What every ad platform's metrics share: the nightly restatement window and the first-run history."""

    lookback_days: int = Field(default=28, description="Days every run re-reads and replaces, ending today.")
    history_days: int = Field(default=365, description="Days the first run (no cursor yet) backfills.")
    chunk_days: int = Field(default=30, description="Days one metrics request covers at most.")

    def window(self) -> MetricWindow:
        """The restatement window these settings describe."""
        return MetricWindow(lookback_days=self.lookback_days, history_days=self.history_days,
                            chunk_days=self.chunk_days)


class GoogleAdsResource(AdPlatformResource):
    """Google Ads customers reached through OAuth plus a developer token (the sandbox by default)."""

    base_url: str
    token_url: str
    client_id: str
    client_secret: str
    refresh_token: str
    developer_token: str
    login_customer_id: str = ""
    customer_ids: str = ""
    api_version: str = "v22"

    def client(self) -> GoogleAdsClient:
        """A new client for one run."""
        return GoogleAdsClient(
            base_url=self.base_url, token_url=self.token_url, client_id=self.client_id,
            client_secret=self.client_secret, refresh_token=self.refresh_token, developer_token=self.developer_token,
            login_customer_id=self.login_customer_id, customer_ids=_ids(self.customer_ids),
            api_version=self.api_version, window=self.window(),
        )


class MetaAdsResource(AdPlatformResource):
    """Meta ad accounts reached through an app and a long-lived token that is exchanged each run."""

    base_url: str
    app_id: str
    app_secret: str
    access_token: str
    account_ids: str = ""
    api_version: str = "v23.0"
    async_after_days: int = Field(default=30, description="Ranges longer than this go through async report runs.")

    def client(self) -> MetaAdsClient:
        """A new client for one run."""
        return MetaAdsClient(
            base_url=self.base_url, app_id=self.app_id, app_secret=self.app_secret, access_token=self.access_token,
            account_ids=_ids(self.account_ids), api_version=self.api_version, window=self.window(),
            async_after_days=self.async_after_days,
        )


class LinkedInAdsResource(AdPlatformResource):
    """LinkedIn ad accounts reached through the OAuth refresh-token flow and a pinned API version."""

    base_url: str
    auth_url: str
    client_id: str
    client_secret: str
    refresh_token: str
    account_ids: str = ""
    api_version: str = Field(default="202606", description="LinkedIn-Version (YYYYMM); each lives 12 months.")

    def client(self) -> LinkedInAdsClient:
        """A new client for one run."""
        return LinkedInAdsClient(
            base_url=self.base_url, auth_url=self.auth_url, client_id=self.client_id,
            client_secret=self.client_secret, refresh_token=self.refresh_token,
            account_ids=_ids(self.account_ids), api_version=self.api_version, window=self.window(),
        )
