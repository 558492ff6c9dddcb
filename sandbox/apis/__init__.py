"""The emulated APIs. Each emulator has a `name`, `path_prefixes`, `routes()` and `fault_response(rule)`."""

from __future__ import annotations

from sandbox.dataset import APIS


def emulators(state) -> list:
    """One instance of every emulator, sharing the sandbox state."""
    from sandbox.apis.salesforce import SalesforceEmulator

    return [SalesforceEmulator(state)]


#: The field that identifies a record, per API, for upserts through the admin endpoint.
_ID_FIELDS = {"salesforce": "Id", "hubspot": "id"}


def upsert_records(state, api: str, obj: str, rows: list[dict]) -> int:
    """Insert or replace records of one object by id (tests plant hand-written records this way)."""
    if api not in APIS:
        raise ValueError(f"unknown api {api!r}; expected one of {sorted(APIS)}")
    if not isinstance(rows, list) or not all(isinstance(row, dict) for row in rows):
        raise ValueError("body must be a JSON array of objects")
    id_field = _ID_FIELDS.get(api, "id")
    table = state.dataset.table(api, obj)
    position = {row.get(id_field): index for index, row in enumerate(table)}
    for row in rows:
        if id_field not in row:
            raise ValueError(f"every record needs its {id_field!r}")
        index = position.get(row[id_field])
        if index is None:
            table.append(row)
        else:
            table[index] = {**table[index], **row}
    return len(rows)
