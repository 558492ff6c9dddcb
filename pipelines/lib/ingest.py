"""Build the Dagster multi-asset that syncs one source's streams into its raw schema."""

from collections.abc import Sequence

import dagster as dg

from connectors.schema import Stream
from pipelines.lib.raw_loader import StreamLoad, load_streams
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
) -> dg.AssetsDefinition:
    """One multi-asset over every raw table of `source`; the resource at `resource_key` must have `client()`."""
    by_key = {raw_asset_key(source, stream): stream for stream in streams}
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

    @dg.multi_asset(name=f"{source}_raw", specs=specs, can_subset=True, pool="warehouse",
                    required_resource_keys={resource_key, "warehouse"})
    def sync(context: dg.AssetExecutionContext):
        selected = [stream for key, stream in by_key.items() if key in context.selected_asset_keys]
        client = getattr(context.resources, resource_key).client()
        warehouse: WarehouseResource = context.resources.warehouse
        results = load_streams(
            source, selected, client.read_pages, warehouse.loader_target, warehouse.dlt_pipelines_dir, context.run_id,
            discover=getattr(client, "discover", None),
        )
        for stream in selected:
            result = results[stream.name]
            if result.stopped_early:
                context.log.warning(
                    f"{source}.{stream.name} stopped early, the next run resumes: {result.stopped_early}"
                )
            yield dg.MaterializeResult(asset_key=raw_asset_key(source, stream), metadata=_metadata(result, client))

    sync.__doc__ = f"Sync {source} into `raw_{source}` (incremental, merged on primary key)."
    return sync


def _metadata(result: StreamLoad, client) -> dict:
    stats = client.http.stats
    return {
        "rows_loaded": dg.MetadataValue.int(result.rows),
        "rows_inserted": dg.MetadataValue.int(result.inserted),
        "rows_updated": dg.MetadataValue.int(result.updated),
        "rows_deleted": dg.MetadataValue.int(result.deleted),
        "pages": dg.MetadataValue.int(result.pages),
        "quarantined": dg.MetadataValue.int(result.quarantined),
        "cursor_before": dg.MetadataValue.text(result.cursor_before or "none"),
        "cursor_after": dg.MetadataValue.text(result.cursor_after or "none"),
        "requests": dg.MetadataValue.int(stats.requests),
        "retries": dg.MetadataValue.int(stats.retries),
        "seconds_waiting": dg.MetadataValue.float(round(stats.wait_seconds, 3)),
        "stopped_early": dg.MetadataValue.text(result.stopped_early or "no"),
    }


