"""Extraction + load of the same CRM endpoints three ways, on identical data.

The comparison set ("crm_lists") is what a full sync reads from the list endpoints, one request
sequence for every tool:

* Salesforce: all eight objects of ``connectors.salesforce.streams`` through
  ``GET /services/data/v60.0/queryAll?q=<SOQL>`` and ``nextRecordsUrl`` paging (2,000 records a
  page, the API's default batch). The SOQL is our connector's full-sync query *after* ``describe``
  discovery, so every tool asks for the same fields.
* HubSpot: ``companies``, ``contacts`` and ``deals`` through ``GET /crm/v3/objects/<type>`` with
  ``limit=100``, the same ``properties`` list, ``after`` cursor paging, once with
  ``archived=false`` and once with ``archived=true``. Our connector's v4 association reads are
  left out here (the peer has no equivalent; they are timed in the full night instead).

The tools (the first three are the issue's comparison; the last one is for information only):

* ``floor`` -- a bare fetch loop: plain ``requests`` + ``orjson``, every page downloaded, decoded
  to find the next cursor, and discarded. Nothing is converted or stored: the extraction floor.
* ``ours`` -- the project's connectors (``read_pages``) and raw loader (``load_streams``: Arrow
  pages, dlt merge on the primary key, DuckDB), exactly as the nightly job calls them.
* ``peer`` -- dlt's own ``rest_api`` source with the same endpoints, paginators and a bearer token,
  ``primary_key`` + ``write_disposition="merge"`` (the same semantics as ours) and every other
  setting at dlt's defaults (dict rows, dlt's JSON normalizer, default file format and workers).

* ``peer_parquet`` -- the peer with ``loader_file_format="parquet"``, dlt's recommended setting
  for DuckDB (the default for dict rows is ``insert_values``).

Token exchange and ``describe`` discovery happen before the clock starts, for every tool.
"""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path

import requests

API_VERSION = "v60.0"
HUBSPOT_OBJECTS = ("companies", "contacts", "deals")
HUBSPOT_LIST_LIMIT = 100


def _secrets() -> dict:
    from sandbox import auth

    return {"client_id": auth.CLIENT_ID, "client_secret": auth.CLIENT_SECRET, "refresh_token": auth.REFRESH_TOKEN}


def salesforce_client(url: str):
    """Our Salesforce client pointed at the sandbox."""
    from connectors.salesforce.client import SalesforceClient

    return SalesforceClient(login_url=url, **_secrets())


def hubspot_client(url: str):
    """Our HubSpot client pointed at the sandbox."""
    from connectors.hubspot.client import HubSpotClient

    return HubSpotClient(base_url=url, **_secrets())


def salesforce_streams(client) -> list:
    """Every Salesforce stream, extended by ``describe`` as the nightly asset does."""
    from connectors.salesforce.streams import STREAMS

    return [client.discover(stream) for stream in STREAMS]


def hubspot_list_streams() -> list:
    """The HubSpot CRM object streams without association reads (the comparison set's HubSpot half)."""
    from connectors.hubspot.streams import STREAMS

    streams = []
    for stream in STREAMS:
        if stream.options.get("object_type") in HUBSPOT_OBJECTS:
            fields = tuple(f for f in stream.fields if not f.source.startswith("_associations."))
            streams.append(dataclasses.replace(stream, fields=fields, options={**stream.options, "associations": ()}))
    return streams


def plan(url: str) -> list[dict]:
    """The request sequence of the comparison set: one entry per (stream, listing), in load order."""
    sf = salesforce_client(url)
    entries = []
    for stream in salesforce_streams(sf):
        entries.append({"source": "salesforce", "stream": stream.name, "resource": stream.name,
                        "path": f"/services/data/{API_VERSION}/queryAll", "params": {"q": sf.soql(stream, None)},
                        "data_key": "records", "paging": "next_url", "primary_key": "Id"})
    for stream in hubspot_list_streams():
        properties = ",".join(f.source.removeprefix("properties.") for f in stream.fields
                              if f.source.startswith("properties."))
        for archived in ("false", "true"):
            entries.append({
                "source": "hubspot", "stream": stream.name,
                "resource": stream.name + ("_archived" if archived == "true" else ""),
                "path": f"/crm/v3/objects/{stream.options['object_type']}",
                "params": {"limit": HUBSPOT_LIST_LIMIT, "properties": properties, "archived": archived},
                "data_key": "results", "paging": "after", "primary_key": "id"})
    return entries


def tokens(url: str) -> dict[str, str]:
    """Fresh access tokens for both CRMs (plain OAuth refresh-token exchanges)."""
    form = {"grant_type": "refresh_token", **_secrets()}
    salesforce = requests.post(f"{url}/services/oauth2/token", data=form, timeout=30)
    hubspot = requests.post(f"{url}/oauth/2026-03/token", data=form, timeout=30)
    salesforce.raise_for_status()
    hubspot.raise_for_status()
    return {"salesforce": salesforce.json()["access_token"], "hubspot": hubspot.json()["access_token"]}


def by_source(entries: list[dict]) -> dict[str, list[dict]]:
    """The plan's entries grouped by source, in order."""
    grouped: dict[str, list[dict]] = {}
    for entry in entries:
        grouped.setdefault(entry["source"], []).append(entry)
    return grouped


# --- the floor ------------------------------------------------------------------------------------------


def run_floor(url: str, entries: list[dict], work: Path) -> dict:
    """Download and discard every page of the plan; rows per stream and seconds per source."""
    import orjson

    bearer = tokens(url)
    session = requests.Session()
    rows: dict[str, int] = {}
    seconds: dict[str, float] = {}
    requests_sent = 0
    for source, group in by_source(entries).items():
        headers = {"Authorization": f"Bearer {bearer[source]}"}
        started = time.perf_counter()
        for entry in group:
            target, params = url + entry["path"], dict(entry["params"])
            while True:
                response = session.get(target, params=params, headers=headers, timeout=(10, 300))
                requests_sent += 1
                response.raise_for_status()
                body = orjson.loads(response.content)
                rows[entry["stream"]] = rows.get(entry["stream"], 0) + len(body[entry["data_key"]])
                if entry["paging"] == "next_url":
                    next_url = body.get("nextRecordsUrl")
                    if body.get("done") or not next_url:
                        break
                    target, params = url + next_url, None
                else:
                    after = ((body.get("paging") or {}).get("next") or {}).get("after")
                    if not after:
                        break
                    params = {**entry["params"], "after": after}
        seconds[source] = time.perf_counter() - started
    return {"rows": rows, "seconds": seconds, "requests": requests_sent}


# --- ours -----------------------------------------------------------------------------------------------


def run_ours(url: str, entries: list[dict], work: Path) -> dict:
    """Our connectors and raw loader over the comparison set, into ``work/warehouse.duckdb``."""
    from pipelines.lib.raw_loader import load_streams

    sf, hs = salesforce_client(url), hubspot_client(url)
    sf_streams, hs_streams = salesforce_streams(sf), hubspot_list_streams()
    planned = {e["stream"]: e["params"]["q"] for e in entries if e["source"] == "salesforce"}
    for stream in sf_streams:  # the same SOQL as the floor and the peer, or the comparison is void
        if sf.soql(stream, None) != planned.get(stream.name):
            raise RuntimeError(f"salesforce.{stream.name}: our query differs from the plan's")
    sf.auth.access_token()
    hs.auth.access_token()
    warehouse = work / "warehouse.duckdb"
    rows: dict[str, int] = {}
    seconds: dict[str, float] = {}
    requests_sent = 0
    for source, client, streams in (("salesforce", sf, sf_streams), ("hubspot", hs, hs_streams)):
        started = time.perf_counter()
        loads = load_streams(source, streams, client.read_pages, str(warehouse), work / "dlt", f"bench-{source}")
        seconds[source] = time.perf_counter() - started
        rows.update({name: load.rows for name, load in loads.items()})
        requests_sent += client.http.stats.requests
    return {"rows": rows, "seconds": seconds, "requests": requests_sent, "warehouse": str(warehouse)}


# --- the peer -------------------------------------------------------------------------------------------


def peer_source(url: str, token: str, group: list[dict]):
    """dlt ``rest_api`` configured for the plan's entries of one source; defaults everywhere else."""
    from dlt.sources.rest_api import rest_api_source

    resources = []
    for entry in group:
        if entry["paging"] == "next_url":
            paginator = {"type": "json_link", "next_url_path": "nextRecordsUrl"}
        else:
            paginator = {"type": "cursor", "cursor_path": "paging.next.after", "cursor_param": "after"}
        resources.append({
            "name": entry["resource"],
            "table_name": entry["stream"],
            "primary_key": entry["primary_key"],
            "write_disposition": "merge",
            "endpoint": {"path": entry["path"].lstrip("/"), "params": dict(entry["params"]),
                         "data_selector": entry["data_key"], "paginator": paginator},
        })
    return rest_api_source({
        "client": {"base_url": url + "/", "auth": {"type": "bearer", "token": token}},
        "resources": resources,
    }, name=f"peer_{group[0]['source']}")


def run_peer(url: str, entries: list[dict], work: Path, file_format: str | None = None) -> dict:
    """dlt's ``rest_api`` source over the comparison set, into ``work/warehouse.duckdb`` (schemas ``raw_<source>``)."""
    import dlt

    bearer = tokens(url)
    warehouse = work / "warehouse.duckdb"
    seconds: dict[str, float] = {}
    for source, group in by_source(entries).items():
        pipeline = dlt.pipeline(pipeline_name=f"peer_{source}", destination=dlt.destinations.duckdb(str(warehouse)),
                                dataset_name=f"raw_{source}", pipelines_dir=str(work / "dlt"))
        started = time.perf_counter()
        pipeline.run(peer_source(url, bearer[source], group), loader_file_format=file_format)
        seconds[source] = time.perf_counter() - started
    return {"rows": None, "seconds": seconds, "warehouse": str(warehouse)}


TOOLS = {
    "floor": run_floor,
    "ours": run_ours,
    "peer": run_peer,
    "peer_parquet": lambda url, entries, work: run_peer(url, entries, work, file_format="parquet"),
}
