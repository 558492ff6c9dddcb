"""``generate()``: the whole seeded, deliberately misaligned dataset in one call."""

from __future__ import annotations

import gc
from datetime import UTC, datetime

from ..dataset import APIS, Dataset
from . import bulk, google_ads, hubspot, hubspot_marketing, linkedin_ads, meta_ads, salesforce, truth, vocab
from .campaigns import assign_utms, make_campaigns
from .context import Context
from .pipeline import make_deals, make_opportunities
from .scales import CRM_HISTORY_DAYS, DEFAULT_CLOCK, Scale, scale_named
from .timefmt import DAY, epoch
from .world import link_conversions, make_companies, make_people, make_users, settle_people


def generate(scale: str | Scale = "S", seed: int = 7, clock: datetime | None = None) -> Dataset:
    """Generate a dataset: same scale, seed and clock give an identical dataset.

    ``scale`` is a name from :data:`SCALES` (``S`` ≈ 2,000 companies, ``M`` ≈ 100,000, ``L`` ≈
    1,000,000) or a :class:`Scale`. ``clock`` is the dataset's "now" (default
    :data:`DEFAULT_CLOCK`, 2026-11-27T23:00:00Z); history runs two years back for the CRMs and
    400 days back for the ad platforms.
    """
    size = scale_named(scale)
    moment = (clock or DEFAULT_CLOCK).astimezone(UTC)
    clock_ts = epoch(moment)
    start = clock_ts - CRM_HISTORY_DAYS * DAY
    dataset = Dataset(clock=moment)
    for api, objects in APIS.items():
        for obj in objects:
            dataset.table(api, obj)
    ctx = Context(dataset, seed, clock_ts, start)
    collecting = gc.isenabled()
    gc.disable()
    try:
        _build(ctx, size)
    finally:
        if collecting:
            gc.enable()
    return dataset


def _build(ctx: Context, size: Scale) -> None:
    clock, start = ctx.clock, ctx.start
    users = make_users(ctx.rng("users"), size.users, start - 200 * DAY)
    companies = make_companies(ctx.rng("companies"), size.companies, start, clock, users)
    campaigns = make_campaigns(ctx.rng("campaigns"), size.utm_campaigns, start, clock)

    sf_users = salesforce.render_users(ctx, users)
    salesforce.render_campaigns(ctx, campaigns, sf_users)
    starts, sf_campaigns = salesforce.campaign_index(campaigns)
    opps = make_opportunities(ctx.rng("opportunities"), size.opportunities, companies, users, clock, starts,
                              sf_campaigns)
    deals = make_deals(ctx.rng("deals"), size.deals, companies, clock)
    people = make_people(ctx.rng("people"), size.people, companies, clock)
    assign_utms(ctx.rng("utms"), people, campaigns, vocab.CHANNELS)
    settle_people(ctx.rng("settle"), people, clock)
    link_conversions(ctx.rng("conversions"), people, opps, clock)

    salesforce.render_accounts(ctx, companies, sf_users)
    salesforce.render_opportunities(ctx, opps, sf_users)
    contact_accounts = salesforce.render_contacts(ctx, people, sf_users)
    queues = [ctx.sf_ids("Queue").take() for _ in range(3)]
    salesforce.render_leads(ctx, people, sf_users, queues, contact_accounts)
    salesforce.render_campaign_members(ctx, people, campaigns)
    salesforce.refresh_campaign_rollups(ctx)

    hubspot.render_owners(ctx, users)
    hubspot.render_pipelines(ctx)
    hubspot.render_companies(ctx, companies)
    hubspot.render_contacts(ctx, people)
    hubspot.render_deals(ctx, deals)
    sends = hubspot_marketing.render_marketing_emails(ctx, campaigns)
    contacts = len(ctx.table("hubspot", "contacts"))
    hubspot_marketing.render_email_events(ctx, sends, people, int(contacts * 0.5))
    guids = hubspot_marketing.render_forms(ctx)
    hubspot_marketing.render_form_submissions(ctx, people, guids)

    google_ads.render(ctx, campaigns)
    meta_ads.render(ctx, campaigns)
    linkedin_ads.render(ctx, campaigns)

    bulk.plant(ctx)
    for campaign in campaigns:
        if campaign.key and not (campaign.sf_id or campaign.hs_email_ids or campaign.ad_ids):
            ctx.note("utm_without_campaign", None, None, campaign.key)
    ctx.dataset.ground_truth.update({
        "companies": truth.company_rows(companies),
        "people": truth.person_rows(people),
        "campaigns": truth.campaign_rows(campaigns),
        "employment": truth.employment_rows(people),
        "misalignments": ctx.misalignments,
    })
