"""Salesforce records (REST query wire format) rendered from the real world.

Every record carries every field of its object (``None`` when empty) and ``IsDeleted``
(except ``User``); datetimes are ``...000+0000`` strings, dates ``YYYY-MM-DD``, currency and
percent fields JSON numbers. ``attributes`` is left to the emulator, whose URL carries the
API version of the request.
"""

from __future__ import annotations

import random
from bisect import bisect_left, bisect_right
from operator import itemgetter

from . import vocab
from .campaigns import UtmCampaign
from .context import Context
from .fastrand import below, between, pick
from .pipeline import Opp
from .timefmt import DAY, day_string, sf_date, sf_datetime
from .variants import company_name_variant, website_variant
from .world import CONTACT, CONVERTED, CUSTOMER, EVANGELIST, LEAD, MQL, Company, Person, User

_COUNTRY_NAMES = {code: values[0] for code, values in vocab.COUNTRIES.items()}
_CURRENCIES = {code: values[1] for code, values in vocab.COUNTRIES.items()}
_MEMBER_STATUSES = {
    "Webinar": (("Registered", False), ("Attended", True), ("No Show", False)),
    "Trade Show": (("Visited Booth", True), ("Invited", False)),
    "Email": (("Sent", False), ("Opened", False), ("Clicked", True)),
}
_DEFAULT_MEMBER_STATUSES = (("Sent", False), ("Responded", True))


def member_statuses(kind: str) -> tuple[tuple[str, bool], ...]:
    """The (Status, HasResponded) pairs a campaign member of a kind of campaign can have."""
    return _MEMBER_STATUSES.get(vocab.SF_CAMPAIGN_TYPES.get(kind), _DEFAULT_MEMBER_STATUSES)


def stamps(rng: random.Random, created: int, clock: int) -> tuple[int, int]:
    """(LastModifiedDate, SystemModstamp) of a record created at ``created``."""
    roll = rng.random()
    modified = created if roll < 0.3 else created + int((clock - created) * rng.random())
    system = modified
    if roll > 0.9:
        system = min(clock - 1, modified + 60 + int(rng.random() * 5 * DAY))
    return modified, system


def stamp_texts(created: int, modified: int, system: int) -> tuple[str, str, str]:
    """``CreatedDate``, ``LastModifiedDate`` and ``SystemModstamp`` strings, sharing equal ones."""
    created_text = sf_datetime(created)
    modified_text = created_text if modified == created else sf_datetime(modified)
    return created_text, modified_text, modified_text if system == modified else sf_datetime(system)


def sf_user(user: User | None, fallback: list[User], rng: random.Random) -> User:
    """``user`` when it has a Salesforce login, otherwise a random Salesforce user."""
    if user is not None and user.sf_id is not None:
        return user
    return pick(rng, fallback)


def render_users(ctx: Context, users: list[User]) -> list[User]:
    """``User`` records; returns the users that have a Salesforce login."""
    rng = ctx.rng("sf:users")
    ids = ctx.sf_ids("User")
    profiles = [ctx.sf_ids("Profile").take() for _ in range(4)]
    roles = [ctx.sf_ids("UserRole").take() for _ in range(6)]
    table = ctx.table("salesforce", "User")
    sf_users = sorted((user for user in users if user.in_sf), key=lambda user: user.created)
    for user in sf_users:
        user.sf_id = ids.take()
    for user in sf_users:
        modified, system = stamps(rng, user.created, ctx.clock)
        manager = sf_users[below(rng, min(5, len(sf_users)))] if rng.random() < 0.7 else None
        if user.active:
            last_login = ctx.clock - between(rng, 600, 20 * DAY)
        else:
            last_login = user.created + between(rng, DAY, 90 * DAY)
        table.append({
            "Id": user.sf_id, "Username": f"{user.email}.cg", "Name": f"{user.first} {user.last}",
            "FirstName": user.first, "LastName": user.last, "Email": user.email, "IsActive": user.active,
            "UserType": "Standard", "ProfileId": pick(rng, profiles), "UserRoleId": pick(rng, roles),
            "ManagerId": manager.sf_id if manager is not None and manager is not user else None,
            "LastLoginDate": sf_datetime(min(last_login, ctx.clock - 60)), "CreatedDate": sf_datetime(user.created),
            "LastModifiedDate": sf_datetime(modified), "SystemModstamp": sf_datetime(system),
        })
    return sf_users


def render_campaigns(ctx: Context, campaigns: list[UtmCampaign], sf_users: list[User]) -> None:
    """``Campaign`` records for the campaigns Salesforce carries (rollup counts filled in later)."""
    rng = ctx.rng("sf:campaigns")
    ids = ctx.sf_ids("Campaign")
    table = ctx.table("salesforce", "Campaign")
    clock_day = ctx.clock_day
    for campaign in campaigns:
        if not campaign.in_sf:
            continue
        campaign.sf_id = ids.take()
        created = campaign.start - between(rng, 7, 40) * DAY
        end_day = campaign.end // DAY if campaign.end is not None else None
        start_day = campaign.start // DAY
        if start_day > clock_day:
            status = "Planned"
        elif end_day is None or end_day >= clock_day:
            status = "In Progress"
        else:
            status = "Aborted" if rng.random() < 0.03 else "Completed"
        budget = campaign.budget
        if status == "Planned":
            actual = None
        elif status == "In Progress":
            actual = float(round(budget * rng.uniform(0.1, 0.7), 2))
        else:
            actual = float(round(budget * rng.uniform(0.6, 1.2), 2))
        if campaign.key is None:
            name = campaign.topic
        else:
            style = rng.random()
            if style < 0.5:
                name = f"{campaign.key} | {campaign.title}"
            elif style < 0.8:
                name = f"{campaign.title} ({campaign.key})"
            else:
                name = f"[{campaign.region.strip('_').upper() or 'GLOBAL'}] {campaign.key}"
        owner = pick(rng, sf_users)
        modified = max(created, min(ctx.clock - 60, campaign.start + between(rng, 0, 60) * DAY))
        table.append({
            "Id": campaign.sf_id, "IsDeleted": False, "Name": name, "ParentId": None,
            "Type": vocab.SF_CAMPAIGN_TYPES.get(campaign.kind, "Other"), "Status": status,
            "StartDate": sf_date(campaign.start),
            "EndDate": sf_date(campaign.end) if campaign.end is not None else None,
            "BudgetedCost": budget, "ActualCost": actual,
            "ExpectedRevenue": float(round(budget * rng.uniform(2, 8), -2)),
            "ExpectedResponse": float(round(rng.uniform(0.5, 8), 1)),
            "IsActive": status in ("Planned", "In Progress"),
            "NumberOfLeads": 0, "NumberOfConvertedLeads": 0, "NumberOfContacts": 0, "NumberOfResponses": 0,
            "NumberOfOpportunities": 0, "NumberOfWonOpportunities": 0, "AmountAllOpportunities": 0.0,
            "AmountWonOpportunities": 0.0,
            "CurrencyIsoCode": "EUR" if campaign.region in ("_emea", "_dach", "_fr") else "USD",
            "OwnerId": owner.sf_id, "CreatedDate": sf_datetime(created), "CreatedById": owner.sf_id,
            "LastModifiedDate": sf_datetime(modified), "LastModifiedById": owner.sf_id,
            "SystemModstamp": sf_datetime(modified),
        })


def render_accounts(ctx: Context, companies: list[Company], sf_users: list[User]) -> None:
    """``Account`` records: one per Salesforce company plus its in-system duplicates."""
    rng = ctx.rng("sf:accounts")
    ids = ctx.sf_ids("Account")
    clock = ctx.clock
    instances = []
    for company in companies:
        if not company.in_sf:
            continue
        instances.append((company.created, company.index, 0, company))
        for copy in range(1, company.sf_dups + 1):
            created = company.created + int(rng.random() * min(400 * DAY, max(0, clock - DAY - company.created)))
            instances.append((created, company.index, copy, company))
    instances.sort(key=itemgetter(0))
    assigned = []
    for created, _, copy, company in instances:
        record_id = ids.take()
        company.sf_ids.append(record_id)
        company.sf_created.append(created)
        assigned.append((record_id, created, copy, company))
    append = ctx.table("salesforce", "Account").append
    for record_id, created, copy, company in assigned:
        owner_id = sf_user(company.owner, sf_users, rng).sf_id
        parent = company.parent
        parent_id = parent.sf_ids[0] if copy == 0 and parent is not None and parent.sf_ids else None
        times = stamp_texts(created, *stamps(rng, created, clock))
        append(account_record(rng, company, record_id, copy, owner_id, times, parent_id))


def account_record(rng: random.Random, company: Company, record_id: str, copy: int, owner_id: str,
                   times: tuple[str, str, str], parent_id: str | None = None) -> dict:
    """One ``Account`` of a company: the main one (``copy`` 0) or a sparser in-system duplicate."""
    rand = rng.random
    if copy == 0:
        name = company.name if rand() < 0.85 else company_name_variant(rng, company.base, company.suffix)
        website = website_variant(rng, company.domain)
        industry = vocab.INDUSTRIES[company.industry][0] if rand() < 0.9 else None
        revenue = company.revenue
        employees = company.employees if rand() < 0.9 else None
        if company.customer_since is not None:
            account_type = "Customer - Channel" if rand() < 0.15 else "Customer - Direct"
        else:
            roll = rand()
            account_type = "Prospect" if roll < 0.75 else "Partner" if roll < 0.8 else "Other" if roll < 0.85 else None
    else:
        name = company_name_variant(rng, company.base, company.suffix)
        website = website_variant(rng, company.domain) if rand() < 0.6 else None
        industry = vocab.INDUSTRIES[company.industry][0] if rand() < 0.4 else None
        revenue = None
        employees = company.employees if rand() < 0.3 else None
        account_type = "Prospect" if rand() < 0.5 else None
    country = company.country
    created_text, modified_text, system_text = times
    return {
        "Id": record_id, "IsDeleted": False, "MasterRecordId": None, "Name": name, "Type": account_type,
        "ParentId": parent_id, "BillingStreet": f"{between(rng, 1, 240)} {pick(rng, vocab.NAME_HEADS)} Street",
        "BillingCity": company.city, "BillingState": None, "BillingPostalCode": str(between(rng, 10000, 99999)),
        "BillingCountry": _COUNTRY_NAMES[country], "Website": website, "Industry": industry,
        "AnnualRevenue": revenue, "NumberOfEmployees": employees, "CurrencyIsoCode": _CURRENCIES[country],
        "OwnerId": owner_id, "CreatedDate": created_text, "CreatedById": owner_id,
        "LastModifiedDate": modified_text, "LastModifiedById": owner_id, "SystemModstamp": system_text,
    }


def opportunity_record(opp: Opp, record_id: str, account_id: str, name: str, owner_id: str, campaign_id: str | None,
                       modified: int, system: int) -> dict:
    """One ``Opportunity`` record from its current stage history."""
    stage, _, amount, close_day = opp.history[-1]
    stage_name, probability, forecast, is_closed, is_won = vocab.SF_STAGES[stage]
    modified_text = sf_datetime(modified)
    return {
        "Id": record_id, "IsDeleted": False, "AccountId": account_id, "Name": name, "StageName": stage_name,
        "Amount": amount, "Probability": probability,
        "ExpectedRevenue": round(amount * probability / 100, 2) if amount is not None else None,
        "CloseDate": day_string(close_day), "IsClosed": is_closed, "IsWon": is_won,
        "ForecastCategoryName": forecast, "Type": opp.type, "LeadSource": opp.lead_source,
        "CampaignId": campaign_id, "OwnerId": owner_id, "CurrencyIsoCode": opp.currency,
        "CreatedDate": sf_datetime(opp.created), "CreatedById": owner_id, "LastModifiedDate": modified_text,
        "LastModifiedById": owner_id, "SystemModstamp": modified_text if system == modified else sf_datetime(system),
    }


def history_record(record_id: str, opp_id: str, entry: tuple, previous: tuple | None, user_id: str) -> dict:
    """One ``OpportunityHistory`` row for a stage (or amount / close date) change."""
    stage, moment, amount, close_day = entry
    stage_name, probability, forecast, _, _ = vocab.SF_STAGES[stage]
    stamp = sf_datetime(moment)
    return {
        "Id": record_id, "IsDeleted": False, "OpportunityId": opp_id, "StageName": stage_name, "Amount": amount,
        "ExpectedRevenue": round(amount * probability / 100, 2) if amount is not None else None,
        "CloseDate": day_string(close_day), "Probability": probability, "ForecastCategory": forecast,
        "PrevAmount": previous[2] if previous is not None else None,
        "PrevCloseDate": day_string(previous[3]) if previous is not None else None,
        "CreatedById": user_id, "CreatedDate": stamp, "SystemModstamp": stamp,
    }


def render_opportunities(ctx: Context, opps: list[Opp], sf_users: list[User]) -> None:
    """``Opportunity`` records and one ``OpportunityHistory`` row per stage entered (ids in time order)."""
    rng = ctx.rng("sf:opportunities")
    rand = rng.random
    take = ctx.sf_ids("Opportunity").take
    append = ctx.table("salesforce", "Opportunity").append
    history_rows = []
    add_history = history_rows.append
    clock = ctx.clock
    channels = vocab.CHANNELS
    products = vocab.PRODUCTS
    for opp in opps:
        opp.sf_id = record_id = take()
        company = opp.company
        account_id = company.sf_ids[0]
        if opp.on_duplicate and len(company.sf_ids) > 1 and company.sf_created[1] <= opp.created:
            account_id = company.sf_ids[1]
        owner_id = sf_user(opp.owner, sf_users, rng).sf_id
        if opp.lead_source is None and rand() < 0.8:
            opp.lead_source = channels[int(rand() * len(channels))][1]
        last_change = opp.history[-1][1]
        modified = last_change if rand() < 0.6 else last_change + int((clock - last_change) * rand())
        system = modified if rand() < 0.92 else min(clock - 1, modified + between(rng, 60, 3 * DAY))
        name = f"{company.base} - {products[int(rand() * len(products))]} {day_string(opp.created // DAY)[:4]}"
        campaign_id = opp.campaign.sf_id if opp.campaign is not None else None
        append(opportunity_record(opp, record_id, account_id, name, owner_id, campaign_id, modified, system))
        previous = None
        for entry in opp.history:
            add_history((entry[1], record_id, entry, previous, owner_id))
            previous = entry
    history_rows.sort(key=itemgetter(0))
    take_history = ctx.sf_ids("OpportunityHistory").take
    append = ctx.table("salesforce", "OpportunityHistory").append
    for _, opp_id, entry, previous, user_id in history_rows:
        append(history_record(take_history(), opp_id, entry, previous, user_id))


def _lead_source(rng: random.Random, person: Person) -> str | None:
    if rng.random() < 0.1:
        return pick(rng, vocab.SF_LEAD_SOURCES_EXTRA)
    return vocab.CHANNELS[person.channel][1]


def render_contacts(ctx: Context, people: list[Person], sf_users: list[User]) -> dict[str, str]:
    """``Contact`` records for people on a Salesforce account (converted leads and direct contacts).

    Returns the account id of every contact.
    """
    rng = ctx.rng("sf:contacts")
    rand = rng.random
    take = ctx.sf_ids("Contact").take
    clock = ctx.clock
    instances = []
    for person in people:
        if person.sf_kind == CONVERTED:
            instances.append((person.converted_at, person.index, 0, person))
        elif person.sf_kind == CONTACT:
            instances.append((person.created, person.index, 0, person))
        else:
            continue
        if person.sf_dup:
            first = instances[-1][0]
            created = first + int(rand() * min(300 * DAY, max(0, clock - 60 - first)))
            instances.append((created, person.index, 1, person))
    instances.sort(key=itemgetter(0))
    append = ctx.table("salesforce", "Contact").append
    accounts = {}
    for created, _, copy, person in instances:
        record_id = take()
        person.contact_ids += (record_id,)
        company = person.company
        account_ids = company.sf_ids
        account_id = account_ids[0]
        if len(account_ids) > 1 and (copy or rand() < 0.1) and company.sf_created[1] <= created:
            account_id = account_ids[1]
        accounts[record_id] = account_id
        owner_id = sf_user(company.owner if rand() < 0.85 else None, sf_users, rng).sf_id
        append(contact_record(rng, person, record_id, account_id, owner_id,
                              stamp_texts(created, *stamps(rng, created, clock)), copy))
    return accounts


def contact_record(rng: random.Random, person: Person, record_id: str, account_id: str, owner_id: str,
                   times: tuple[str, str, str], copy: int = 0) -> dict:
    """One ``Contact`` of a person on an account (``copy`` 1: an in-system duplicate)."""
    rand = rng.random
    company = person.company
    country = company.country
    email = person.sf_email
    if copy and email is not None and rand() < 0.5:
        email = email.lower()
    created_text, modified_text, system_text = times
    return {
        "Id": record_id, "IsDeleted": False, "MasterRecordId": None, "AccountId": account_id,
        "FirstName": person.first, "LastName": person.last, "Name": person.name, "Title": person.title,
        "Email": email, "Phone": person.phone if rand() < 0.6 else None,
        "LeadSource": _lead_source(rng, person), "MailingCity": company.city if rand() < 0.7 else None,
        "MailingCountry": _COUNTRY_NAMES[country] if rand() < 0.8 else None, "OwnerId": owner_id,
        "CurrencyIsoCode": _CURRENCIES[country], "HasOptedOutOfEmail": rand() < 0.04,
        "CreatedDate": created_text, "CreatedById": owner_id, "LastModifiedDate": modified_text,
        "LastModifiedById": owner_id, "SystemModstamp": system_text,
    }


def lead_status(rng: random.Random, person: Person, clock: int) -> str:
    """The ``Lead.Status`` of an unconverted lead."""
    if person.stage >= MQL and person.stage not in (CUSTOMER, EVANGELIST):
        return vocab.LEAD_STATUS_WORKING if rng.random() < 0.8 else vocab.LEAD_STATUS_OPEN
    if clock - person.created > 150 * DAY and rng.random() < 0.45:
        return vocab.LEAD_STATUS_LOST
    return vocab.LEAD_STATUS_OPEN if rng.random() < 0.7 else vocab.LEAD_STATUS_WORKING


def render_leads(ctx: Context, people: list[Person], sf_users: list[User], queues: list[str],
                 contact_accounts: dict[str, str]) -> None:
    """``Lead`` records: open, lost and converted leads, plus duplicate leads."""
    rng = ctx.rng("sf:leads")
    rand = rng.random
    take = ctx.sf_ids("Lead").take
    clock = ctx.clock
    instances = []
    for person in people:
        if person.sf_kind not in (LEAD, CONVERTED):
            continue
        instances.append((person.created, person.index, 0, person))
        if person.sf_dup and person.sf_kind == LEAD:
            created = person.created + int(rand() * min(200 * DAY, max(0, clock - 60 - person.created)))
            instances.append((created, person.index, 1, person))
    instances.sort(key=itemgetter(0))
    append = ctx.table("salesforce", "Lead").append
    for created, _, copy, person in instances:
        record_id = take()
        person.lead_ids += (record_id,)
        company = person.company
        converted = person.sf_kind == CONVERTED
        if converted:
            status = vocab.LEAD_STATUS_CONVERTED
            user_id = owner_id = sf_user(company.owner, sf_users, rng).sf_id
            modified = system = person.converted_at
            contact_id = person.contact_ids[0]
            account_id = contact_accounts[contact_id]
            opp_id = person.opp.sf_id if person.opp is not None else None
            converted_date = sf_date(person.converted_at)
        else:
            status = lead_status(rng, person, clock)
            user_id = owner_id = sf_user(company.owner if rand() < 0.7 else None, sf_users, rng).sf_id
            if status == vocab.LEAD_STATUS_OPEN and rand() < 0.3:
                owner_id = queues[int(rand() * len(queues))]
            modified, system = stamps(rng, created, clock)
        record = lead_record(rng, person, record_id, owner_id, user_id, status,
                             stamp_texts(created, modified, system), copy)
        if converted:
            record.update(IsConverted=True, ConvertedDate=converted_date, ConvertedAccountId=account_id,
                          ConvertedContactId=contact_id, ConvertedOpportunityId=opp_id)
        append(record)


def lead_record(rng: random.Random, person: Person, record_id: str, owner_id: str, user_id: str, status: str,
                times: tuple[str, str, str], copy: int = 0) -> dict:
    """One unconverted ``Lead`` of a person (``owner_id`` may be a queue; ``user_id`` is who wrote it)."""
    rand = rng.random
    company = person.company
    country = company.country
    roll = rand()
    if person.free_mail and roll < 0.3:
        company_text = "[not provided]"
    elif roll < 0.65:
        company_text = company.name
    else:
        company_text = company_name_variant(rng, company.base, company.suffix)
    email = person.sf_email
    if copy and email is not None and rand() < 0.4:
        email = email.upper()
    created_text, modified_text, system_text = times
    return {
        "Id": record_id, "IsDeleted": False, "MasterRecordId": None, "FirstName": person.first,
        "LastName": person.last, "Name": person.name, "Title": person.title, "Company": company_text,
        "Email": email, "Phone": person.phone if rand() < 0.5 else None, "Status": status,
        "LeadSource": _lead_source(rng, person),
        "Industry": vocab.INDUSTRIES[company.industry][0] if rand() < 0.3 else None,
        "Country": _COUNTRY_NAMES[country] if rand() < 0.7 else country,
        "NumberOfEmployees": company.employees if rand() < 0.2 else None,
        "IsConverted": False, "ConvertedDate": None, "ConvertedAccountId": None, "ConvertedContactId": None,
        "ConvertedOpportunityId": None, "OwnerId": owner_id, "CurrencyIsoCode": _CURRENCIES[country],
        "CreatedDate": created_text, "CreatedById": user_id, "LastModifiedDate": modified_text,
        "LastModifiedById": user_id, "SystemModstamp": system_text,
    }


def campaign_index(campaigns: list[UtmCampaign]) -> tuple[list[int], list[UtmCampaign]]:
    """(start moments, campaigns) of the Salesforce campaigns, sorted by start, for bisecting."""
    sf_campaigns = sorted((c for c in campaigns if c.sf_id is not None), key=lambda c: c.start)
    return [c.start for c in sf_campaigns], sf_campaigns


def render_campaign_members(ctx: Context, people: list[Person], campaigns: list[UtmCampaign]) -> None:
    """``CampaignMember`` rows: about a third of the Salesforce people joined one or two campaigns."""
    rng = ctx.rng("sf:members")
    ids = ctx.sf_ids("CampaignMember")
    clock = ctx.clock
    starts, sf_campaigns = campaign_index(campaigns)
    rows = []
    for person in people:
        if person.sf_kind is None or rng.random() > 0.35:
            continue
        chosen = []
        if person.utm is not None and person.utm.sf_id is not None:
            chosen.append(person.utm)
        for _ in range(1 if rng.random() < 0.8 else 2):
            low = bisect_left(starts, person.created - 90 * DAY)
            high = bisect_right(starts, clock)
            if high > low:
                campaign = sf_campaigns[below(rng, low, high)]
                if campaign not in chosen:
                    chosen.append(campaign)
        for campaign in chosen:
            begin = max(person.created, campaign.start)
            finish = min(clock - 60, campaign.end if campaign.end is not None else clock)
            if finish <= begin:
                continue
            created = begin + int((finish - begin) * rng.random() ** 2)
            if person.sf_kind == CONTACT or (person.sf_kind == CONVERTED and created >= person.converted_at):
                lead_id, contact_id = None, person.contact_ids[0]
            else:
                lead_id, contact_id = person.lead_ids[0], None
            rows.append((created, campaign, lead_id, contact_id))
    rows.sort(key=itemgetter(0))
    table = ctx.table("salesforce", "CampaignMember")
    for created, campaign, lead_id, contact_id in rows:
        status, responded = pick(rng, member_statuses(campaign.kind))
        created_text, modified_text, system_text = stamp_texts(created, *stamps(rng, created, clock))
        campaign.members += 1
        table.append({
            "Id": ids.take(), "IsDeleted": False, "CampaignId": campaign.sf_id, "LeadId": lead_id,
            "ContactId": contact_id, "Status": status, "HasResponded": responded,
            "FirstRespondedDate": sf_date(created) if responded else None, "CreatedDate": created_text,
            "LastModifiedDate": modified_text, "SystemModstamp": system_text,
        })


def refresh_campaign_rollups(ctx: Context, moment: int | None = None) -> int:
    """Recompute the ``Campaign`` rollup counts from members and opportunities.

    With ``moment`` (an advance), campaigns whose counts changed get that ``SystemModstamp``
    (a system update: ``LastModifiedDate`` stays). Returns how many campaigns changed.
    """
    counts: dict[str, list] = {}
    leads = {row["Id"]: row for row in ctx.table("salesforce", "Lead")}
    for member in ctx.table("salesforce", "CampaignMember"):
        if member["IsDeleted"]:
            continue
        entry = counts.setdefault(member["CampaignId"], [0, 0, 0, 0, 0, 0, 0.0, 0.0])
        if member["LeadId"] is not None:
            entry[0] += 1
            lead = leads.get(member["LeadId"])
            if lead is not None and lead["IsConverted"]:
                entry[1] += 1
        else:
            entry[2] += 1
        if member["HasResponded"]:
            entry[3] += 1
    for opp in ctx.table("salesforce", "Opportunity"):
        campaign_id = opp["CampaignId"]
        if campaign_id is None or opp["IsDeleted"]:
            continue
        entry = counts.setdefault(campaign_id, [0, 0, 0, 0, 0, 0, 0.0, 0.0])
        entry[4] += 1
        entry[6] += opp["Amount"] or 0.0
        if opp["IsWon"]:
            entry[5] += 1
            entry[7] += opp["Amount"] or 0.0
    changed = 0
    fields = ("NumberOfLeads", "NumberOfConvertedLeads", "NumberOfContacts", "NumberOfResponses",
              "NumberOfOpportunities", "NumberOfWonOpportunities", "AmountAllOpportunities", "AmountWonOpportunities")
    for campaign in ctx.table("salesforce", "Campaign"):
        values = counts.get(campaign["Id"], [0, 0, 0, 0, 0, 0, 0.0, 0.0])
        values[6], values[7] = round(values[6], 2), round(values[7], 2)
        if any(campaign[name] != value for name, value in zip(fields, values, strict=True)):
            campaign.update(zip(fields, values, strict=True))
            if moment is not None:
                campaign["SystemModstamp"] = sf_datetime(moment)
                changed += 1
    return changed
