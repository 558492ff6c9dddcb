"""What the LinkedIn client adds to every ``adAnalytics`` element: its day, account, campaign and the metric stamps.

An element names its day only as a Rest.li ``dateRange`` and its campaign only as the URN in
``pivotValues``. :class:`AnalyticsStamp` adds both as plain fields, with the key, window key,
currency and time zone every ad metric row carries (:func:`connectors.ad_metrics.stamp`), to a
decoded element or, the same way, to a page Arrow's JSON reader read (:mod:`connectors.pages`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import pyarrow as pa
import pyarrow.compute as pc

from connectors.ad_metrics import stamp, stamp_columns

#: The Rest.li date of an element's first day, as Arrow reads it.
_DAY = pa.struct([("year", pa.int64()), ("month", pa.int64()), ("day", pa.int64())])


@dataclass(frozen=True)
class AnalyticsStamp:
    """Stamps the elements of one account's analytics (a :class:`connectors.pages.Stamp`)."""

    account: str
    currency: str | None
    time_zone: str
    sources: frozenset[str] = frozenset({"_date", "_account_id", "_campaign_id", "_row_key", "_window_key",
                                         "_currency_code", "_account_time_zone"})
    reads: dict[str, pa.DataType] = field(default_factory=lambda: {"dateRange": pa.struct([("start", _DAY)])})

    def record(self, element: dict) -> dict:
        """Stamp one decoded element in place and return it; one without its day or campaign gets no key."""
        day = element_day(element)
        pivots = element.get("pivotValues") or [None]
        campaign = str(pivots[0]).rsplit(":", 1)[-1] if pivots[0] else None
        element.update(_date=day, _account_id=self.account, _campaign_id=campaign)
        return stamp(element, self.account, [campaign], day, self.currency, self.time_zone)

    def columns(self, records: pa.StructArray) -> dict[str, pa.Array] | None:
        """The stamped fields of a page Arrow read, as :meth:`record` makes them; None when an element lacks its day or
        campaign (Python's way quarantines it)."""
        day, campaign = _days(records), _campaigns(records)
        if day is None or campaign is None:
            return None
        return {"_date": day, "_account_id": pa.repeat(pa.scalar(self.account, pa.string()), len(records)),
                "_campaign_id": campaign, **stamp_columns(self.account, [campaign], day, self.currency, self.time_zone)}


def element_day(element: dict) -> str | None:
    """The day of a DAILY element (``dateRange.start``), or None when the element does not say."""
    try:
        start = element["dateRange"]["start"]
        return date(int(start["year"]), int(start["month"]), int(start["day"])).isoformat()
    except (KeyError, TypeError, ValueError):
        return None


def _days(records: pa.StructArray) -> pa.Array | None:
    """``dateRange.start`` as ISO text for every element, or None when one has no valid day."""
    parts = [pc.struct_field(records, ["dateRange", "start", name]) for name in ("year", "month", "day")]
    start = pc.struct_field(records, ["dateRange", "start"])
    if any(part.null_count for part in parts) or start.null_count or pc.struct_field(records, "dateRange").null_count:
        return None
    year = parts[0]
    if pc.min(year).as_py() < 1 or pc.max(year).as_py() > 9999:
        return None
    width = {"year": 4, "month": 2, "day": 2}
    text = pc.binary_join_element_wise(
        *(pc.utf8_lpad(part.cast(pa.string()), width[name], "0") for name, part in zip(width, parts, strict=True)),
        "-")
    try:
        text.cast(pa.date32())  # a day the calendar lacks (June 31, month 13, day 0) is Python's to reject
    except pa.ArrowInvalid:
        return None
    return text


def _campaigns(records: pa.StructArray) -> pa.Array | None:
    """The campaign id ending the first pivot URN of every element, or None when one has none."""
    pivots = records.field("pivotValues")
    if pivots.null_count or pc.min(pc.list_value_length(pivots)).as_py() < 1:
        return None
    first = pc.list_element(pivots, 0)
    campaign = pc.replace_substring_regex(first, pattern="(?s)^.*:", replacement="")
    if first.null_count or pc.any(pc.equal(pc.utf8_length(campaign), 0)).as_py():
        return None
    return campaign
