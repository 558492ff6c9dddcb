"""Dagster resources for the source APIs; credentials arrive through `dg.EnvVar` only.

Each resource names the environment variable behind each of its settings; API addresses default
to the real APIs, so credentials are what a source needs. A source whose required variables are
not set is *not configured*: `from_environment` leaves those settings
empty instead of failing, so the code location loads and the night runs without that source,
and `missing_settings` tells the raw assets which variables to name in their warning.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import ClassVar

import dagster as dg
from pydantic import Field, field_validator

from connectors.ad_metrics import MetricWindow
from connectors.google_ads import client as google_ads_api
from connectors.google_ads.client import GoogleAdsClient
from connectors.hubspot import client as hubspot_api
from connectors.hubspot.client import HubSpotClient
from connectors.linkedin_ads import client as linkedin_ads_api
from connectors.linkedin_ads.client import LinkedInAdsClient
from connectors.meta_ads import client as meta_ads_api
from connectors.meta_ads.client import MetaAdsClient
from connectors.redact import register_secret
from connectors.salesforce.client import API_BUDGET_SETTING, DEFAULT_API_BUDGET_PERCENT, SalesforceClient
from connectors.token_store import RefreshTokenStore
from pipelines.local import PROJECT_ROOT


class SourceResource(dg.ConfigurableResource):
    """A source API's connection settings, each read from the environment variable `ENVIRONMENT` names."""

    #: setting -> the environment variable that holds it
    ENVIRONMENT: ClassVar[dict[str, str]] = {}
    #: settings without which the source cannot be reached
    REQUIRED: ClassVar[tuple[str, ...]] = ()
    #: settings that are credentials, wherever a source has them
    SECRETS: ClassVar[tuple[str, ...]] = ("client_secret", "refresh_token", "developer_token", "app_secret",
                                          "access_token")

    @field_validator("*", mode="after")
    @classmethod
    def _trimmed(cls, value):
        """A setting without surrounding whitespace: a token read from a secret file or a CRLF env file ends in a
        line break, which HTTP refuses in a header."""
        return value.strip() if isinstance(value, str) else value

    @classmethod
    def from_environment(cls, **settings):
        """The resource with every setting whose variable is set bound through `dg.EnvVar`; the others stay empty.

        Which variables are set is read when the definitions load; Dagster loads them again in the
        process that runs a job, so a run sees the environment it starts in. The credentials are
        registered for masking here, so every process that loads the definitions masks them, including
        the one whose sensors post alerts, where no client is ever built.
        """
        for name in cls.SECRETS:
            register_secret(os.environ.get(cls.ENVIRONMENT.get(name, "")))
        bound = {name: dg.EnvVar(variable) for name, variable in cls.ENVIRONMENT.items() if os.environ.get(variable)}
        return cls(**bound, **settings)

    def missing_settings(self) -> list[str]:
        """The environment variables (names only, never values) of the required settings that are empty."""
        return [self.ENVIRONMENT.get(name, name) for name in self.REQUIRED if not getattr(self, name)]

    @property
    def is_configured(self) -> bool:
        """True when every required setting has a value."""
        return not self.missing_settings()


SALESFORCE_LOGIN_URL = "https://login.salesforce.com"
#: The variable naming the folder that keeps refresh tokens a source rotated (see `credential_store_folder`).
CREDENTIAL_STORE_SETTING = "CREDENTIAL_STORE_DIR"


def credential_store_folder(configured: str = "") -> Path:
    """The folder of rotated refresh tokens: `configured` (`CREDENTIAL_STORE_SETTING`) when set, else ``credentials``
    in the Dagster home (``DAGSTER_HOME``, default the project's ``.dagster_home``): the installation's own state,
    kept as long as its run history and never published (unlike the warehouse folder, which holds the published
    snapshot and the quality report)."""
    if configured.strip():
        return Path(configured.strip()).expanduser()
    return Path(os.environ.get("DAGSTER_HOME") or PROJECT_ROOT / ".dagster_home") / "credentials"


def settings_from(prefix: str, *names: str) -> dict[str, str]:
    """``{name: PREFIX_NAME}`` for each setting name: the variables a source's settings are read from."""
    return {name: f"{prefix}_{name.upper()}" for name in names}


class OAuthAppResource(SourceResource):
    """A source reached through an OAuth app's refresh token: the app's id and secret, and the token."""

    client_id: str = ""
    client_secret: str = ""
    refresh_token: str = ""


class SalesforceResource(OAuthAppResource):
    """A Salesforce org reached through the OAuth refresh-token flow (the sandbox by default)."""

    REQUIRED: ClassVar[tuple[str, ...]] = ("client_id", "client_secret", "refresh_token")
    ENVIRONMENT: ClassVar[dict[str, str]] = {
        **settings_from("SALESFORCE", "login_url", *REQUIRED, "api_budget_percent"),
        "credential_store_dir": CREDENTIAL_STORE_SETTING}

    login_url: str = Field(default=SALESFORCE_LOGIN_URL, description="test.salesforce.com for sandbox orgs.")
    # Text, as the environment holds it: a bad value fails the Salesforce sync with its own message, not every
    # source's definitions when they load.
    api_budget_percent: str = Field(
        default=str(DEFAULT_API_BUDGET_PERCENT),
        description="Share of the org's daily API allocation, in percent (1-100), at which a sync stops cleanly, "
                    "leaving the rest to the org's other integrations; 100: no budget.")
    credential_store_dir: str = Field(
        default="", description="Folder keeping the refresh token the org rotated, for the next run (connected apps "
                                "with refresh-token rotation); empty: credentials in DAGSTER_HOME.")

    def client(self) -> SalesforceClient:
        """A new client for one run, starting from the newest refresh token the org rotated from the configured one
        (kept in `credential_store_folder`)."""
        store = RefreshTokenStore(credential_store_folder(self.credential_store_dir), "salesforce")
        return SalesforceClient(login_url=self.login_url, client_id=self.client_id,
                                client_secret=self.client_secret, refresh_token=self.refresh_token,
                                api_budget_percent=self.api_budget(), token_store=store)

    def api_budget(self) -> int:
        """`api_budget_percent` as a whole number from 1 to 100; a `ValueError` naming its variable otherwise."""
        text = str(self.api_budget_percent).strip().removesuffix("%").strip()
        if not (text.isascii() and text.isdigit()) or not 1 <= int(text) <= 100:
            raise ValueError(f"{API_BUDGET_SETTING} must be a whole number of percent from 1 to 100 (100: no "
                             f"budget), not {self.api_budget_percent!r}")
        return int(text)


class HubSpotResource(OAuthAppResource):
    """A HubSpot portal reached through an OAuth app's refresh token (the sandbox by default)."""

    REQUIRED: ClassVar[tuple[str, ...]] = ("client_id", "client_secret", "refresh_token")
    ENVIRONMENT: ClassVar[dict[str, str]] = settings_from("HUBSPOT", "base_url", *REQUIRED)

    base_url: str = hubspot_api.BASE_URL

    def client(self) -> HubSpotClient:
        """A new client for one run."""
        return HubSpotClient(base_url=self.base_url, client_id=self.client_id, client_secret=self.client_secret,
                             refresh_token=self.refresh_token)


def _ids(text: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in text.split(",") if part.strip())


class AdPlatformResource(SourceResource):
    """What every ad platform shares: an API base URL and version, the accounts to read, the restatement window."""

    base_url: str = ""  # each platform defaults it to its real API
    account_ids: str = Field(default="", description="Comma-separated accounts to read; empty: every accessible one.")
    api_version: str = ""
    lookback_days: int = Field(default=28, description="Days every run re-reads and replaces, ending today "
                                                       "by the platform's clock (the days the platform restates).")
    history_days: int = Field(default=365, description="Days the first run (no cursor yet) backfills.")
    chunk_days: int = Field(default=30, description="Days one metrics request covers at most.")

    def window(self) -> MetricWindow:
        """The restatement window these settings describe."""
        return MetricWindow(lookback_days=self.lookback_days, history_days=self.history_days,
                            chunk_days=self.chunk_days)

    def client_settings(self) -> dict:
        """The settings every ad client takes: base URL, accounts, API version and window."""
        return {"base_url": self.base_url, "account_ids": _ids(self.account_ids), "api_version": self.api_version,
                "window": self.window()}


class GoogleAdsResource(AdPlatformResource, OAuthAppResource):
    """Google Ads customers reached through OAuth plus a developer token (the sandbox by default)."""

    REQUIRED: ClassVar[tuple[str, ...]] = ("client_id", "client_secret", "refresh_token", "developer_token")
    ENVIRONMENT: ClassVar[dict[str, str]] = {
        **settings_from("GOOGLE_ADS", "base_url", "token_url", *REQUIRED, "login_customer_id"),
        "account_ids": "GOOGLE_ADS_CUSTOMER_IDS"}

    base_url: str = google_ads_api.BASE_URL
    token_url: str = google_ads_api.TOKEN_URL
    developer_token: str = ""
    login_customer_id: str = ""
    api_version: str = google_ads_api.API_VERSION
    # Conversions are credited to the click's day for the conversion window: 30 days unless an advertiser sets
    # up to 90 (then raise this).
    lookback_days: int = Field(default=30, description="Days every run re-reads and replaces, ending today by "
                                                       "Google's clock: the longest conversion window in use.")

    def client(self) -> GoogleAdsClient:
        """A new client for one run."""
        settings = self.client_settings()
        return GoogleAdsClient(
            token_url=self.token_url, client_id=self.client_id, client_secret=self.client_secret,
            refresh_token=self.refresh_token, developer_token=self.developer_token,
            login_customer_id=self.login_customer_id, customer_ids=settings.pop("account_ids"), **settings,
        )


class MetaAdsResource(AdPlatformResource):
    """Meta ad accounts reached through an app and a long-lived token that is exchanged each run."""

    REQUIRED: ClassVar[tuple[str, ...]] = ("app_id", "app_secret", "access_token")
    ENVIRONMENT: ClassVar[dict[str, str]] = settings_from("META_ADS", "base_url", *REQUIRED, "account_ids")

    base_url: str = meta_ads_api.BASE_URL

    app_id: str = ""
    app_secret: str = ""
    access_token: str = ""
    api_version: str = meta_ads_api.API_VERSION
    async_after_days: int = Field(default=30, description="Ranges longer than this go through async report runs.")

    def client(self) -> MetaAdsClient:
        """A new client for one run."""
        return MetaAdsClient(app_id=self.app_id, app_secret=self.app_secret, access_token=self.access_token,
                             async_after_days=self.async_after_days, **self.client_settings())


class LinkedInAdsResource(AdPlatformResource, OAuthAppResource):
    """LinkedIn ad accounts reached through the OAuth refresh-token flow and a pinned API version."""

    REQUIRED: ClassVar[tuple[str, ...]] = ("client_id", "client_secret", "refresh_token")
    ENVIRONMENT: ClassVar[dict[str, str]] = settings_from("LINKEDIN_ADS", "base_url", "auth_url", *REQUIRED,
                                                          "account_ids")

    base_url: str = linkedin_ads_api.BASE_URL
    auth_url: str = linkedin_ads_api.AUTH_URL
    api_version: str = Field(default=linkedin_ads_api.API_VERSION,
                             description="LinkedIn-Version (YYYYMM); each lives 12 months.")
    lookback_days: int = Field(default=30, description="Days every run re-reads and replaces, ending today by "
                                                       "LinkedIn's clock: conversions restate for their attribution "
                                                       "window, up to 90 days.")

    def client(self) -> LinkedInAdsClient:
        """A new client for one run."""
        return LinkedInAdsClient(auth_url=self.auth_url, client_id=self.client_id, client_secret=self.client_secret,
                                 refresh_token=self.refresh_token, **self.client_settings())
