"""The publish step waits for the blocking suites of the raw tables too, not only for the marts' checks.

Dagster holds back an asset until the blocking checks of its upstream assets passed, but exempts an
asset that runs checks on those upstream assets itself; the dbt assets run the source tests on the
raw tables, so a failing blocking raw suite would not hold back dbt, and so not the publish step
either. Making the publish asset depend on the raw tables dbt reads puts their blocking checks in
front of it: a raw table that breaks the loader's guarantees never reaches BI.

Dagster holds a step back only for checks of the same run. A run of the publish step alone (materialized by
hand after a failed night) runs no check, so the step asks the instance itself (:func:`failed_blocking_checks`).
"""

import dagster as dg
from dagster._core.storage.asset_check_execution_record import AssetCheckExecutionRecordStatus

# The module, not the asset: `load_defs` would collect an asset imported here a second time.
from pipelines.defs.transform import assets as transform


def raw_tables_behind_the_marts() -> list[dg.AssetKey]:
    """The raw assets the dbt project reads (its sources), in a stable order."""
    keys = {dep.asset_key for spec in transform.dbt_models.specs for dep in spec.deps if dep.asset_key.path[0] == "raw"}
    return sorted(keys, key=lambda key: key.to_user_string())


def failed_blocking_checks(instance: dg.DagsterInstance, assets: set[dg.AssetKey]) -> list[str]:
    """The blocking checks on `assets` whose latest evaluation failed with severity ERROR, by name
    (``marts/accounts:accounts_suite``), sorted; a check that never ran is not one.

    The checks are the code location's: a run of some assets holds only their own checks in its job."""
    from pipelines.definitions import defs  # here, not at the top: the code location imports this module

    graph = defs().resolve_asset_graph()
    keys = [key for key in graph.asset_check_keys if key.asset_key in assets and graph.get_check_spec(key).blocking]
    latest = instance.event_log_storage.get_latest_asset_check_execution_by_key(keys)
    return sorted(key.to_user_string() for key, record in latest.items()
                  if record.status == AssetCheckExecutionRecordStatus.FAILED and record.evaluation is not None
                  and record.evaluation.severity == dg.AssetCheckSeverity.ERROR)
