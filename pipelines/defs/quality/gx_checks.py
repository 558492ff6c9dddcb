"""great-expectations suites as Dagster asset checks; a failing blocking suite stops the publish step."""

import dagster as dg

from expectations.registry import SUITES, SuiteSpec
from expectations.runner import validate
from pipelines.lib.warehouse import WarehouseResource


def build_suite_check(spec: SuiteSpec) -> dg.AssetChecksDefinition:
    """An asset check that validates the whole table `spec` names against its suite."""

    @dg.asset_check(
        asset=dg.AssetKey([spec.schema, spec.table]),
        name=spec.name,
        blocking=spec.blocking,
        description=spec.description,
        pool="warehouse",
    )
    def check(warehouse: WarehouseResource) -> dg.AssetCheckResult:
        outcome = validate(warehouse.read_table(spec.schema, spec.table), spec.name, spec.expectations)
        failed = {
            o.label: {"unexpected_count": o.unexpected_count, "sample": o.unexpected_sample, "observed": o.observed}
            for o in outcome.failed
        }
        return dg.AssetCheckResult(
            passed=outcome.success,
            severity=dg.AssetCheckSeverity.ERROR if spec.blocking else dg.AssetCheckSeverity.WARN,
            description=(
                f"{len(outcome.outcomes) - len(outcome.failed)} of {len(outcome.outcomes)} expectations passed"
                + (f"; failed: {', '.join(failed)}" if failed else "")
            ),
            metadata={
                "rows": dg.MetadataValue.int(outcome.rows),
                "expectations": dg.MetadataValue.int(len(outcome.outcomes)),
                "failed_expectations": dg.MetadataValue.json(failed),
            },
        )

    return check


@dg.definitions
def defs() -> dg.Definitions:
    """One asset check per registered suite."""
    return dg.Definitions(asset_checks=[build_suite_check(spec) for spec in SUITES])
