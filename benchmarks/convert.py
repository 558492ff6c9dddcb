"""Micro-benchmark of the client CPU per row: JSON decoding and Arrow conversion, per stream.

``python -m benchmarks.convert`` starts a scale-S sandbox (``sandbox.launcher.running_sandbox``),
reads every page of the Salesforce objects, the HubSpot CRM objects (list endpoints, as
``benchmarks.extract`` reads them) and the ad platforms with our connectors' ``read_pages``,
keeping each response body as it came off the wire. Then, with no network in the clock, it
times per stream, in microseconds per row:

* **decode** -- the bodies through ``json.loads(parse_float=Decimal)``, as ``connectors.http``
  decodes them (every number exact), and, for scale only, through ``orjson.loads``, which is
  faster but reads every non-integer as a float64 (so not what the connectors may use);
* **to_arrow** -- the pages through ``connectors.schema.convert_by_columns`` (old: the
  per-column path, now the fallback) and through ``connectors.schema.to_arrow`` (new: the fast
  path first), after checking that both give the same tables and rejected records;
* **Arrow read** -- the CRM bodies straight to the converted table by Arrow's JSON reader
  (``connectors.pages.PageDecoder``, once the first page set the stream's types), which replaces
  decode + to_arrow for the pages it takes (checked equal to them, share of pages shown).

Old and new run in the same process on the same pages, best of ``--repeats``; read the ratios,
not the absolute figures (the machine is shared). A stream's decode time counts every body its
reads received (an ad client's account look-ups too); streams served from a client's cache show 0.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from connectors.schema import Stream


@dataclass
class Sample:
    """One stream's pages as read, and the raw bodies the reads received."""

    label: str
    stream: Stream
    pages: list[list[dict]] = field(default_factory=list)
    bodies: list[bytes] = field(default_factory=list)

    @property
    def rows(self) -> int:
        """Records over all pages."""
        return sum(map(len, self.pages))


def _recording(client) -> list[bytes]:
    """Keep the body of every response `client.http` receives from now on (appended to the returned list)."""
    bodies: list[bytes] = []
    session = client.http.session
    send = session.request

    def request(*args, **kwargs):
        response = send(*args, **kwargs)
        bodies.append(response.content)
        return response

    session.request = request
    return bodies


#: Where the records are in a list endpoint's body, for the sources whose bodies Arrow reads.
RECORDS_KEYS = {"salesforce": "records", "hubspot": "results"}


def _read(label: str, client, stream: Stream, bodies: list[bytes]) -> Sample:
    bodies.clear()
    pages = [list(page) for page in client.read_pages(stream) if page]
    return Sample(label, stream, pages, list(bodies))


def crm_samples(url: str) -> Iterator[Sample]:
    """Salesforce objects and HubSpot CRM objects, read as ``benchmarks.extract`` reads them."""
    from benchmarks.extract import hubspot_client, hubspot_list_streams, salesforce_client, salesforce_streams

    salesforce = salesforce_client(url)
    streams = salesforce_streams(salesforce)
    bodies = _recording(salesforce)
    for stream in streams:
        yield _read(f"salesforce.{stream.name}", salesforce, stream, bodies)
    hubspot = hubspot_client(url)
    hubspot.auth.access_token()
    bodies = _recording(hubspot)
    for stream in hubspot_list_streams():
        yield _read(f"hubspot.{stream.name}", hubspot, stream, bodies)


def ad_samples(url: str) -> Iterator[Sample]:
    """Every ad-platform stream, with the clients' clock at the sandbox's."""
    from connectors.google_ads.client import GoogleAdsClient
    from connectors.google_ads.streams import STREAMS as GOOGLE
    from connectors.linkedin_ads.client import LinkedInAdsClient
    from connectors.linkedin_ads.streams import STREAMS as LINKEDIN
    from connectors.meta_ads.client import MetaAdsClient
    from connectors.meta_ads.streams import STREAMS as META
    from sandbox import auth
    from sandbox.apis.google_ads import DEVELOPER_TOKEN
    from sandbox.generate import DEFAULT_CLOCK

    oauth = {"client_id": auth.CLIENT_ID, "client_secret": auth.CLIENT_SECRET, "refresh_token": auth.REFRESH_TOKEN}
    clients = {
        "google_ads": (GoogleAdsClient(**oauth, developer_token=DEVELOPER_TOKEN, base_url=url, token_url=f"{url}/token",
                                       clock=lambda: DEFAULT_CLOCK), GOOGLE),
        "meta_ads": (MetaAdsClient(app_id=auth.CLIENT_ID, app_secret=auth.CLIENT_SECRET,
                                   access_token=auth.REFRESH_TOKEN, base_url=url, clock=lambda: DEFAULT_CLOCK), META),
        "linkedin_ads": (LinkedInAdsClient(**oauth, base_url=url, auth_url=url, clock=lambda: DEFAULT_CLOCK), LINKEDIN),
    }
    for source, (client, streams) in clients.items():
        discovered = [client.discover(stream) for stream in streams]
        bodies = _recording(client)
        for stream in discovered:
            yield _read(f"{source}.{stream.name}", client, stream, bodies)


def collect(scale: str = "S") -> list[Sample]:
    """Every stream's pages and bodies from a fresh sandbox of `scale`."""
    from benchmarks.sandbox_limits import LIFTED
    from sandbox.launcher import running_sandbox

    with running_sandbox(scale=scale, **LIFTED) as sandbox:
        return [sample for sample in (*crm_samples(sandbox.url), *ad_samples(sandbox.url)) if sample.rows]


def best_seconds(work: Callable[[], object], repeats: int) -> float:
    """The fastest of `repeats` runs of `work`, in seconds."""
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        work()
        best = min(best, time.perf_counter() - started)
    return best


def _exact_decode(bodies: list[bytes]) -> list:
    from connectors.http import exact_json

    return [exact_json(body) for body in bodies]


def _orjson_decode(bodies: list[bytes]) -> list:
    import orjson

    return [orjson.loads(body) for body in bodies]


def _old_convert(sample: Sample) -> list:
    from connectors.schema import convert_by_columns

    return [convert_by_columns(sample.stream, page) for page in sample.pages]


def _new_convert(sample: Sample) -> list:
    from connectors.schema import to_arrow

    return [to_arrow(sample.stream, page) for page in sample.pages]


def _arrow_read(sample: Sample) -> list:
    from connectors.pages import PageDecoder

    key = RECORDS_KEYS.get(sample.label.split(".")[0])
    if key is None:
        return []
    decode = PageDecoder(sample.stream, key, {}, dropped=("attributes",))
    return [decode(body) for body in sample.bodies]


def check_equal(sample: Sample) -> None:
    """Raise unless the new conversion gives exactly what the old one gives (types, values, nulls, rejections)."""
    for old, new in zip(_old_convert(sample), _new_convert(sample), strict=True):
        if not (old.table.equals(new.table, check_metadata=True) and old.table.schema == new.table.schema):
            raise AssertionError(f"{sample.label}: the conversions disagree")
        if [(r.record, r.reason) for r in old.rejected] != [(r.record, r.reason) for r in new.rejected]:
            raise AssertionError(f"{sample.label}: the rejected records disagree")
    for page, new in zip(_arrow_read(sample), _new_convert(sample), strict=False):
        if page.conversion is not None and not page.conversion.table.equals(new.table, check_metadata=True):
            raise AssertionError(f"{sample.label}: Arrow's reading of a body disagrees with its conversion")


def measure(sample: Sample, repeats: int) -> dict:
    """µs per row of decoding and conversion, old and new, for one stream."""
    per_row = 1e6 / sample.rows
    return {
        "stream": sample.label, "rows": sample.rows, "fields": len(sample.stream.fields),
        "decode": best_seconds(lambda: _exact_decode(sample.bodies), repeats) * per_row,
        "orjson": best_seconds(lambda: _orjson_decode(sample.bodies), repeats) * per_row,
        "arrow_old": best_seconds(lambda: _old_convert(sample), repeats) * per_row,
        "arrow_new": best_seconds(lambda: _new_convert(sample), repeats) * per_row,
        "arrow_read": best_seconds(lambda: _arrow_read(sample), repeats) * per_row,
        "arrow_read_pages": sum(page.conversion is not None for page in _arrow_read(sample)),
        "pages": len(sample.bodies),
    }


def table(results: list[dict]) -> str:
    """The results as a Markdown table, with a row of the row-weighted totals."""
    lines = ["| stream | rows | fields | decode µs/row (json, exact) | orjson µs/row (lossy, for scale) "
             "| to_arrow old µs/row | to_arrow new | new/old | Arrow read µs/row (pages it took) "
             "| Arrow read / (decode + new) |", "|---|---|---|---|---|---|---|---|---|---|"]
    total = {"stream": "all (row-weighted)", "rows": sum(r["rows"] for r in results), "fields": "",
             "arrow_read_pages": sum(r["arrow_read_pages"] for r in results), "pages": sum(r["pages"] for r in results)}
    for key in ("decode", "orjson", "arrow_old", "arrow_new"):
        total[key] = sum(r[key] * r["rows"] for r in results) / max(total["rows"], 1)
    read = [r for r in results if r["arrow_read_pages"]]  # the total of the Arrow columns is over these streams
    read_rows = max(sum(r["rows"] for r in read), 1)
    total["arrow_read"] = sum(r["arrow_read"] * r["rows"] for r in read) / read_rows
    total["replaced"] = sum((r["decode"] + r["arrow_new"]) * r["rows"] for r in read) / read_rows
    for r in (*results, total):
        replaced = r.get("replaced", r["decode"] + r["arrow_new"])
        read = (f"{r['arrow_read']:.2f} ({r['arrow_read_pages']} of {r['pages']}) "
                f"| {r['arrow_read'] / replaced:.0%}") if r["arrow_read_pages"] else "- | -"
        lines.append(
            f"| {r['stream']} | {r['rows']:,} | {r['fields']} | {r['decode']:.2f} | {r['orjson']:.2f} "
            f"| {r['arrow_old']:.2f} | {r['arrow_new']:.2f} "
            f"| {r['arrow_new'] / r['arrow_old']:.0%} | {read} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    """Collect the pages, check old and new agree, time them and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", default="S", help="sandbox scale (default S; M needs ~5 GB)")
    parser.add_argument("--repeats", type=int, default=5, help="timed runs per measurement; the best counts")
    parser.add_argument("--only", default="", help="comma-separated substrings of the stream labels to keep")
    args = parser.parse_args(argv)
    samples = collect(args.scale)
    if args.only:
        samples = [s for s in samples if any(part in s.label for part in args.only.split(","))]
    for sample in samples:
        check_equal(sample)
    print(table([measure(sample, args.repeats) for sample in samples]))


if __name__ == "__main__":
    main()
