"""``advance()``: move a dataset's clock forward, simulating each day's activity in every source."""

from __future__ import annotations

import gc
from collections import Counter, defaultdict
from datetime import timedelta

from ..dataset import Dataset
from . import edits, growth, removals
from .ad_activity import AdState
from .context import Context
from .day import Day
from .salesforce import refresh_campaign_rollups
from .state import State
from .timefmt import DAY, epoch

#: Expected new records per day, as a share of the existing ones (two years of history ≈ 1/730).
GROWTH = {"companies": 1 / 700, "people": 1 / 650, "opportunities": 1 / 500, "deals": 1 / 600, "members": 1 / 600}
#: Share of records soft-deleted (Salesforce) or archived (HubSpot) per day.
DELETE_RATE = 0.0004


def advance(dataset: Dataset, days: int = 1, change_rate: float = 0.01, seed: int | None = None) -> dict:
    """Move ``dataset.clock`` forward by ``days`` days, simulating each day's activity.

    Per day: new companies, people, opportunities, deals and campaign members; edits to about
    ``change_rate`` of the existing records (stamped within that day); Salesforce deletes and
    merges, HubSpot archives and merges; the ad platforms' metrics for the day that just ended,
    and restatements of the seven days before it. Ground truth gains rows for new records.

    Deterministic: the same dataset, ``days``, ``change_rate`` and ``seed`` give the same result;
    without ``seed`` the random streams derive from the clock. Returns counts per kind of
    change (``created``, ``updated``, ``converted``, ``deleted``, ``archived``, ``merged``,
    ``restated``), each keyed by ``api.object``.
    """
    if days < 0:
        raise ValueError("days must be >= 0")
    base = "auto" if seed is None else str(seed)
    summary: dict[str, Counter] = defaultdict(Counter)
    collecting = gc.isenabled()
    gc.disable()
    try:
        state = State(dataset)
        start = epoch(dataset.clock)
        ads = AdState(dataset, (start + DAY) // DAY - 1)
        children = removals.Children(state)
        members = removals.Members(state)
        groups = removals.duplicate_groups(state)
        memberships = {(row["CampaignId"], row["LeadId"] or row["ContactId"])
                       for row in dataset.table("salesforce", "CampaignMember")}
        open_opps = [row["Id"] for row in dataset.table("salesforce", "Opportunity")
                     if not row["IsClosed"] and not row["IsDeleted"]]
        for number in range(days):
            day = Day(state, base, start + number * DAY, summary)
            _simulate_day(day, change_rate, children, members, groups, memberships, open_opps)
            newest = day.end // DAY - 1
            ad_rng = day.ctx.rng("ads")
            for key, count in ads.add_day(ad_rng, newest).items():
                summary["created"][key] += count
            for key, count in ads.restate(ad_rng, newest).items():
                summary["restated"][key] += count
            dataset.clock = dataset.clock + timedelta(days=1)
        if days:
            ctx = Context(dataset, base, epoch(dataset.clock), start)
            changed = refresh_campaign_rollups(ctx, epoch(dataset.clock) - 30)
            if changed:
                summary["updated"]["salesforce.Campaign"] += changed
    finally:
        if collecting:
            gc.enable()
    result: dict = {kind: dict(sorted(counts.items())) for kind, counts in sorted(summary.items())}
    result["days"] = days
    result["clock"] = dataset.clock.isoformat()
    return result


def _simulate_day(day: Day, change_rate: float, children: removals.Children, members: removals.Members,
                  groups: dict[str, list[str]], memberships: set, open_opps: list[str]) -> None:
    state = day.state
    table = state.dataset.table
    children.forget()
    members.forget()
    fresh = growth.new_companies(day, day.count(len(state.company_records) * GROWTH["companies"]))
    growth.new_people(day, day.count(len(state.person_records) * GROWTH["people"] / 1.6), fresh)
    growth.new_opportunities(day, day.count(len(table("salesforce", "Opportunity")) * GROWTH["opportunities"]))
    growth.new_deals(day, day.count(len(table("hubspot", "deals")) * GROWTH["deals"]))
    growth.new_members(day, day.count(len(table("salesforce", "CampaignMember")) * GROWTH["members"]), memberships)
    open_opps.extend(day.new_opps)
    edits.update_accounts(day, day.count(len(state.sf["Account"]) * change_rate))
    edits.update_contacts(day, day.count(len(state.sf["Contact"]) * change_rate))
    edits.update_leads(day, day.count(len(state.sf["Lead"]) * change_rate))
    edits.update_opportunities(day, day.count(len(state.sf["Opportunity"]) * change_rate), open_opps)
    edits.update_members(day, day.count(len(table("salesforce", "CampaignMember")) * change_rate))
    edits.update_hs_companies(day, day.count(len(state.hs["companies"]) * change_rate))
    edits.update_hs_contacts(day, day.count(len(state.hs["contacts"]) * change_rate))
    edits.update_hs_deals(day, day.count(len(state.hs["deals"]) * change_rate))
    for obj in ("Account", "Contact", "Lead", "Opportunity"):
        removals.delete_sf(day, obj, day.count(len(state.sf[obj]) * DELETE_RATE), children)
    for obj in ("companies", "contacts", "deals"):
        removals.archive_hs(day, obj, day.count(len(state.hs[obj]) * DELETE_RATE))
    for system in ("salesforce", "salesforce_lead", "salesforce_contact", "hubspot", "hubspot_contact"):
        removals.merge(day, system, groups.get(system, []), children, members)
    _drop_merged(day)


def _drop_merged(day: Day) -> None:
    dataset = day.state.dataset
    for obj, removed in day.removed.items():
        if removed:
            rows = dataset.table("hubspot", obj)
            rows[:] = [row for row in rows if row["id"] not in removed]
    if day.dead_associations:
        dead = day.dead_associations
        rows = dataset.table("hubspot", "associations")
        rows[:] = [row for row in rows if id(row) not in dead]
        day.state._associations = None
