"""great-expectations suites as Dagster asset checks; a failing blocking suite stops the publish step.

One check per registered suite, on the asset of its table, executed in one step per warehouse
schema (``gx_marts``, ``gx_raw_salesforce``, ...) so each table is read once for both of its suites
and a night does not pay a step per suite. A suite is attached only when its table is an asset of
the graph (a mart a colleague has not built yet has no check); a table that is an asset but is
missing from the warehouse fails its checks with "table <schema>.<table> does not exist".

A raw table whose last sync recorded the source's own total (``source_total`` in the asset's
materialization metadata) has its row count checked against that total; other tables against the
previous run's count.

Which rows a suite validates: every row of a table up to `QualityResource.sample_rows`, else a repeatable
random sample of about that many. On a night that loaded rows into a larger raw table which had rows before,
the rows this run loaded (``_run_id``) instead, all of them up to `sample_rows`, and a sample of a tenth as
many earlier rows: the night's new data is what may be wrong, and a sample of the whole table would hold
only about 1% of it after a 1% change. The count and freshness expectations always see the whole table.
"""

from collections import defaultdict
from collections.abc import Iterable, Iterator

import dagster as dg

from expectations.data_docs import run_results, save_result
from expectations.registry import SUITES, SuiteSpec
from expectations.runner import SuiteOutcome, columns_used, combined, validate
from expectations.table_facts import ROW_COUNT, SOURCE_COMPARED, SourceTotal, fact_expectations
from pipelines.defs.quality.reads import RUN_COLUMN, TableReader
from pipelines.defs.quality.settings import QualityResource
from pipelines.lib.key_reconciliation import VANISHED_COLUMN
from pipelines.lib.quality_report import build_data_docs
from pipelines.lib.warehouse import WarehouseResource


def suite_asset_key(spec: SuiteSpec) -> dg.AssetKey:
    """``raw_<source>.<table>`` is the asset ``raw/<source>/<table>``; ``marts.<table>`` is ``marts/<table>``."""
    if spec.schema.startswith("raw_"):
        return dg.AssetKey(["raw", spec.schema.removeprefix("raw_"), spec.table])
    return dg.AssetKey([spec.schema, spec.table])


def build_suite_checks(
    asset_keys: Iterable[dg.AssetKey], suites: Iterable[SuiteSpec] = SUITES
) -> list[dg.AssetChecksDefinition]:
    """The checks of every suite whose table is one of `asset_keys`, one multi-asset check per schema."""
    present = set(asset_keys)
    by_schema: dict[str, list[SuiteSpec]] = defaultdict(list)
    for spec in suites:
        if suite_asset_key(spec) in present:
            by_schema[spec.schema].append(spec)
    return [_schema_checks(schema, specs) for schema, specs in sorted(by_schema.items())]


def _schema_checks(schema: str, specs: list[SuiteSpec]) -> dg.AssetChecksDefinition:
    by_key = {dg.AssetCheckKey(suite_asset_key(spec), spec.name): spec for spec in specs}

    @dg.multi_asset_check(
        name=f"gx_{schema}",
        specs=[dg.AssetCheckSpec(spec.name, asset=key.asset_key, blocking=spec.blocking,
                                 description=spec.description or None) for key, spec in by_key.items()],
        can_subset=True,
        pool="warehouse",
        description=f"Validate the tables of `{schema}` against their great-expectations suites.",
    )
    def gx_suites(context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource, quality: QualityResource):
        selected = [(key, spec) for key, spec in by_key.items() if key in context.selected_asset_check_keys]
        by_table: dict[str, list[tuple[dg.AssetCheckKey, SuiteSpec]]] = defaultdict(list)
        for key, spec in selected:
            by_table[spec.table].append((key, spec))
        blocked = False
        with warehouse.reading() as query:
            for table, table_specs in by_table.items():
                reader = TableReader(query, warehouse.is_postgres, schema, table)
                for result in _check_table(context, reader, quality, table_specs):
                    blocked = blocked or (not result.passed and result.severity == dg.AssetCheckSeverity.ERROR)
                    yield result
        # A failed blocking suite stops the night before the publish step, which otherwise builds the Data Docs:
        # from then on each suite step of the run rebuilds them itself.
        stopped = run_results(quality.report_path, context.run.run_id) / ".blocked"
        if blocked:
            stopped.touch()
        if stopped.exists():
            build_data_docs(quality.report_path, context.run.run_id, context.log)

    return gx_suites


def _check_table(
    context: dg.AssetCheckExecutionContext,
    reader: TableReader,
    quality: QualityResource,
    table_specs: list[tuple[dg.AssetCheckKey, SuiteSpec]],
) -> Iterator[dg.AssetCheckResult]:
    columns = reader.columns()
    if not columns:
        for key, spec in table_specs:
            yield _missing_table(key, spec)
        return
    total = _source_total(context.instance, table_specs[0][0].asset_key, columns)
    facts = reader.facts(sorted({f.column for _, spec in table_specs for f in spec.freshness}),
                         total.excludes if total else None, total.vanished if total else None)
    table_rows = int(facts.iloc[0][ROW_COUNT])
    wanted = set().union(*(columns_used(spec.expectations()) | set(spec.key) for _, spec in table_specs))
    read = [c for c in columns if c in wanted]
    loaded = _rows_loaded_by_run(reader, columns, context.run.run_id, table_rows, quality.sample_rows)
    frame = (reader.rows_of_run(read, context.run.run_id, loaded, table_rows, quality.sample_rows) if loaded
             else reader.rows(read, table_rows, quality.sample_rows))
    for key, spec in table_specs:
        outcome = validate(frame, spec.name, spec.expectations, spec.key, spec.masked)
        previous = _previous_rows(context.instance, key, context.run.run_id) if spec.max_row_drop is not None else None
        if fact_expectations(spec, previous, source_total=total):
            table_outcome = validate(facts, spec.name,
                                     lambda s=spec, p=previous: fact_expectations(s, p, source_total=total))
            outcome = combined(outcome, table_outcome)
        save_result(quality.report_path, context.run.run_id, spec.name, outcome.result)
        compared = int(facts.iloc[0][SOURCE_COMPARED])
        yield _result(key, spec, outcome, table_rows, quality, _versus_source(spec, total, compared), loaded)


def _rows_loaded_by_run(reader: TableReader, columns: list[str], run_id: str, table_rows: int,
                        sample_rows: int) -> int:
    """The rows of a sampled raw table that this run loaded, when it loaded some and the table had rows before;
    else 0 (the first load, a table read whole, a check run on its own)."""
    if RUN_COLUMN not in columns or not 0 < sample_rows < table_rows:
        return 0
    loaded = reader.rows_loaded_by(run_id)
    return loaded if loaded < table_rows else 0


def _source_total(instance: dg.DagsterInstance, asset_key: dg.AssetKey, columns: list[str]) -> SourceTotal | None:
    """The source's own total recorded by the asset's latest materialization, None when it recorded none. Rows a key
    reconciliation flagged `VANISHED_COLUMN` are gone from the source, so its total never counts them."""
    event = instance.get_latest_materialization_event(asset_key)
    metadata = event.asset_materialization.metadata if event and event.asset_materialization else {}
    if "source_total" not in metadata:
        return None
    excludes = metadata.get("source_total_excludes")
    flag = excludes.value if excludes is not None else None
    if flag is not None and flag not in columns:
        return None  # the flag the count relies on is not in the table: the numbers would not compare
    return SourceTotal(int(metadata["source_total"].value), flag,
                       VANISHED_COLUMN if VANISHED_COLUMN in columns else None)


def _versus_source(spec: SuiteSpec, total: SourceTotal | None, compared: int) -> dict:
    """The source-total comparison of a suite that makes one: the numbers, and a sentence naming both."""
    if total is None or spec.source_total_tolerance is None:
        return {}
    return {"source_total": total.total, "rows_compared": compared,
            "text": total.describe(spec.relation, compared, spec.source_total_tolerance)}


def _result(
    key: dg.AssetCheckKey, spec: SuiteSpec, outcome: SuiteOutcome, table_rows: int, quality: QualityResource,
    versus_source: dict | None = None, loaded_by_run: int = 0,
) -> dg.AssetCheckResult:
    failed = {o.label: o.as_metadata() for o in outcome.failed}
    described = [f"{o.label} ({o.unexpected_count} rows)" if o.unexpected_count else o.label for o in outcome.failed]
    versus_source = versus_source or {}
    if versus_source and any(o.column == SOURCE_COMPARED for o in outcome.failed):
        described.append(versus_source["text"])
    source_metadata = {
        "source_total": dg.MetadataValue.int(versus_source["source_total"]),
        "rows_compared_with_source_total": dg.MetadataValue.int(versus_source["rows_compared"]),
    } if versus_source else {}
    return dg.AssetCheckResult(
        asset_key=key.asset_key,
        check_name=key.name,
        passed=outcome.success,
        severity=dg.AssetCheckSeverity.ERROR if spec.blocking else dg.AssetCheckSeverity.WARN,
        description=(
            f"{len(outcome.outcomes) - len(outcome.failed)} of {len(outcome.outcomes)} expectations passed"
            + (f"; failed: {', '.join(described)}" if described else "")
        ),
        metadata={
            "table": dg.MetadataValue.text(spec.relation),
            "table_rows": dg.MetadataValue.int(table_rows),
            "rows_validated": dg.MetadataValue.int(outcome.rows),
            "sampled": dg.MetadataValue.bool(outcome.rows < table_rows),
            **({"rows_loaded_by_this_run": dg.MetadataValue.int(loaded_by_run)} if loaded_by_run else {}),
            "expectations": dg.MetadataValue.int(len(outcome.outcomes)),
            "failed_expectations": dg.MetadataValue.json(failed),
            "data_docs": dg.MetadataValue.path(str(quality.report_path / "index.html")),
            **source_metadata,
        },
    )


def _missing_table(key: dg.AssetCheckKey, spec: SuiteSpec) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(
        asset_key=key.asset_key,
        check_name=key.name,
        passed=False,
        severity=dg.AssetCheckSeverity.ERROR if spec.blocking else dg.AssetCheckSeverity.WARN,
        description=f"table {spec.relation} does not exist",
        metadata={"table": dg.MetadataValue.text(spec.relation)},
    )


def _previous_rows(instance: dg.DagsterInstance, key: dg.AssetCheckKey, run_id: str) -> int | None:
    """The table's row count when this check last ran in another run (None the first time)."""
    history = instance.event_log_storage.get_asset_check_execution_history(key, limit=5)
    for record in history:
        event = record.event.dagster_event if record.event else None
        evaluation = event.event_specific_data if event else None
        rows = getattr(evaluation, "metadata", {}).get("table_rows") if record.run_id != run_id else None
        if rows is not None:
            return int(rows.value)
    return None
