"""``python -m benchmarks.ads_backfill [--scale M]``: a first-run backfill of the three ad platforms into DuckDB.

Starts a sandbox, loads every ad stream with the full history through the real clients and the
raw loader, and prints per platform the rows loaded, the wall time, rows per second, the share
of the time the sandbox spent serving the pages (its bare page-serving rate is rows divided by
that time), and the loader process's peak memory.
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import requests

from connectors.ad_metrics import MetricWindow
from connectors.google_ads.client import GoogleAdsClient
from connectors.google_ads.streams import STREAMS as GOOGLE_STREAMS
from connectors.linkedin_ads.client import LinkedInAdsClient
from connectors.linkedin_ads.streams import STREAMS as LINKEDIN_STREAMS
from connectors.meta_ads.client import MetaAdsClient
from connectors.meta_ads.streams import STREAMS as META_STREAMS
from pipelines.lib.raw_loader import load_streams
from sandbox import auth
from sandbox.apis.google_ads import DEVELOPER_TOKEN
from sandbox.generate.scales import AD_HISTORY_DAYS
from sandbox.launcher import running_sandbox


def _clients(url: str, window: MetricWindow) -> dict:
    secrets = {"client_id": auth.CLIENT_ID, "client_secret": auth.CLIENT_SECRET, "refresh_token": auth.REFRESH_TOKEN}
    return {
        "google_ads": (GoogleAdsClient(**secrets, developer_token=DEVELOPER_TOKEN, base_url=url,
                                       token_url=f"{url}/token", window=window), GOOGLE_STREAMS),
        "meta_ads": (MetaAdsClient(app_id=auth.CLIENT_ID, app_secret=auth.CLIENT_SECRET,
                                   access_token=auth.REFRESH_TOKEN, base_url=url, window=window), META_STREAMS),
        "linkedin_ads": (LinkedInAdsClient(**secrets, base_url=url, auth_url=url, window=window), LINKEDIN_STREAMS),
    }


def _timed_session(client) -> list[float]:
    """Accumulate the seconds the client's session spends waiting for the sandbox (request to full body)."""
    spent = [0.0]
    request = client.http.session.request

    def timed(*args, **kwargs):
        started = time.perf_counter()
        response = request(*args, **kwargs)
        response.content  # noqa: B018  (the body is part of serving)
        spent[0] += time.perf_counter() - started
        return response

    client.http.session.request = timed
    return spent


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print one line per platform plus a total."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.ads_backfill", description=__doc__)
    parser.add_argument("--scale", default="S", choices=["S", "M", "L"])
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="ads_backfill_"))
    started = time.monotonic()
    with running_sandbox(scale=args.scale, startup_timeout=1800) as sandbox:
        print(f"sandbox (scale {args.scale}) ready in {time.monotonic() - started:.0f}s", flush=True)
        clock = datetime.fromisoformat(requests.get(f"{sandbox.url}/_sandbox/health", timeout=10).json()["clock"])
        history = (datetime.now(UTC).date() - (clock.date() - timedelta(days=AD_HISTORY_DAYS))).days + 2
        total_rows, total_seconds = 0, 0.0
        for platform, (client, streams) in _clients(sandbox.url, MetricWindow(history_days=history)).items():
            serving = _timed_session(client)
            began = time.perf_counter()
            loads = load_streams(platform, streams, client.read_pages, str(work / "warehouse.duckdb"),
                                 work / "dlt", f"bench-{platform}")
            seconds = time.perf_counter() - began
            rows = sum(load.rows for load in loads.values())
            total_rows, total_seconds = total_rows + rows, total_seconds + seconds
            print(f"{platform:>13}: {rows:>9,} rows in {seconds:6.1f}s = {rows / seconds:>8,.0f} rows/s; "
                  f"sandbox serving {serving[0]:6.1f}s ({serving[0] / seconds:4.0%}, bare rate "
                  f"{rows / serving[0]:,.0f} rows/s); {client.http.stats.requests} requests", flush=True)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{'total':>13}: {total_rows:>9,} rows in {total_seconds:6.1f}s = {total_rows / total_seconds:>8,.0f} "
          f"rows/s; loader peak memory {peak_mb:,.0f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
