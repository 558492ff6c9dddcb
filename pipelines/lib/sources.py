"""Dagster resources for the source APIs; credentials arrive through `dg.EnvVar` only."""

import dagster as dg

from connectors.hubspot.client import HubSpotClient
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
