"""The emulated APIs. Each emulator has a `name`, `path_prefixes`, `routes()`, `fault_response(rule)` and
`prepare()`, which builds the views its endpoints read for the current data (the server calls it at start and
after every time-travel advance)."""

from __future__ import annotations

import json

from sandbox.dataset import APIS


def emulators(state) -> list:
    """One instance of every emulator, sharing the sandbox state."""
    from sandbox.apis.google_ads import GoogleAdsEmulator
    from sandbox.apis.hubspot import HubSpotEmulator
    from sandbox.apis.linkedin_ads import LinkedInAdsEmulator
    from sandbox.apis.meta_ads import MetaAdsEmulator
    from sandbox.apis.salesforce import SalesforceEmulator

    return [SalesforceEmulator(state), HubSpotEmulator(state), GoogleAdsEmulator(state),
            MetaAdsEmulator(state), LinkedInAdsEmulator(state)]


#: The field that identifies a record, per API, for upserts through the admin endpoint.
_ID_FIELDS = {"salesforce": "Id", "hubspot": "id"}
#: Ad objects without an "id" of their own, and the fields that identify one (a metric row: its entity and day).
_KEY_FIELDS = {
    ("google_ads", "customer"): ("customer.id",),
    ("google_ads", "campaign"): ("campaign.id",),
    ("google_ads", "ad_group"): ("ad_group.id",),
    ("google_ads", "campaign_metrics"): ("campaign.id", "segments.date"),
    ("google_ads", "ad_group_metrics"): ("ad_group.id", "segments.date"),
    ("meta_ads", "adset_insights"): ("adset_id", "date_start"),
    ("linkedin_ads", "ad_analytics"): ("pivotValues", "dateRange"),
}


def upsert_records(state, api: str, obj: str, rows: list[dict]) -> int:
    """Insert or replace records of one object by id (tests plant hand-written records this way)."""
    if api not in APIS:
        raise ValueError(f"unknown api {api!r}; expected one of {sorted(APIS)}")
    if not isinstance(rows, list) or not all(isinstance(row, dict) for row in rows):
        raise ValueError("body must be a JSON array of objects")
    key_fields = _KEY_FIELDS.get((api, obj), (_ID_FIELDS.get(api, "id"),))

    def key(row: dict) -> str:
        return json.dumps([row.get(name) for name in key_fields], sort_keys=True)

    table = state.dataset.table(api, obj)
    position = {key(row): index for index, row in enumerate(table)}
    # Replacing a record keeps the table's length, so emulators caching views of it need this to notice.
    state.data_version = getattr(state, "data_version", 0) + 1
    for row in rows:
        if any(name not in row for name in key_fields):
            raise ValueError(f"every record needs its {', '.join(map(repr, key_fields))}")
        index = position.get(key(row))
        if index is None:
            table.append(row)
        else:
            table[index] = {**table[index], **row}
    return len(rows)
