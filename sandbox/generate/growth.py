"""Time travel: the new records of a day (companies, people, opportunities, deals, campaign members)."""

from __future__ import annotations

from . import hubspot, salesforce, vocab
from .campaigns import campaign_for_channel
from .day import Day, add_truth, pick_live, random_user
from .pipeline import Opp, deal_amount
from .timefmt import DAY, day_string, sf_datetime
from .world import LEAD, LEAD_STAGE, MQL, SUBSCRIBER, Company, make_company, make_person, place_person, spell_emails


def new_account(day: Day, company: Company, moment: int) -> str:
    """Create a Salesforce ``Account`` for a company (new company, or a conversion that needs one)."""
    state = day.state
    record_id = day.sf_id("Account")
    owner = company.owner if company.owner is not None and company.owner.sf_id else random_user(day)
    times = salesforce.stamp_texts(moment, moment, moment)
    row = salesforce.account_record(day.rng, company, record_id, 0, owner.sf_id, times)
    state.dataset.table("salesforce", "Account").append(row)
    state.sf["Account"][record_id] = row
    company.sf_ids.append(record_id)
    add_truth(state, "companies", company.entity_id, "salesforce", record_id)
    day.tally("created", "salesforce.Account")
    return record_id


def new_companies(day: Day, count: int) -> list[Company]:
    """New real companies, recorded in Salesforce and/or HubSpot."""
    state = day.state
    owners = [user for user in state.users if user.active] or state.users
    companies = []
    for moment in day.moments(count):
        index = state.next_company
        state.next_company += 1
        company = make_company(day.rng, index, moment, owners, state.domains)
        company.sf_dups = company.hs_dups = 0
        if company.in_sf:
            new_account(day, company, moment)
        if company.in_hs:
            record_id = day.hs_id("companies")
            synced = company.sf_ids[0] if company.sf_ids and day.rng.random() < 0.4 else None
            millis = moment * 1000 + 250
            row = hubspot.company_record(day.rng, company, record_id, millis, millis, 0, synced, "lead")
            state.dataset.table("hubspot", "companies").append(row)
            state.hs["companies"][record_id] = row
            company.hs_ids.append(record_id)
            add_truth(state, "companies", company.entity_id, "hubspot", record_id)
            day.tally("created", "hubspot.companies")
        state.company_entities.append(company.entity_id)
        state._companies[company.entity_id] = company
        companies.append(company)
    return companies


def new_people(day: Day, count: int, fresh_companies: list[Company]) -> None:
    """New people: a lead and/or HubSpot contact each, at new or existing companies."""
    state = day.state
    rng = day.rng
    today = day.start // DAY
    running = state.campaigns_running(today)
    for moment in day.moments(count):
        company = None
        if fresh_companies and rng.random() < 0.3:
            company = rng.choice(fresh_companies)
        for _ in range(8):
            if (company is not None and company.domain) or not state.company_entities:
                break
            company = state.company(rng.choice(state.company_entities))
        if company is None or not company.domain:
            continue
        index = state.next_person
        state.next_person += 1
        person = make_person(rng, index, company, moment, state.emails)
        person.stage = rng.choice((SUBSCRIBER, LEAD_STAGE, LEAD_STAGE, MQL))
        place_person(rng, person)
        person.sf_dup = person.hs_dup = False
        spell_emails(rng, person)
        person.hs_stage = person.stage
        person.utm = campaign_for_channel(rng, vocab.CHANNELS[person.channel][0], running)
        state.dataset.ground_truth["employment"].append({"person_entity_id": person.entity_id,
                                                         "company_entity_id": company.entity_id})
        state.employer[person.entity_id] = company.entity_id
        user = company.owner if company.owner is not None and company.owner.sf_id else random_user(day)
        times = salesforce.stamp_texts(moment, moment, moment)
        lead_id = None
        if person.sf_kind == LEAD or (person.sf_kind is not None and not company.sf_ids):
            lead_id = day.sf_id("Lead")
            owner_id = rng.choice(state.queues) if state.queues and rng.random() < 0.3 else user.sf_id
            row = salesforce.lead_record(rng, person, lead_id, owner_id, user.sf_id, vocab.LEAD_STATUS_OPEN, times)
            state.dataset.table("salesforce", "Lead").append(row)
            state.sf["Lead"][lead_id] = row
            add_truth(state, "people", person.entity_id, "salesforce_lead", lead_id)
            day.tally("created", "salesforce.Lead")
            day.new_people.append(("Lead", lead_id))
        elif person.sf_kind is not None:
            contact_id = day.sf_id("Contact")
            row = salesforce.contact_record(rng, person, contact_id, company.sf_ids[0], user.sf_id, times)
            state.dataset.table("salesforce", "Contact").append(row)
            state.sf["Contact"][contact_id] = row
            add_truth(state, "people", person.entity_id, "salesforce_contact", contact_id)
            day.tally("created", "salesforce.Contact")
            day.new_people.append(("Contact", contact_id))
        if person.in_hs:
            record_id = day.hs_id("contacts")
            company_id = company.hs_ids[0] if company.hs_ids else None
            millis = moment * 1000 + 500
            synced_lead = lead_id if lead_id is not None and rng.random() < 0.4 else None
            row = hubspot.contact_record(rng, person, record_id, millis, millis, person.hs_stage, person.hs_email,
                                         company_id, None, synced_lead)
            state.dataset.table("hubspot", "contacts").append(row)
            state.hs["contacts"][record_id] = row
            if company_id is not None:
                state.add_association({"from_type": "contacts", "from_id": record_id, "to_type": "companies",
                                       "to_id": company_id, "type": "contact_to_company"})
            add_truth(state, "people", person.entity_id, "hubspot_contact", record_id)
            day.tally("created", "hubspot.contacts")


def new_opportunity(day: Day, account: dict, moment: int, company: Company | None = None,
                    lead_source: str | None = None, stage: int = 0) -> str:
    """Create an ``Opportunity`` (and its first ``OpportunityHistory`` row) on an account."""
    state = day.state
    rng = day.rng
    company = company or state.company(state.company_of_record.get(("salesforce", account["Id"]), ""))
    employees = account.get("NumberOfEmployees") or (company.employees if company else 50)
    amount = deal_amount(rng, employees) if rng.random() > 0.3 else None
    close_day = moment // DAY + rng.randint(20, 150)
    stub = company or Company(0, account.get("Name"), "", None, "US", "", 0, employees, None, moment, None, "sf_only")
    opp = Opp(stub, moment, [(stage, moment, amount, close_day)], None)
    opp.currency = account.get("CurrencyIsoCode")
    customer = (account.get("Type") or "").startswith("Customer")
    opp.type = rng.choice(vocab.SF_OPP_TYPES[1:]) if customer else vocab.SF_OPP_TYPES[0]
    opp.lead_source = lead_source or rng.choice(vocab.CHANNELS)[1]
    running = [campaign for campaign in state.campaigns_running(moment // DAY) if campaign.sf_id]
    campaign_id = rng.choice(running).sf_id if running and rng.random() < 0.25 else None
    owner_id = account.get("OwnerId")
    record_id = day.sf_id("Opportunity")
    name = f"{stub.base} - {rng.choice(vocab.PRODUCTS)} {day_string(moment // DAY)[:4]}"
    row = salesforce.opportunity_record(opp, record_id, account["Id"], name, owner_id, campaign_id, moment, moment)
    state.dataset.table("salesforce", "Opportunity").append(row)
    state.sf["Opportunity"][record_id] = row
    history = salesforce.history_record(day.sf_id("OpportunityHistory"), record_id, opp.history[0], None, owner_id)
    state.dataset.table("salesforce", "OpportunityHistory").append(history)
    day.tally("created", "salesforce.Opportunity")
    day.tally("created", "salesforce.OpportunityHistory")
    day.new_opps.append(record_id)
    return record_id


def new_opportunities(day: Day, count: int) -> None:
    """New opportunities on existing accounts."""
    for moment in day.moments(count):
        account = pick_live(day, "Account")
        if account is not None:
            new_opportunity(day, account, moment)


def new_deals(day: Day, count: int) -> None:
    """New HubSpot deals on existing companies, with their associations."""
    state = day.state
    rng = day.rng
    for moment in day.moments(count):
        row = pick_live(day, "companies")
        if row is None:
            continue
        company = state.company(state.company_of_record.get(("hubspot", row["id"]), ""))
        if company is None:
            continue
        pipeline = "default" if rng.random() < 0.7 else vocab.HS_CUSTOM_PIPELINE[0]
        amount = deal_amount(rng, company.employees) if rng.random() > 0.2 else None
        deal = Opp(company, moment, [(0, moment, amount, moment // DAY + rng.randint(20, 120))], company.owner)
        deal.pipeline = pipeline
        deal.type = "existingbusiness" if company.customer_since is not None else "newbusiness"
        record_id = day.hs_id("deals")
        millis = moment * 1000 + 750
        owner_id = company.owner.hs_id if company.owner is not None else None
        name = f"{company.base} - {rng.choice(vocab.PRODUCTS)}"
        properties = hubspot.deal_properties(deal, record_id, name, owner_id, rng.choice(vocab.CHANNELS)[0], millis,
                                             millis)
        record = {"id": record_id, "properties": properties, "createdAt": properties.get("createdate"),
                  "updatedAt": properties.get("hs_lastmodifieddate"), "archived": False}
        state.dataset.table("hubspot", "deals").append(record)
        state.hs["deals"][record_id] = record
        state.add_association({"from_type": "deals", "from_id": record_id, "to_type": "companies",
                               "to_id": row["id"], "type": "deal_to_company"})
        contacts = [assoc["from_id"] for assoc in state.associations.get(("companies", row["id"]), ())
                    if assoc["type"] == "contact_to_company" and assoc["to_id"] == row["id"]
                    and state.live_hs("contacts", assoc["from_id"])]
        if contacts and rng.random() < 0.75:
            state.add_association({"from_type": "deals", "from_id": record_id, "to_type": "contacts",
                                   "to_id": rng.choice(contacts), "type": "deal_to_contact"})
        day.tally("created", "hubspot.deals")


def new_members(day: Day, count: int, memberships: set[tuple[str, str]]) -> None:
    """New campaign members: today's new people first, then random leads and contacts."""
    state = day.state
    rng = day.rng
    running = [campaign for campaign in state.campaigns_running(day.start // DAY) if campaign.sf_id]
    if not running:
        return
    table = state.dataset.table("salesforce", "CampaignMember")
    for moment in day.moments(count):
        campaign = rng.choice(running)
        if day.new_people and rng.random() < 0.6:
            obj, person_id = rng.choice(day.new_people)
        else:
            obj = "Lead" if rng.random() < 0.6 else "Contact"
            row = pick_live(day, obj, lambda row: not row.get("IsConverted"))
            if row is None:
                continue
            person_id = row["Id"]
        if (campaign.sf_id, person_id) in memberships:
            continue
        memberships.add((campaign.sf_id, person_id))
        status, responded = rng.choice(salesforce.member_statuses(campaign.kind))
        text = sf_datetime(moment)
        table.append({
            "Id": day.sf_id("CampaignMember"), "IsDeleted": False, "CampaignId": campaign.sf_id,
            "LeadId": person_id if obj == "Lead" else None, "ContactId": person_id if obj == "Contact" else None,
            "Status": status, "HasResponded": responded, "FirstRespondedDate": day_string(moment // DAY) if responded
            else None, "CreatedDate": text, "LastModifiedDate": text, "SystemModstamp": text,
        })
        day.tally("created", "salesforce.CampaignMember")
