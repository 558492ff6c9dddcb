"""Resources of the code location, configured from the environment (see `.env.example`)."""

import dagster as dg
from dagster_dbt import DbtCliResource

from pipelines.defs.alerts import alerts_from_environment
from pipelines.defs.quality.settings import quality_from_environment
from pipelines.defs.transform.project import DBT_EXECUTABLE, dbt_project
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
    """The warehouse, dbt, one resource per source API, the quality checks' settings and the alert webhook."""
    return dg.Definitions(
        resources={
            "warehouse": warehouse_from_environment(),
            "quality": quality_from_environment(),
            "alerts": alerts_from_environment(),
            "dbt": DbtCliResource(project_dir=dbt_project, dbt_executable=DBT_EXECUTABLE),
            "salesforce": SalesforceResource(
                login_url=dg.EnvVar("SALESFORCE_LOGIN_URL"),
                client_id=dg.EnvVar("SALESFORCE_CLIENT_ID"),
                client_secret=dg.EnvVar("SALESFORCE_CLIENT_SECRET"),
                refresh_token=dg.EnvVar("SALESFORCE_REFRESH_TOKEN"),
            ),
            "hubspot": HubSpotResource(
                base_url=dg.EnvVar("HUBSPOT_BASE_URL"),
                client_id=dg.EnvVar("HUBSPOT_CLIENT_ID"),
                client_secret=dg.EnvVar("HUBSPOT_CLIENT_SECRET"),
                refresh_token=dg.EnvVar("HUBSPOT_REFRESH_TOKEN"),
            ),
            "google_ads": GoogleAdsResource(
                base_url=dg.EnvVar("GOOGLE_ADS_BASE_URL"),
                token_url=dg.EnvVar("GOOGLE_ADS_TOKEN_URL"),
                client_id=dg.EnvVar("GOOGLE_ADS_CLIENT_ID"),
                client_secret=dg.EnvVar("GOOGLE_ADS_CLIENT_SECRET"),
                refresh_token=dg.EnvVar("GOOGLE_ADS_REFRESH_TOKEN"),
                developer_token=dg.EnvVar("GOOGLE_ADS_DEVELOPER_TOKEN"),
                login_customer_id=dg.EnvVar("GOOGLE_ADS_LOGIN_CUSTOMER_ID"),
                customer_ids=dg.EnvVar("GOOGLE_ADS_CUSTOMER_IDS"),
                lookback_days=28,
                history_days=365,
            ),
            "meta_ads": MetaAdsResource(
                base_url=dg.EnvVar("META_ADS_BASE_URL"),
                app_id=dg.EnvVar("META_ADS_APP_ID"),
                app_secret=dg.EnvVar("META_ADS_APP_SECRET"),
                access_token=dg.EnvVar("META_ADS_ACCESS_TOKEN"),
                account_ids=dg.EnvVar("META_ADS_ACCOUNT_IDS"),
                lookback_days=28,
                history_days=365,
            ),
            "linkedin_ads": LinkedInAdsResource(
                base_url=dg.EnvVar("LINKEDIN_ADS_BASE_URL"),
                auth_url=dg.EnvVar("LINKEDIN_ADS_AUTH_URL"),
                client_id=dg.EnvVar("LINKEDIN_ADS_CLIENT_ID"),
                client_secret=dg.EnvVar("LINKEDIN_ADS_CLIENT_SECRET"),
                refresh_token=dg.EnvVar("LINKEDIN_ADS_REFRESH_TOKEN"),
                account_ids=dg.EnvVar("LINKEDIN_ADS_ACCOUNT_IDS"),
                lookback_days=28,
                history_days=365,
            ),
        }
    )
