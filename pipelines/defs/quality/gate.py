"""The publish step waits for the blocking suites of the raw tables too, not only for the marts' checks.

Dagster holds back an asset until the blocking checks of its upstream assets passed, but exempts an
asset that runs checks on those upstream assets itself; the dbt assets run the source tests on the
raw tables, so a failing blocking raw suite would not hold back dbt, and so not the publish step
either. Making the publish asset depend on the raw tables dbt reads puts their blocking checks in
front of it: a raw table that breaks the loader's guarantees never reaches BI.
"""

import dagster as dg

# The module, not the asset: `load_defs` would collect an asset imported here a second time.
from pipelines.defs.transform import assets as transform


def raw_tables_behind_the_marts() -> list[dg.AssetKey]:
    """The raw assets the dbt project reads (its sources), in a stable order."""
    keys = {dep.asset_key for spec in transform.dbt_models.specs for dep in spec.deps if dep.asset_key.path[0] == "raw"}
    return sorted(keys, key=lambda key: key.to_user_string())
