"""Start and stop a sandbox server process, and the environment that points connectors at it."""

from __future__ import annotations

import os
import selectors
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import requests

from sandbox import auth
from sandbox.apis.google_ads import DEVELOPER_TOKEN as GOOGLE_ADS_DEVELOPER_TOKEN

READY_PREFIX = "sandbox listening on "


@dataclass
class RunningSandbox:
    """A sandbox process and its base URL, with the admin calls tests and benchmarks use."""

    url: str
    process: subprocess.Popen

    def advance(self, days: int = 1, change_rate: float = 0.01) -> dict:
        """Simulate `days` of activity in the sources (new, changed, deleted, merged records)."""
        return self._post(f"/_sandbox/advance?days={days}&change_rate={change_rate}")

    def inject(self, **rule) -> list[dict]:
        """Add a fault rule (see `sandbox.faults`)."""
        return self._post("/_sandbox/faults", json=rule)

    def clear_faults(self) -> None:
        """Remove every fault rule."""
        requests.delete(f"{self.url}/_sandbox/faults", timeout=10).raise_for_status()

    def upsert(self, api: str, obj: str, records: list[dict]) -> dict:
        """Insert or replace hand-written records of one object."""
        return self._post(f"/_sandbox/records/{api}/{obj}", json=records)

    def set_salesforce_api_usage(self, used: int | None = None, limit: int | None = None) -> dict:
        """Set the Salesforce org's API usage so far and its daily allocation (``Sforce-Limit-Info``)."""
        setting = {key: value for key, value in (("used", used), ("limit", limit)) if value is not None}
        return self._post("/_sandbox/salesforce/api-usage", json=setting)

    def hide_salesforce_fields(self, hidden: dict[str, list[str]] | None = None) -> dict:
        """Hide Salesforce fields from the integration user, per object (``"*"``: every object), as field-level
        security does: ``{"Lead": ["Email"], "*": ["CurrencyIsoCode"]}``. Replaces the last setting; None or ``{}``
        shows every field again."""
        return self._post("/_sandbox/salesforce/hidden-fields", json=hidden or {})

    def set_salesforce_refresh_token_rotation(self, enabled: bool = True) -> dict:
        """Turn the Salesforce connected app's refresh-token rotation on (or off): on, each refresh grant answers a
        new refresh token and revokes the one it used."""
        return self._post("/_sandbox/salesforce/refresh-token-rotation", json={"enabled": enabled})

    def hard_delete_salesforce(self, object_name: str, ids: list[str]) -> dict:
        """Remove Salesforce records entirely, as a hard delete or the recycle bin's purge does: no query, queryAll or
        COUNT() finds them any more. Answers the ids removed; an unknown object or id removes nothing and raises."""
        return self._post("/_sandbox/salesforce/hard-delete", json={"object": object_name, "ids": list(ids)})

    def hard_delete_hubspot(self, object_type: str, ids: list[str]) -> dict:
        """Remove HubSpot CRM records (``contacts``, ``companies`` or ``deals``) and their associations entirely, as a
        GDPR delete does: no list, archived list, read by id or search finds them any more. Answers the ids removed;
        an unknown object or id removes nothing and raises."""
        return self._post("/_sandbox/hubspot/hard-delete", json={"object": object_type, "ids": list(ids)})

    def hide_hubspot_from_search(self, object_type: str, ids: list[str]) -> dict:
        """Keep HubSpot CRM records (``contacts``, ``companies`` or ``deals``) out of search, as its index lagging
        recent writes does, until :meth:`release_hubspot_search`; the list and reads by id still show them. Answers
        every id of the object hidden; an unknown object or id hides nothing and raises."""
        return self._post("/_sandbox/hubspot/search-lag", json={"object": object_type, "ids": list(ids)})

    def release_hubspot_search(self) -> dict:
        """Let search find every record :meth:`hide_hubspot_from_search` hid again; answers the ids released."""
        response = requests.delete(f"{self.url}/_sandbox/hubspot/search-lag", timeout=10)
        response.raise_for_status()
        return response.json()

    def set_linkedin_refresh_token_expiry(self, expires_in: int) -> dict:
        """Make LinkedIn's refresh token expire `expires_in` seconds after the sandbox's clock (0: now)."""
        return self._post("/_sandbox/linkedin_ads/refresh-token", json={"expires_in": expires_in})

    def stats(self) -> dict:
        """Record counts per object, requests served per API, and requests each API throttled for its own enforced
        rate limits (``throttled``; injected faults aside)."""
        response = requests.get(f"{self.url}/_sandbox/stats", timeout=10)
        response.raise_for_status()
        return response.json()

    def _post(self, path: str, **kwargs) -> dict:
        response = requests.post(f"{self.url}{path}", timeout=120, **kwargs)
        if response.status_code >= 400:  # the sandbox's answer names what was wrong: keep it in the error
            raise requests.HTTPError(f"POST {path}: {response.status_code} {response.text[:500]}", response=response)
        return response.json()


def connector_env(url: str) -> dict[str, str]:
    """Environment variables that point every connector at a sandbox served at `url`.

    They also have the quality checks judge the age of the newest records at the sandbox's clock: its data stops
    there, and judged against the wall clock days later every source would look silent.
    """
    clock = requests.get(f"{url}/_sandbox/health", timeout=30).json()["clock"]
    return {
        "QUALITY_FRESHNESS_AS_OF": clock,
        "SALESFORCE_LOGIN_URL": url,
        "SALESFORCE_CLIENT_ID": auth.CLIENT_ID,
        "SALESFORCE_CLIENT_SECRET": auth.CLIENT_SECRET,
        "SALESFORCE_REFRESH_TOKEN": auth.REFRESH_TOKEN,
        "HUBSPOT_BASE_URL": url,
        "HUBSPOT_CLIENT_ID": auth.CLIENT_ID,
        "HUBSPOT_CLIENT_SECRET": auth.CLIENT_SECRET,
        "HUBSPOT_REFRESH_TOKEN": auth.REFRESH_TOKEN,
        "GOOGLE_ADS_BASE_URL": url,
        "GOOGLE_ADS_TOKEN_URL": f"{url}/token",
        "GOOGLE_ADS_CLIENT_ID": auth.CLIENT_ID,
        "GOOGLE_ADS_CLIENT_SECRET": auth.CLIENT_SECRET,
        "GOOGLE_ADS_REFRESH_TOKEN": auth.REFRESH_TOKEN,
        "GOOGLE_ADS_DEVELOPER_TOKEN": GOOGLE_ADS_DEVELOPER_TOKEN,
        "GOOGLE_ADS_LOGIN_CUSTOMER_ID": "",
        "GOOGLE_ADS_CUSTOMER_IDS": "",
        "META_ADS_BASE_URL": url,
        "META_ADS_APP_ID": auth.CLIENT_ID,
        "META_ADS_APP_SECRET": auth.CLIENT_SECRET,
        "META_ADS_ACCESS_TOKEN": auth.REFRESH_TOKEN,
        "META_ADS_ACCOUNT_IDS": "",
        "LINKEDIN_ADS_BASE_URL": url,
        "LINKEDIN_ADS_AUTH_URL": url,
        "LINKEDIN_ADS_CLIENT_ID": auth.CLIENT_ID,
        "LINKEDIN_ADS_CLIENT_SECRET": auth.CLIENT_SECRET,
        "LINKEDIN_ADS_REFRESH_TOKEN": auth.REFRESH_TOKEN,
        "LINKEDIN_ADS_ACCOUNT_IDS": "",
    }


#: `running_sandbox` arguments lifting HubSpot's burst (the sandbox advertises and enforces 1,000,000 requests per
#: 10 s, so the paced client holds back only its searches) and not enforcing search's per-second limit: for runs
#: that measure or test what comes after the sync (benchmarks, transform fixtures), not the sync under the limits.
HUBSPOT_LIMITS_LIFTED = {"hubspot_burst": 1_000_000, "hubspot_search_per_second": 0}


@contextmanager
def running_sandbox(
    scale: str = "S",
    seed: int = 7,
    dataset: Path | None = None,
    extra_args: tuple[str, ...] = (),
    startup_timeout: float = 120.0,
    hubspot_burst: int | None = None,
    hubspot_burst_window_ms: int | None = None,
    hubspot_search_per_second: int | None = None,
) -> Iterator[RunningSandbox]:
    """Run ``python -m sandbox serve`` on a free loopback port for the duration of the block.

    The HubSpot limits, when given, replace the server's defaults (the real Professional tier: 190 requests per
    10,000 ms, 5 searches per second); 0 turns a limit's enforcement off.
    """
    command = [sys.executable, "-m", "sandbox", "serve", "--port", "0", "--scale", scale, "--seed", str(seed)]
    if dataset is not None:
        command += ["--dataset", str(dataset)]
    for option, value in (("--hubspot-burst", hubspot_burst), ("--hubspot-burst-window-ms", hubspot_burst_window_ms),
                          ("--hubspot-search-per-second", hubspot_search_per_second)):
        if value is not None:
            command += [option, str(value)]
    command += list(extra_args)
    project_root = Path(__file__).resolve().parent.parent
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(project_root), os.environ.get("PYTHONPATH")]))}
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, env=env, cwd=project_root)
    try:
        url = _wait_for_url(process, startup_timeout)
        yield RunningSandbox(url=url, process=process)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stdout:
            process.stdout.close()


def _wait_for_url(process: subprocess.Popen, timeout: float) -> str:
    deadline = time.monotonic() + timeout
    selector = selectors.DefaultSelector()
    selector.register(process.stdout, selectors.EVENT_READ)
    while time.monotonic() < deadline:
        if selector.select(timeout=0.5):
            line = process.stdout.readline()
            if line.startswith(READY_PREFIX):
                return line[len(READY_PREFIX):].strip()
            if not line and process.poll() is not None:
                break
    raise RuntimeError(f"the sandbox did not start within {timeout:.0f}s (exit code {process.poll()})")
