"""dbt models as Dagster assets, keyed and grouped by layer (`staging/…`, `intermediate/…`, `marts/…`)."""

from collections.abc import Mapping
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings, DbtCliResource, dbt_assets
from pydantic import Field

from pipelines.defs.transform.project import dbt_project

LAYERS = ("staging", "intermediate", "marts", "semantic")


class LayeredTranslator(DagsterDbtTranslator):
    """Models are keyed ``<layer>/<model>`` and grouped by layer; sources keep their ``raw/…`` keys."""

    def get_asset_spec(self, manifest: Mapping[str, Any], unique_id: str, project) -> dg.AssetSpec:
        spec = super().get_asset_spec(manifest, unique_id, project)
        node = manifest["nodes"].get(unique_id)
        if node is None or node["resource_type"] not in {"model", "seed", "snapshot"}:
            return spec
        layer = next((part for part in node["fqn"] if part in LAYERS), "seeds")
        return spec.replace_attributes(key=dg.AssetKey([layer, node["name"]]), group_name=layer)


class DbtBuildConfig(dg.Config):
    """Run configuration of the dbt step, set in the launchpad when needed."""

    full_refresh: bool = Field(
        default=False,
        description="Rebuild the incremental models from scratch (after replacing the currency rates seed, "
        "or changing incremental_lookback_days).",
    )


def dbt_build_args(config: DbtBuildConfig) -> list[str]:
    """The dbt command line of the step: ``build``, with ``--full-refresh`` when asked for."""
    return ["build", "--full-refresh"] if config.full_refresh else ["build"]


@dbt_assets(
    manifest=dbt_project.manifest_path,
    project=dbt_project,
    dagster_dbt_translator=LayeredTranslator(settings=DagsterDbtTranslatorSettings(enable_source_tests_as_checks=True)),
    pool="warehouse",
)
def dbt_models(context: dg.AssetExecutionContext, dbt: DbtCliResource, config: DbtBuildConfig):
    """Build every selected dbt model and run its tests (`dbt build`); tests arrive as asset checks."""
    yield from dbt.cli(dbt_build_args(config), context=context).stream()


def mart_keys() -> list[dg.AssetKey]:
    """The asset keys of the marts, the tables published to BI."""
    return sorted((key for key in dbt_models.keys if key.path[0] == "marts"), key=lambda k: k.to_user_string())


@dg.definitions
def defs() -> dg.Definitions:
    """The dbt assets."""
    return dg.Definitions(assets=[dbt_models])
