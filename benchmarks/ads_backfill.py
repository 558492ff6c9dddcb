"""``python -m benchmarks.ads_backfill [--scale M] [--repeats 2]``: a first-run backfill of the three ad platforms.

Starts a sandbox and, per platform, loads every ad stream with the full history through the real
clients and the raw loader into DuckDB ("ours"), recording every request the client sent. Then a
bare fetch loop (plain ``requests``, one request at a time, each body downloaded and discarded)
sends exactly those requests again: the floor, whose rate is the sandbox's bare page-serving rate
for this data. Ours and the floor alternate `--repeats` times, each repeat into a fresh warehouse;
the medians are printed per platform and in total, with our share of the floor's rate (floor
seconds / our seconds) and the process's peak memory. An untimed pair per platform runs first
(``--no-warmup`` leaves it out): the sandbox builds caches on its first queries of each platform,
which made the first pair the slowest of every run.
"""

from __future__ import annotations

import argparse
import resource
import statistics
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


def _recording(client) -> list[tuple[str, str, dict]]:
    """Keep every request the client's session sends from now on (method, URL, keyword arguments), in order."""
    sent: list[tuple[str, str, dict]] = []
    request = client.http.session.request

    def recorded(method, url, **kwargs):
        sent.append((method, url, kwargs))
        return request(method, url, **kwargs)

    client.http.session.request = recorded
    return sent


def bare_fetch(sent: list[tuple[str, str, dict]]) -> float:
    """Seconds a bare loop takes to send `sent` again, one after another, downloading and discarding each body."""
    session = requests.Session()
    started = time.perf_counter()
    for method, url, kwargs in sent:
        response = session.request(method, url, **kwargs)
        response.raise_for_status()
        response.content  # noqa: B018  (downloading the body is part of serving it)
    return time.perf_counter() - started


def _pair(platform: str, client, streams, work: Path, label: str) -> tuple[float, float, int, int]:
    """One load of `platform` by our client into a fresh warehouse, then the bare loop over the requests it sent:
    (our seconds, the floor's seconds, rows loaded, requests sent)."""
    sent = _recording(client)
    began = time.perf_counter()
    loads = load_streams(platform, streams, client.read_pages, str(work / f"warehouse-{label}.duckdb"),
                         work / f"dlt-{label}", f"bench-{platform}")
    mine = time.perf_counter() - began
    return mine, bare_fetch(sent), sum(load.rows for load in loads.values()), len(sent)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print one line per platform and repeat, then the medians and the total."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.ads_backfill", description=__doc__)
    parser.add_argument("--scale", default="S", choices=["S", "M", "L"])
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--warmup", action=argparse.BooleanOptionalAction, default=True,
                        help="one untimed pair per platform first: the sandbox builds caches on its first queries")
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="ads_backfill_"))
    started = time.monotonic()
    ours: dict[str, list[float]] = {}
    floor: dict[str, list[float]] = {}
    rows: dict[str, int] = {}
    with running_sandbox(scale=args.scale, startup_timeout=1800) as sandbox:
        print(f"sandbox (scale {args.scale}) ready in {time.monotonic() - started:.0f}s", flush=True)
        clock = datetime.fromisoformat(requests.get(f"{sandbox.url}/_sandbox/health", timeout=10).json()["clock"])
        history = (datetime.now(UTC).date() - (clock.date() - timedelta(days=AD_HISTORY_DAYS))).days + 2
        for repeat in range(0 if args.warmup else 1, args.repeats + 1):
            for platform, (client, streams) in _clients(sandbox.url, MetricWindow(history_days=history)).items():
                mine, bare, rows[platform], requests_sent = _pair(platform, client, streams, work, str(repeat))
                if repeat > 0:
                    ours.setdefault(platform, []).append(mine)
                    floor.setdefault(platform, []).append(bare)
                print(f"{platform:>13} {f'#{repeat}' if repeat else 'warm-up'}: {rows[platform]:>9,} rows, "
                      f"{requests_sent} requests; ours {mine:6.1f}s, floor {bare:6.1f}s ({bare / mine:4.0%})",
                      flush=True)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print("medians:")
    for platform in ours:
        mine, bare = statistics.median(ours[platform]), statistics.median(floor[platform])
        print(f"{platform:>13}: {rows[platform]:>9,} rows in {mine:6.1f}s = {rows[platform] / mine:>8,.0f} rows/s; "
              f"bare fetch loop {bare:6.1f}s = {rows[platform] / bare:>8,.0f} rows/s; ours {bare / mine:4.0%} of it")
    mine = sum(statistics.median(seconds) for seconds in ours.values())
    bare = sum(statistics.median(seconds) for seconds in floor.values())
    total = sum(rows.values())
    print(f"{'total':>13}: {total:>9,} rows in {mine:6.1f}s = {total / mine:>8,.0f} rows/s; bare fetch loop "
          f"{bare:6.1f}s; ours {bare / mine:4.0%} of it; loader peak memory {peak_mb:,.0f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
