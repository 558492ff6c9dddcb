"""Time travel: edits of a day (field changes, pipeline and lifecycle progress, lead conversions)."""

from __future__ import annotations

from . import hubspot, salesforce, vocab
from .day import Day, add_truth, pick_live, random_user, touch_hs, touch_sf
from .growth import new_account, new_opportunity
from .pipeline import HS_PIPELINES, deal_amount
from .timefmt import DAY, day_number, day_string, hs_datetime
from .world import Person

_STAGE_INDEX = {stage[0]: index for index, stage in enumerate(vocab.SF_STAGES)}
_LIFECYCLE_INDEX = {stage: index for index, stage in enumerate(vocab.LIFECYCLE_STAGES)}
_CHANNEL_BY_SOURCE = {sf: index for index, (_, sf, _) in reversed(list(enumerate(vocab.CHANNELS)))}


def update_accounts(day: Day, count: int) -> None:
    """Edits to accounts: head count, revenue, type, website clean-up."""
    rng = day.rng
    for moment in day.moments(count):
        row = pick_live(day, "Account")
        if row is None:
            continue
        roll = rng.random()
        if roll < 0.35 and row.get("NumberOfEmployees"):
            row["NumberOfEmployees"] = max(1, int(row.get("NumberOfEmployees") * rng.uniform(0.9, 1.15)))
        elif roll < 0.55 and row.get("AnnualRevenue"):
            row["AnnualRevenue"] = float(round(row.get("AnnualRevenue") * rng.uniform(0.9, 1.2), -3))
        elif roll < 0.7 and row.get("Type") in (None, "Prospect"):
            row["Type"] = rng.choice(("Prospect", "Other", "Partner"))
        elif roll < 0.85 and row.get("Website") and not row.get("Website").startswith("https://"):
            row["Website"] = "https://" + row.get("Website").lower().removeprefix("http://")
        else:
            row["BillingStreet"] = f"{rng.randint(1, 240)} {rng.choice(vocab.NAME_HEADS)} Street"
        touch_sf(row, moment, random_user(day).sf_id)
        day.tally("updated", "salesforce.Account")


def update_contacts(day: Day, count: int) -> None:
    """Edits to contacts: title, phone, city."""
    rng = day.rng
    for moment in day.moments(count):
        row = pick_live(day, "Contact")
        if row is None:
            continue
        roll = rng.random()
        if roll < 0.5:
            row["Title"] = rng.choice(vocab.TITLES)
        elif roll < 0.8:
            row["Phone"] = f"+1 {rng.randint(200, 999)} {rng.randint(100, 999)} {rng.randint(1000, 9999)}"
        else:
            row["MailingCity"] = None if row.get("MailingCity") else "Remote"
        touch_sf(row, moment, row.get("OwnerId"))
        day.tally("updated", "salesforce.Contact")


def update_leads(day: Day, count: int) -> None:
    """Lead work: contacted, disqualified, converted (contact + account + often an opportunity)."""
    rng = day.rng
    for moment in day.moments(count):
        row = pick_live(day, "Lead", lambda row: not row.get("IsConverted"))
        if row is None:
            continue
        status = row.get("Status")
        roll = rng.random()
        if status == vocab.LEAD_STATUS_OPEN and roll < 0.6:
            row["Status"] = vocab.LEAD_STATUS_WORKING
            if (row.get("OwnerId") or "").startswith("00G"):
                row["OwnerId"] = random_user(day).sf_id
        elif status == vocab.LEAD_STATUS_WORKING and roll < 0.3:
            if convert_lead(day, row, moment):
                continue
        elif status == vocab.LEAD_STATUS_WORKING and roll < 0.45:
            row["Status"] = vocab.LEAD_STATUS_LOST
        else:
            row["Title"] = rng.choice(vocab.TITLES)
        touch_sf(row, moment, row.get("OwnerId") if (row.get("OwnerId") or "").startswith("005") else None)
        day.tally("updated", "salesforce.Lead")


def convert_lead(day: Day, lead: dict, moment: int) -> bool:
    """Convert a lead: account (existing or new), contact, and in 60% of cases an opportunity."""
    state = day.state
    rng = day.rng
    person_entity = state.person_of_record.get(("salesforce_lead", lead["Id"]))
    company = state.company(state.employer.get(person_entity, "")) if person_entity else None
    if company is None:
        return False
    if company.sf_ids:
        account_id = company.sf_ids[0]
    else:
        company.presence = "both"
        account_id = new_account(day, company, moment)
        state.forget_company(company.entity_id)
    account = state.sf["Account"][account_id]
    person = Person(0, company, lead.get("FirstName") or "", lead.get("LastName") or "", lead.get("Title"),
                    lead.get("Email"), moment)
    person.sf_email = lead.get("Email")
    person.phone = lead.get("Phone")
    person.channel = _CHANNEL_BY_SOURCE.get(lead.get("LeadSource"), 0)
    user_id = account.get("OwnerId")
    contact_id = day.sf_id("Contact")
    contact = salesforce.contact_record(rng, person, contact_id, account_id, user_id,
                                        salesforce.stamp_texts(moment, moment, moment))
    contact["LeadSource"] = lead.get("LeadSource")
    state.dataset.table("salesforce", "Contact").append(contact)
    state.sf["Contact"][contact_id] = contact
    add_truth(state, "people", person_entity, "salesforce_contact", contact_id)
    day.tally("created", "salesforce.Contact")
    opp_id = None
    if rng.random() < 0.6:
        opp_id = new_opportunity(day, account, moment, company, lead.get("LeadSource"), stage=1)
    lead.update(Status=vocab.LEAD_STATUS_CONVERTED, IsConverted=True, ConvertedDate=day_string(moment // DAY),
                ConvertedAccountId=account_id, ConvertedContactId=contact_id, ConvertedOpportunityId=opp_id,
                OwnerId=user_id)
    touch_sf(lead, moment, user_id)
    day.tally("converted", "salesforce.Lead")
    for system, record_id in state.person_records.get(person_entity, ()):
        row = state.live_hs("contacts", record_id) if system == "hubspot_contact" else None
        if row is not None and rng.random() < 0.5:
            properties = row["properties"]
            properties["salesforcecontactid"] = contact_id
            if _LIFECYCLE_INDEX.get(properties.get("lifecyclestage"), 0) < 3:
                properties["lifecyclestage"] = "salesqualifiedlead"
                properties["hs_lifecyclestage_salesqualifiedlead_date"] = hs_datetime(moment * 1000)
            touch_hs(row, "contacts", moment)
            day.tally("updated", "hubspot.contacts")
    return True


def update_opportunities(day: Day, count: int, open_ids: list[str]) -> None:
    """Pipeline movement: next stage, won / lost, amount and close-date changes, each with a history row."""
    state = day.state
    rng = day.rng
    history = state.dataset.table("salesforce", "OpportunityHistory")
    for moment in day.moments(count):
        for _ in range(10):
            if not open_ids:
                return
            position = int(rng.random() * len(open_ids))
            row = state.live_sf("Opportunity", open_ids[position])
            if row is not None and not row.get("IsClosed"):
                break
            open_ids[position] = open_ids[-1]
            open_ids.pop()
        else:
            continue
        stage = _STAGE_INDEX.get(row.get("StageName"), 0)
        previous = (stage, 0, row.get("Amount"), day_number(row.get("CloseDate")))
        amount, close_day = row.get("Amount"), previous[3]
        roll = rng.random()
        if roll < 0.55:
            if rng.random() < 0.2:
                stage = vocab.SF_LOST
            elif stage >= vocab.SF_WON - 1:
                stage = vocab.SF_WON if rng.random() < 0.55 else vocab.SF_LOST
            else:
                stage = min(vocab.SF_WON - 1, stage + 1 + (1 if rng.random() < 0.3 else 0))
            if stage in (vocab.SF_WON, vocab.SF_LOST):
                close_day = moment // DAY
            if amount is None and stage > 1:
                amount = deal_amount(rng, 50)
        elif roll < 0.8 and amount is not None:
            amount = float(round(amount * rng.uniform(0.8, 1.2), -2))
        else:
            close_day += rng.randint(7, 40)
        stage_name, probability, forecast, is_closed, is_won = vocab.SF_STAGES[stage]
        row.update(StageName=stage_name, Probability=probability, ForecastCategoryName=forecast, IsClosed=is_closed,
                   IsWon=is_won, Amount=amount, CloseDate=day_string(close_day),
                   ExpectedRevenue=round(amount * probability / 100, 2) if amount is not None else None)
        moment = touch_sf(row, moment, row.get("OwnerId"))
        history.append(salesforce.history_record(day.sf_id("OpportunityHistory"), row["Id"],
                                                 (stage, moment, amount, close_day), previous, row.get("OwnerId")))
        day.tally("updated", "salesforce.Opportunity")
        day.tally("created", "salesforce.OpportunityHistory")
        if is_won:
            account = state.live_sf("Account", row.get("AccountId"))
            if account is not None and not (account.get("Type") or "").startswith("Customer"):
                account["Type"] = "Customer - Direct"
                touch_sf(account, moment, row.get("OwnerId"))
                day.tally("updated", "salesforce.Account")


def update_members(day: Day, count: int) -> None:
    """Campaign responses: members who register, attend or click."""
    rng = day.rng
    table = day.state.dataset.table("salesforce", "CampaignMember")
    for moment in day.moments(count):
        if not table:
            return
        row = table[int(rng.random() * len(table))]
        if row.get("IsDeleted") or row.get("HasResponded"):
            continue
        row.update(HasResponded=True, Status="Responded" if row.get("Status") == "Sent" else "Attended",
                   FirstRespondedDate=day_string(moment // DAY))
        touch_sf(row, moment)
        day.tally("updated", "salesforce.CampaignMember")


def update_hs_companies(day: Day, count: int) -> None:
    """Edits to HubSpot companies: lifecycle, head count, a domain filled in."""
    rng = day.rng
    for moment in day.moments(count):
        row = pick_live(day, "companies")
        if row is None:
            continue
        properties = row["properties"]
        roll = rng.random()
        if roll < 0.4:
            properties["lifecyclestage"] = rng.choice(("lead", "marketingqualifiedlead", "salesqualifiedlead",
                                                       "opportunity", "customer"))
        elif roll < 0.7 and properties.get("numberofemployees"):
            properties["numberofemployees"] = str(max(1, int(int(properties.get("numberofemployees"))
                                                             * rng.uniform(0.9, 1.2))))
        elif properties.get("domain") is None and properties.get("website"):
            properties["domain"] = properties.get("website").removeprefix("https://www.")
        else:
            properties["city"] = properties.get("city") or "Remote"
        touch_hs(row, "companies", moment)
        day.tally("updated", "hubspot.companies")


def update_hs_contacts(day: Day, count: int) -> None:
    """Lifecycle progression of HubSpot contacts (with the new stage's date), lead-status changes."""
    rng = day.rng
    for moment in day.moments(count):
        row = pick_live(day, "contacts")
        if row is None:
            continue
        properties = row["properties"]
        stage = _LIFECYCLE_INDEX.get(properties.get("lifecyclestage"))
        millis = touch_hs(row, "contacts", moment)
        if stage is not None and stage < 6 and rng.random() < 0.7:
            stage += 1
            properties["lifecyclestage"] = vocab.LIFECYCLE_STAGES[stage]
            properties[hubspot.STAGE_DATE_KEYS[stage]] = hs_datetime(millis)
        else:
            properties["hs_lead_status"] = rng.choice(vocab.HS_LEAD_STATUSES)
        day.tally("updated", "hubspot.contacts")


def update_hs_deals(day: Day, count: int) -> None:
    """Deal movement through its pipeline, amount changes."""
    rng = day.rng
    for moment in day.moments(count):
        row = pick_live(day, "deals", lambda row: row["properties"].get("hs_is_closed") != "true")
        if row is None:
            continue
        properties = row["properties"]
        stages, won, lost = HS_PIPELINES.get(properties.get("pipeline"), HS_PIPELINES["default"])
        ids = [stage[0] for stage in stages]
        stage = ids.index(properties.get("dealstage")) if properties.get("dealstage") in ids else 0
        millis = touch_hs(row, "deals", moment)
        if rng.random() < 0.6:
            before = stage
            stage = lost if rng.random() < 0.2 else won if stage >= won - 1 and rng.random() < 0.6 else \
                min(won - 1, stage + 1)
            stage_id, _, probability, is_closed = stages[stage]
            if stage != before:
                properties[hubspot.date_entered_property(stage_id)] = hs_datetime(millis)
            properties.update(dealstage=stage_id, hs_deal_stage_probability=probability, hs_is_closed=is_closed,
                              hs_is_closed_won="true" if stage == won else "false")
            if is_closed == "true":
                properties["closedate"] = hs_datetime(millis)
        elif properties.get("amount"):
            properties["amount"] = hubspot.hs_number(round(float(properties.get("amount")) * rng.uniform(0.8, 1.2), -2))
        day.tally("updated", "hubspot.deals")
