"""Build the Dagster multi-asset that syncs one source's streams into its raw schema."""

from collections.abc import Sequence
from datetime import UTC, datetime

import dagster as dg

from connectors.errors import SourceError
from connectors.redact import redact
from connectors.schema import Stream
from pipelines.lib.credential_expiry import (
    CREDENTIAL_CHECK,
    credential_check_spec,
    credential_expiry_result,
    credential_not_checked,
    credential_warning_days,
    expiry_metadata,
    refresh_token_setting,
)
from pipelines.lib.raw_loader import StreamLoad, load_streams
from pipelines.lib.raw_tables import ensure_raw_tables
from pipelines.lib.sync_progress import (
    stopped_early_runs,
    sync_progress_check_spec,
    sync_progress_evaluation,
    sync_progress_keys,
    sync_progress_not_checked,
)
from pipelines.lib.warehouse import WarehouseResource

OWNERS = ["team:data-engineering"]


def raw_asset_key(source: str, stream: Stream) -> dg.AssetKey:
    """``raw/<source>/<stream>``: the key dbt sources point at through their ``meta.dagster.asset_key``."""
    return dg.AssetKey(["raw", source, stream.name])


def build_source_assets(
    source: str,
    streams: Sequence[Stream],
    resource_key: str,
    description: str,
    credential_check: bool = False,
) -> dg.AssetsDefinition:
    """One multi-asset over every raw table of `source`.

    The resource at `resource_key` has `client()` and `missing_settings()`; a source that is not
    configured is skipped with one warning, its tables left (or created) empty so the night goes on.

    With `credential_check`, the asset of the first stream (the one read first) carries the asset check
    `CREDENTIAL_CHECK`: after the sync it fails with severity WARN when the client's ``credentials_expire_at()``
    is `CREDENTIAL_WARNING_SETTING` days away or less, so the alerts say so while there is time to re-authorize.

    Every stream's asset carries the asset check `SYNC_PROGRESS_CHECK`: it fails with severity WARN when the stream
    stopped early in `STOPPED_EARLY_RUNS_SETTING` runs in a row (pipelines/lib/sync_progress.py).
    """
    by_key = {raw_asset_key(source, stream): stream for stream in streams}
    check_key = dg.AssetCheckKey(raw_asset_key(source, streams[0]), CREDENTIAL_CHECK) if credential_check else None
    specs = [
        dg.AssetSpec(
            key,
            group_name=f"raw_{source}",
            kinds={source.replace("_", ""), "duckdb"},
            owners=OWNERS,
            description=f"`raw_{source}.{stream.name}`: {description} Primary key `{stream.primary_key}`, "
            f"cursor `{stream.cursor or 'none (full refresh)'}`.",
            metadata={"primary_key": stream.primary_key, "cursor": stream.cursor or ""},
        )
        for key, stream in by_key.items()
    ]

    progress_keys = sync_progress_keys(by_key)
    check_specs = [*([credential_check_spec(source, check_key)] if check_key else []),
                   *(sync_progress_check_spec(source, key) for key in progress_keys.values())]

    @dg.multi_asset(name=f"{source}_raw", specs=specs, check_specs=check_specs, can_subset=True, pool="warehouse",
                    required_resource_keys={resource_key, "warehouse"})
    def sync(context: dg.AssetExecutionContext):
        selected = [stream for key, stream in by_key.items() if key in context.selected_asset_keys]
        # A subset run yields only the checks it selected (a run of other streams leaves this one out).
        checking = check_key is not None and check_key in context.selected_asset_check_keys
        progress_checked = [progress_keys[key] for key in by_key if key in context.selected_asset_keys
                            and progress_keys[key] in context.selected_asset_check_keys]
        resource = getattr(context.resources, resource_key)
        warehouse: WarehouseResource = context.resources.warehouse
        missing = resource.missing_settings()
        if missing:
            yield from _skip_unconfigured(context, source, selected, missing, warehouse)
            if checking:
                yield credential_not_checked(check_key, source, not_configured_status(missing))
            yield from sync_progress_not_checked(progress_checked, source, not_configured_status(missing))
            return
        warning_days = credential_warning_days() if check_key else None  # a bad setting fails before any read
        runs_warned_at = stopped_early_runs()
        client = resource.client()
        results = load_streams(
            source, selected, client.read_pages, warehouse.loader_target, warehouse.dlt_pipelines_dir, context.run_id,
            discover=getattr(client, "discover", None), source_keys=getattr(client, "source_keys", None),
        )
        notes = _read_notes(client, "notes")
        for stream in selected:
            result = results[stream.name]
            result.notes.extend([*notes, *_read_notes(client, "stream_notes", stream)])
            if result.stopped_early:
                context.log.warning(
                    f"{source}.{stream.name} stopped early, the next run resumes: {result.stopped_early}"
                )
            metadata = {**_metadata(result, client), **_source_total(context, source, stream, result, client)}
            if check_key is not None and raw_asset_key(source, stream) == check_key.asset_key:
                metadata["credentials_expire_at"] = expiry_metadata(client.credentials_expire_at())
            yield dg.MaterializeResult(asset_key=raw_asset_key(source, stream), metadata=metadata)
            progress_key = progress_keys[raw_asset_key(source, stream)]
            if progress_key in progress_checked:
                yield sync_progress_evaluation(context.instance, progress_key, source, context.run_id, metadata,
                                               runs_warned_at)
        if checking:
            yield credential_expiry_result(check_key, source, client.credentials_expire_at(), warning_days,
                                           refresh_token_setting(resource), datetime.now(UTC))

    sync.__doc__ = f"Sync {source} into `raw_{source}` (incremental, merged on primary key)."
    return sync


def not_configured_status(missing: Sequence[str]) -> str:
    """``not configured (missing HUBSPOT_CLIENT_SECRET)``: the status a skipped source reports."""
    return f"not configured (missing {', '.join(missing)})"


def _skip_unconfigured(context: dg.AssetExecutionContext, source: str, streams: Sequence[Stream],
                       missing: Sequence[str], warehouse: WarehouseResource):
    """Warn once, make sure the raw tables exist (empty when new), and report each asset as not configured."""
    status = not_configured_status(missing)
    context.log.warning(
        f"Source {source} is {status}: skipped tonight. Its raw tables are kept as they are (created empty if "
        f"new), so the models over the other sources still build. Set the missing environment variables to sync it."
    )
    ensure_raw_tables(source, streams, warehouse.loader_target, warehouse.dlt_pipelines_dir)
    for stream in streams:
        yield dg.MaterializeResult(asset_key=raw_asset_key(source, stream), metadata={
            "status": dg.MetadataValue.text(status),
            "rows_loaded": dg.MetadataValue.int(0),
        })


def _read_notes(client, method: str, *args) -> list[str]:
    """What the client's reads left out and why, redacted, from its `method` where it has one: ``notes()`` is every
    stream's business (the clients skip an account for all of its streams), ``stream_notes(stream)`` one stream's
    (Salesforce's fields not exposed to the integration user)."""
    notes = getattr(client, method, None)
    return [redact(note) for note in notes(*args)] if notes is not None else []


def _metadata(result: StreamLoad, client) -> dict:
    """The materialization metadata of one stream's load; ``notes`` only when the read left something out.

    ``rows_inserted``, ``rows_updated`` and ``rows_unchanged`` split the rows loaded by what they did to the table;
    ``rows_removed`` counts the stored keys the load took away (a restated window no longer reporting them);
    ``rows_deleted`` the rows loaded flagged as deleted at the source; ``rows_vanished`` the stored rows a
    reconciliation of the stream's keys, or a full refresh no longer reading them, found gone from the source and
    flagged ``_vanished_at``, and ``key_reconciliation`` (a stream whose keys are reconciled, or read whole) what it did
    or why it did not run (not due yet; a listing stopped early, which the notes say too). ``seconds_waiting`` is
    the time spent waiting to retry (throttled, failing), ``seconds_paced`` the time requests were held back to stay
    under the source's rate limits (HubSpot's), both for the source's client so far in the run.
    """
    stats = client.http.stats
    notes = {"notes": dg.MetadataValue.json(result.notes)} if result.notes else {}
    reconciliation = ({"key_reconciliation": dg.MetadataValue.text(result.reconciliation)}
                      if result.reconciliation is not None else {})
    return {
        "status": dg.MetadataValue.text("stopped early" if result.stopped_early else "synced"),
        "rows_loaded": dg.MetadataValue.int(result.rows),
        "rows_inserted": dg.MetadataValue.int(result.inserted),
        "rows_updated": dg.MetadataValue.int(result.updated),
        "rows_unchanged": dg.MetadataValue.int(result.unchanged),
        "rows_removed": dg.MetadataValue.int(result.removed),
        "rows_deleted": dg.MetadataValue.int(result.deleted),
        "rows_vanished": dg.MetadataValue.int(result.vanished),
        "pages": dg.MetadataValue.int(result.pages),
        "quarantined": dg.MetadataValue.int(result.quarantined),
        "cursor_before": dg.MetadataValue.text(result.cursor_before or "none"),
        "cursor_after": dg.MetadataValue.text(result.cursor_after or "none"),
        "requests": dg.MetadataValue.int(stats.requests),
        "retries": dg.MetadataValue.int(stats.retries),
        "seconds_waiting": dg.MetadataValue.float(round(stats.wait_seconds, 3)),
        "seconds_paced": dg.MetadataValue.float(round(stats.pace_seconds, 3)),
        "stopped_early": dg.MetadataValue.text(result.stopped_early or "no"),
        **reconciliation,
        **notes,
    }


def _source_total(context: dg.AssetExecutionContext, source: str, stream: Stream, result: StreamLoad,
                  client) -> dict:
    """``source_total``: how many records the source itself reports for the stream, when its API reports one.

    ``source_total_excludes`` names the raw column flagging the rows that count leaves out (deleted or
    archived records). A stream that stopped early is not counted: its load is knowingly incomplete.
    """
    count = getattr(client, "source_total", None)
    if count is None or result.stopped_early:
        return {}
    try:
        total = count(stream)
    except SourceError as exc:
        context.log.warning(f"{source}.{stream.name}: the source's own total could not be read: {exc}")
        return {}
    if total is None:
        return {}
    metadata = {"source_total": dg.MetadataValue.int(total)}
    flag = stream.options.get("deleted_flag")
    if flag:
        metadata["source_total_excludes"] = dg.MetadataValue.text(flag)
    return metadata
