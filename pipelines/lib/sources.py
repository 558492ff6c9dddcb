"""Dagster resources for the source APIs; credentials arrive through `dg.EnvVar` only."""

import dagster as dg

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
