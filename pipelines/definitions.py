"""The Dagster code location: every module under `pipelines/defs` contributes its definitions.

Two things are added once the graph is known: the great-expectations checks of the tables that are
assets of it (a mart not built yet gets none), and the freshness policies of raw and mart assets.
"""

import dagster as dg

import pipelines.defs
from pipelines.defs.quality.freshness import with_freshness_policies
from pipelines.defs.quality.gx_checks import build_suite_checks


@dg.definitions
def defs() -> dg.Definitions:
    """All assets, checks, resources, jobs and schedules of Common Ground."""
    loaded = dg.components.load_defs(pipelines.defs)
    keys = _asset_keys(loaded)
    checked = dg.Definitions.merge(loaded, dg.Definitions(asset_checks=build_suite_checks(keys)))
    return with_freshness_policies(checked)


def _asset_keys(definitions: dg.Definitions) -> set[dg.AssetKey]:
    keys: set[dg.AssetKey] = set()
    for asset in definitions.assets or []:
        keys.update(asset.keys if isinstance(asset, dg.AssetsDefinition) else [asset.key])
    return keys
