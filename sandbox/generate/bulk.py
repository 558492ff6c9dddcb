"""Bulk updates: many records sharing one identical modification stamp.

Data loads, territory realignments and imports stamp hundreds of records with the same
``SystemModstamp`` / ``lastmodifieddate``; cursors that page on the stamp alone break on them.
"""

from __future__ import annotations

from typing import NamedTuple

from .context import Context
from .fastrand import pick
from .timefmt import DAY, hs_datetime, sf_datetime


class BulkEvent(NamedTuple):
    """One bulk update: which object, how many records, when, and what it stamps."""

    api: str
    obj: str
    share: float
    minimum: int
    days_before_clock: int
    second_of_day: int
    batch: int
    system_only: bool
    reassign_owner: bool


EVENTS = (
    BulkEvent("salesforce", "Account", 0.04, 260, 95, 22 * 3600 + 5 * 60, 0, False, True),
    BulkEvent("salesforce", "Lead", 0.05, 300, 41, 2 * 3600 + 30 * 60 + 7, 0, False, True),
    BulkEvent("salesforce", "Contact", 0.03, 260, 12, 3 * 3600, 0, True, False),
    BulkEvent("salesforce", "Opportunity", 0.02, 120, 63, 23 * 3600 + 59 * 60 + 59, 0, True, False),
    BulkEvent("hubspot", "companies", 0.05, 260, 60, 9 * 3600 + 15 * 60, 0, False, False),
    BulkEvent("hubspot", "contacts", 0.025, 300, 20, 14 * 3600 + 5 * 60 + 12, 1000, False, False),
)


def plant(ctx: Context) -> None:
    """Apply :data:`EVENTS` to the generated records and note each group in the misalignments."""
    rng = ctx.rng("bulk")
    users = [row["Id"] for row in ctx.table("salesforce", "User") if row["IsActive"]]
    for event in EVENTS:
        table = ctx.table(event.api, event.obj)
        moment = (ctx.clock_day - event.days_before_clock) * DAY + event.second_of_day
        if event.api == "salesforce":
            stamp = sf_datetime(moment)
            candidates = [index for index, row in enumerate(table)
                          if row["SystemModstamp"] < stamp and not row.get("IsConverted")]
        else:
            field = "lastmodifieddate" if event.obj == "contacts" else "hs_lastmodifieddate"
            stamp = hs_datetime(moment * 1000 + 345)
            candidates = [index for index, row in enumerate(table) if row["properties"][field] < stamp]
        count = min(len(candidates), max(event.minimum, int(len(table) * event.share)))
        chosen = sorted(rng.sample(candidates, count))
        owner = pick(rng, users) if users else None
        batch = event.batch or count or 1
        for position, index in enumerate(chosen):
            row = table[index]
            if event.api == "salesforce":
                row["SystemModstamp"] = stamp
                if not event.system_only:
                    row["LastModifiedDate"] = stamp
                if event.reassign_owner and owner is not None:
                    row["OwnerId"] = owner
                    row["LastModifiedById"] = owner
            else:
                text = hs_datetime((moment + position // batch * 2) * 1000 + 345)
                row["properties"][field] = text
                row["updatedAt"] = text
        groups = max(1, -(-count // batch))
        ctx.note("bulk_update", f"{event.api}.{event.obj}", None,
                 f"{count} records modified at {stamp} ({groups} identical-stamp group(s) of up to {batch}, "
                 f"2 s apart)" if groups > 1 else f"{count} records share the stamp {stamp}")
