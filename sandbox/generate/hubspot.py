"""HubSpot CRM records (v3 object shape) rendered from the real world.

Objects are ``{"id", "properties", "createdAt", "updatedAt", "archived"}`` with every property
value a string or ``None``. Contacts carry their modification time in ``lastmodifieddate``;
companies and deals in ``hs_lastmodifieddate``; ``updatedAt`` always equals it.
"""

from __future__ import annotations

import random
from operator import itemgetter

from . import vocab
from .campaigns import utm_source_medium
from .context import Context
from .fastrand import below, pick
from .pipeline import HS_PIPELINES, Opp
from .timefmt import DAY, hs_datetime
from .variants import company_name_variant, fold_accents, gmail_variant, hubspot_domain_variant
from .world import (
    CUSTOMER,
    EVANGELIST,
    LEAD_STAGE,
    OTHER,
    SQL,
    SUBSCRIBER,
    Company,
    Person,
    User,
)

PORTAL_ID = 4815162
#: The ``hs_lifecyclestage_<stage>_date`` property of each lifecycle stage, in funnel order.
STAGE_DATE_KEYS = tuple(f"hs_lifecyclestage_{stage}_date" for stage in vocab.LIFECYCLE_STAGES)
_SOURCE_DATA = {
    "ORGANIC_SEARCH": ("google", "bing", "duckduckgo"), "PAID_SEARCH": ("google", "bing"),
    "PAID_SOCIAL": ("LinkedIn", "Facebook"), "EMAIL_MARKETING": (None,), "DIRECT_TRAFFIC": (None,),
    "REFERRALS": ("g2.com", "capterra.com", "partner-portal.example.com", "medium.com"),
    "SOCIAL_MEDIA": ("LinkedIn", "Twitter", "YouTube"), "OFFLINE": ("IMPORT", "CRM_UI", "INTEGRATION"),
    "OTHER_CAMPAIGNS": (None,),
}


def hs_ms(rng: random.Random, ts: int) -> int:
    """Epoch milliseconds of a moment, with a millisecond part."""
    return ts * 1000 + below(rng, 1000)


def hs_number(value: float | int | None) -> str | None:
    """A number the way HubSpot stores it in a property (``"48500000"``, ``"1250.5"``)."""
    if value is None:
        return None
    if float(value).is_integer():
        return str(int(value))
    return repr(float(value))


def render_owners(ctx: Context, users: list[User]) -> None:
    """``owners`` records for the users that have a HubSpot seat (deactivated ones archived)."""
    rng = ctx.rng("hs:owners")
    ids = ctx.sequence("hs:owners", 41_000_000 + below(rng, 900_000), 40_000)
    user_ids = ctx.sequence("hs:users", 9_100_000 + below(rng, 90_000), 300)
    table = ctx.table("hubspot", "owners")
    for user in sorted((user for user in users if user.in_hs), key=lambda user: user.created):
        user.hs_id = str(ids.take())
        user.hs_user_id = user_ids.take()
        created = hs_ms(rng, user.created)
        updated = created + int((ctx.clock * 1000 - created) * rng.random())
        table.append({"id": user.hs_id, "email": user.email, "firstName": user.first, "lastName": user.last,
                      "userId": user.hs_user_id, "createdAt": hs_datetime(created), "updatedAt": hs_datetime(updated),
                      "archived": not user.active})


def render_pipelines(ctx: Context) -> None:
    """The two deal pipelines: HubSpot's default one and a custom one with numeric ids."""
    table = ctx.table("hubspot", "pipelines")
    created = hs_datetime((ctx.start - 30 * DAY) * 1000 + 512)
    for order, (pipeline_id, label) in enumerate((("default", "Sales Pipeline"), vocab.HS_CUSTOM_PIPELINE)):
        stages, _, _ = HS_PIPELINES[pipeline_id]
        table.append({
            "id": pipeline_id, "label": label, "displayOrder": order,
            "stages": [{"id": stage_id, "label": stage_label, "displayOrder": index,
                        "metadata": {"probability": probability, "isClosed": is_closed},
                        "createdAt": created, "updatedAt": created, "archived": False}
                       for index, (stage_id, stage_label, probability, is_closed) in enumerate(stages)],
            "createdAt": created, "updatedAt": created, "archived": False,
        })


def _owner_id(rng: random.Random, user: User | None, missing: float) -> str | None:
    if user is None or user.hs_id is None or rng.random() < missing:
        return None
    return user.hs_id


def company_lifecycle(rng: random.Random, company: Company) -> tuple[str | None, bool]:
    """HubSpot's ``lifecyclestage`` of a company, and whether it contradicts the pipeline."""
    if company.customer_since is not None:
        if company.in_sf and rng.random() < 0.08:
            return pick(rng, ("lead", "opportunity", "salesqualifiedlead")), True
        return "customer", False
    if company.in_sf and rng.random() < 0.02:
        return "customer", True
    roll = rng.random()
    if roll < 0.5:
        return "lead", False
    if roll < 0.65:
        return "marketingqualifiedlead", False
    if roll < 0.8:
        return "salesqualifiedlead", False
    if roll < 0.9:
        return "opportunity", False
    return ("subscriber" if roll < 0.95 else None), False


def render_companies(ctx: Context, companies: list[Company]) -> None:
    """``companies`` records: HubSpot companies (15% without domain), duplicates, synced Salesforce ids."""
    rng = ctx.rng("hs:companies")
    ids = ctx.sequence("hs:companies", 4001, 4)
    clock_ms = ctx.clock * 1000
    instances = []
    for company in companies:
        if not company.in_hs:
            continue
        created = company.created
        if company.in_sf:
            created += int(rng.random() * min(20 * DAY, max(0, ctx.clock - 120 - created)))
        instances.append((created, company.index, 0, company))
        for copy in range(1, company.hs_dups + 1):
            copied = created + int(rng.random() * min(300 * DAY, max(0, ctx.clock - 60 - created)))
            instances.append((copied, company.index, copy, company))
    instances.sort(key=itemgetter(0))
    shared = [company for company in companies if company.in_hs and company.sf_ids]
    table = ctx.table("hubspot", "companies")
    for created, _, copy, company in instances:
        record_id = str(ids.take())
        company.hs_ids.append(record_id)
        created_ms = hs_ms(rng, created)
        modified_ms = created_ms + int((clock_ms - 1000 - created_ms) * rng.random())
        synced = None
        if copy == 0 and company.sf_ids:
            roll = rng.random()
            if roll < 0.40:
                synced = company.sf_ids[0]
            elif roll < 0.415 and len(shared) > 1:
                other = pick(rng, shared)
                if other is not company:
                    synced = other.sf_ids[0]
                    ctx.note("wrong_synced_id", "hubspot_company", record_id,
                             f"salesforceaccountid {synced} belongs to {other.entity_id}, domain says "
                             f"{company.entity_id}")
        lifecycle, conflict = company_lifecycle(rng, company) if copy == 0 else ("lead", False)
        if conflict:
            ctx.note("lifecycle_conflict", "hubspot_company", record_id,
                     f"lifecyclestage {lifecycle}; customer in pipeline: {company.customer_since is not None}")
        table.append(company_record(rng, company, record_id, created_ms, modified_ms, copy, synced, lifecycle))


def company_record(rng: random.Random, company: Company, record_id: str, created_ms: int, modified_ms: int,
                   copy: int = 0, synced: str | None = None, lifecycle: str | None = "lead") -> dict:
    """One HubSpot company of a real company (``copy`` 1: an in-system duplicate)."""
    rand = rng.random
    if copy == 0 and rand() < (0.5 if company.in_sf else 0.7):
        name = company.name
    else:
        name = company_name_variant(rng, company.base, company.suffix)
    domain = hubspot_domain_variant(rng, company.domain) if rand() >= 0.15 else None
    website = f"https://www.{company.domain}" if domain is not None and rand() < 0.4 else None
    employees = company.employees if rand() < 0.8 else None
    if employees is not None and rand() < 0.3:
        employees = round(employees, -1) or employees
    created_text, modified_text = hs_datetime(created_ms), hs_datetime(modified_ms)
    return {
        "id": record_id,
        "properties": {
            "name": name, "domain": domain, "website": website,
            "industry": vocab.INDUSTRIES[company.industry][1] if rand() < 0.8 else None,
            "numberofemployees": hs_number(employees),
            "annualrevenue": hs_number(company.revenue) if rand() < 0.6 else None,
            "city": company.city if rand() < 0.7 else None,
            "country": pick(rng, vocab.COUNTRY_SPELLINGS[company.country]) if rand() < 0.85 else None,
            "hubspot_owner_id": _owner_id(rng, company.owner, 0.12), "lifecyclestage": lifecycle,
            "createdate": created_text, "hs_lastmodifieddate": modified_text, "hs_object_id": record_id,
            "salesforceaccountid": synced, "hs_merged_object_ids": None,
        },
        "createdAt": created_text, "updatedAt": modified_text, "archived": False,
    }


def stage_dates(rng: random.Random, stage: int, created_ms: int, modified_ms: int,
                floor_customer_ms: int | None, created_text: str) -> list[str | None]:
    """The ``hs_lifecyclestage_<stage>_date`` values (funnel order) for a contact now at ``stage``."""
    dates: list[str | None] = [None] * 8
    if stage == OTHER:
        dates[OTHER] = created_text
        return dates
    rand = rng.random
    first = SUBSCRIBER if stage == SUBSCRIBER or rand() < 0.3 else LEAD_STAGE
    dates[first] = created_text
    if stage <= first:
        return dates
    reached = [s for s in range(first + 1, stage) if s != EVANGELIST and rand() < 0.8]
    if stage == EVANGELIST and CUSTOMER not in reached:
        reached.append(CUSTOMER)
    reached.append(stage)
    span = modified_ms - created_ms
    moments = sorted(created_ms + int(rand() * span) for _ in reached)
    for stage_index, moment in zip(reached, moments, strict=True):
        if stage_index == CUSTOMER and floor_customer_ms is not None and moment < floor_customer_ms <= modified_ms:
            moment = floor_customer_ms
        dates[stage_index] = hs_datetime(moment)
    return dates


_CHANNEL_NAMES = tuple(name for name, _, _ in vocab.CHANNELS)
_FIRST_URL_PAGES = ("", "pricing", "blog/dataops", "product")


def render_contacts(ctx: Context, people: list[Person]) -> None:
    """``contacts`` records and their ``contact_to_company`` associations."""
    rng = ctx.rng("hs:contacts")
    rand = rng.random
    take = ctx.sequence("hs:contacts", 51, 3).take
    clock = ctx.clock
    clock_ms = clock * 1000
    instances = []
    for person in people:
        if not person.in_hs:
            continue
        created = person.created + int(rand() * min(2 * DAY, max(0, clock - 120 - person.created)))
        instances.append((created, person.index, 0, person))
        if person.hs_dup:
            copied = created + int(rand() * min(200 * DAY, max(0, clock - 60 - created)))
            instances.append((copied, person.index, 1, person))
    instances.sort(key=itemgetter(0))
    append = ctx.table("hubspot", "contacts").append
    associate = ctx.table("hubspot", "associations").append
    sf_contacts = [person for person in people if person.contact_ids]
    stages = vocab.LIFECYCLE_STAGES
    for created, _, copy, person in instances:
        record_id = str(take())
        person.hs_ids += (record_id,)
        created_ms = created * 1000 + int(rand() * 1000)
        modified_ms = created_ms + int((clock_ms - 1000 - created_ms) * rand())
        synced_contact = synced_lead = None
        if copy == 0:
            stage = person.hs_stage
            email = person.hs_email
            if person.contact_ids and rand() < 0.4:
                synced_contact = person.contact_ids[0]
                if rand() < 0.005 and len(sf_contacts) > 1:
                    other = pick(rng, sf_contacts)
                    if other is not person:
                        synced_contact = other.contact_ids[0]
                        ctx.note("wrong_synced_id", "hubspot_contact", record_id,
                                 f"salesforcecontactid {synced_contact} belongs to {other.entity_id}, e-mail says "
                                 f"{person.entity_id}")
            if person.lead_ids and rand() < 0.4:
                synced_lead = person.lead_ids[0]
            if person.hs_stage != person.stage and person.sf_kind is not None:
                ctx.note("lifecycle_conflict", "hubspot_contact", record_id,
                         f"lifecyclestage {stages[person.hs_stage]}, true stage {stages[person.stage]}")
        else:
            stage = SUBSCRIBER if rand() < 0.5 else LEAD_STAGE
            email = gmail_variant(rng, person.hs_email)
        company_id = None
        company_ids = person.company.hs_ids
        if company_ids:
            company_id = company_ids[1] if len(company_ids) > 1 and rand() < 0.2 else company_ids[0]
            associate({"from_type": "contacts", "from_id": record_id, "to_type": "companies", "to_id": company_id,
                       "type": "contact_to_company"})
        append(contact_record(rng, person, record_id, created_ms, modified_ms, stage, email, company_id,
                              synced_contact, synced_lead))


def contact_record(rng: random.Random, person: Person, record_id: str, created_ms: int, modified_ms: int,
                   stage: int, email: str, company_id: str | None, synced_contact: str | None = None,
                   synced_lead: str | None = None) -> dict:
    """One HubSpot contact of a person, now at lifecycle ``stage`` (an index of the funnel)."""
    rand = rng.random
    company = person.company
    since = company.customer_since
    created_text = hs_datetime(created_ms)
    modified_text = hs_datetime(modified_ms) if modified_ms != created_ms else created_text
    dates = stage_dates(rng, stage, created_ms, modified_ms, since * 1000 if since is not None else None,
                        created_text)
    channel = _CHANNEL_NAMES[person.channel]
    choices = _SOURCE_DATA[channel]
    source_data_1 = choices[int(rand() * len(choices))]
    utm = person.utm
    utm_campaign = utm_source = utm_medium = first_url = None
    if utm is not None:
        utm_campaign = utm.key
        utm_source, utm_medium = utm_source_medium(person)
        if utm_source == "facebook":
            source_data_1 = "Facebook"
        elif utm_source == "linkedin" and channel == "PAID_SOCIAL":
            source_data_1 = "LinkedIn"
        elif channel in ("EMAIL_MARKETING", "OTHER_CAMPAIGNS"):
            source_data_1 = utm_campaign
        first_url = (f"https://www.commonground-demo.com/{utm.kind}/{utm.topic or 'brand'}"
                     f"?utm_source={utm_source}&utm_medium={utm_medium}&utm_campaign={utm_campaign}")
    elif channel in ("ORGANIC_SEARCH", "DIRECT_TRAFFIC", "REFERRALS"):
        first_url = "https://www.commonground-demo.com/" + _FIRST_URL_PAGES[int(rand() * 4)]
    first, last = person.first, person.last
    if rand() < 0.05:
        first, last = fold_accents(first).lower(), fold_accents(last).lower()
    roll = rand()
    if roll < 0.35:
        company_text = company.name
    elif roll < 0.7:
        company_text = company_name_variant(rng, company.base, company.suffix)
    else:
        company_text = None
    roll = rand()
    if roll < 0.5:
        options = vocab.COUNTRY_SPELLINGS[company.country]
        country = options[int(roll * 2 * len(options))]
    else:
        country = None
    owner = company.owner
    owner_id = owner.hs_id if owner is not None and rand() >= 0.15 else None
    lead_status = vocab.HS_LEAD_STATUSES[int(rand() * 8)] if LEAD_STAGE <= stage <= SQL and rand() < 0.7 else None
    return {
        "id": record_id,
        "properties": {
            "email": email, "firstname": first, "lastname": last, "jobtitle": person.title,
            "company": company_text, "country": country, "lifecyclestage": vocab.LIFECYCLE_STAGES[stage],
            "hs_lead_status": lead_status, "hubspot_owner_id": owner_id, "hs_analytics_source": channel,
            "hs_analytics_source_data_1": source_data_1,
            "hs_analytics_source_data_2": utm_campaign if channel in ("PAID_SEARCH", "PAID_SOCIAL") else None,
            "hs_analytics_first_url": first_url, "utm_source": utm_source, "utm_medium": utm_medium,
            "utm_campaign": utm_campaign,
            "hs_lifecyclestage_subscriber_date": dates[0], "hs_lifecyclestage_lead_date": dates[1],
            "hs_lifecyclestage_marketingqualifiedlead_date": dates[2],
            "hs_lifecyclestage_salesqualifiedlead_date": dates[3],
            "hs_lifecyclestage_opportunity_date": dates[4], "hs_lifecyclestage_customer_date": dates[5],
            "hs_lifecyclestage_evangelist_date": dates[6], "hs_lifecyclestage_other_date": dates[7],
            "createdate": created_text, "lastmodifieddate": modified_text, "hs_object_id": record_id,
            "associatedcompanyid": company_id, "salesforcecontactid": synced_contact,
            "salesforceleadid": synced_lead, "hs_merged_object_ids": None,
        },
        "createdAt": created_text, "updatedAt": modified_text, "archived": False,
    }


def deal_properties(deal: Opp, record_id: str, name: str, owner_id: str | None, source: str | None,
                    created_ms: int, modified_ms: int) -> dict:
    """The ``properties`` of a deal from its stage history, with the moment it last entered each of its stages."""
    stages, won, lost = HS_PIPELINES[deal.pipeline]
    stage, _, amount, close_day = deal.history[-1]
    stage_id, _, probability, is_closed = stages[stage]
    entered = dict(_NO_STAGE_ENTERED)
    for index, (entered_stage, moment, _, _) in enumerate(deal.history):
        if index == 0 or entered_stage != deal.history[index - 1][0]:
            entered[date_entered_property(stages[entered_stage][0])] = hs_datetime(max(created_ms, moment * 1000))
    return {
        "dealname": name, "amount": hs_number(amount), "dealstage": stage_id, "pipeline": deal.pipeline,
        "closedate": hs_datetime(close_day * DAY * 1000 + 43_200_000) if close_day is not None else None,
        "hubspot_owner_id": owner_id, "deal_currency_code": deal.currency, "createdate": hs_datetime(created_ms),
        "hs_lastmodifieddate": hs_datetime(modified_ms), "hs_is_closed_won": "true" if stage == won else "false",
        "hs_is_closed": is_closed, "hs_deal_stage_probability": probability, "dealtype": deal.type,
        "hs_analytics_source": source, "hs_object_id": record_id, "hs_merged_object_ids": None, **entered,
    }


def date_entered_property(stage_id: str) -> str:
    """The calculated deal property HubSpot stamps when a deal enters the stage ``stage_id`` (its latest entry)."""
    return f"hs_v2_date_entered_{stage_id}"


#: Every deal carries the date-entered property of every stage of every pipeline, unset where it never entered.
_NO_STAGE_ENTERED = {date_entered_property(stage[0]): None
                     for stages, _, _ in HS_PIPELINES.values() for stage in stages}


def render_deals(ctx: Context, deals: list[Opp]) -> None:
    """``deals`` records with their ``deal_to_company`` and ``deal_to_contact`` associations."""
    rng = ctx.rng("hs:deals")
    ids = ctx.sequence("hs:deals", 1201, 5)
    clock_ms = ctx.clock * 1000
    table = ctx.table("hubspot", "deals")
    associations = ctx.table("hubspot", "associations")
    for deal in deals:
        record_id = str(ids.take())
        company = deal.company
        created_ms = hs_ms(rng, deal.created)
        last_change = deal.history[-1][1] * 1000
        modified_ms = max(created_ms, last_change + int((clock_ms - 1000 - last_change) * rng.random() ** 3))
        name = f"{company.base} - {pick(rng, vocab.PRODUCTS)}"
        if deal.pipeline != "default":
            name += " (partner)"
        source = vocab.CHANNELS[below(rng, len(vocab.CHANNELS))][0] if rng.random() < 0.7 else None
        properties = deal_properties(deal, record_id, name, _owner_id(rng, deal.owner, 0.1), source, created_ms,
                                     modified_ms)
        table.append({"id": record_id, "properties": properties, "createdAt": properties["createdate"],
                      "updatedAt": properties["hs_lastmodifieddate"], "archived": False})
        associations.append({"from_type": "deals", "from_id": record_id, "to_type": "companies",
                             "to_id": company.hs_ids[0], "type": "deal_to_company"})
        contacts = [person for person in company.people if person.hs_ids and person.created < deal.created]
        if contacts and rng.random() < 0.75:
            associations.append({"from_type": "deals", "from_id": record_id, "to_type": "contacts",
                                 "to_id": pick(rng, contacts).hs_ids[0], "type": "deal_to_contact"})
