"""Resources of the code location, configured from the environment (see `.env.example`)."""

import dagster as dg
from dagster_dbt import DbtCliResource

from pipelines.defs.transform.project import DBT_EXECUTABLE, dbt_project
from pipelines.lib.sources import HubSpotResource, SalesforceResource
from pipelines.lib.warehouse import warehouse_from_environment


@dg.definitions
def defs() -> dg.Definitions:
    """The warehouse, dbt, and one resource per source API."""
    return dg.Definitions(
        resources={
            "warehouse": warehouse_from_environment(),
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
        }
    )
