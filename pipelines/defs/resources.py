"""Resources of the code location, configured from the environment (see `.env.example`)."""

import dagster as dg

from pipelines.defs.alerts import alerts_from_environment
from pipelines.defs.quality.settings import quality_from_environment
from pipelines.defs.transform.project import dbt_cli
from pipelines.lib.sources import (
    GoogleAdsResource,
    HubSpotResource,
    LinkedInAdsResource,
    MetaAdsResource,
    SalesforceResource,
)
from pipelines.lib.warehouse import warehouse_from_environment


@dg.definitions
def defs() -> dg.Definitions:
    """The warehouse, dbt, one resource per source API, the quality checks' settings and the alert webhook.

    A source whose variables are not set is loaded unconfigured: its raw assets skip it with a warning.
    """
    return dg.Definitions(
        resources={
            "warehouse": warehouse_from_environment(),
            "quality": quality_from_environment(),
            "alerts": alerts_from_environment(),
            "dbt": dbt_cli(),
            "salesforce": SalesforceResource.from_environment(),
            "hubspot": HubSpotResource.from_environment(),
            "google_ads": GoogleAdsResource.from_environment(),
            "meta_ads": MetaAdsResource.from_environment(),
            "linkedin_ads": LinkedInAdsResource.from_environment(),
        }
    )
