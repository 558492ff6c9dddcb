"""HubSpot marketing data: marketing e-mails and their events (legacy v1 shape), forms and submissions."""

from __future__ import annotations

from bisect import bisect_right
from operator import itemgetter

from . import vocab
from .campaigns import UtmCampaign, utm_source_medium
from .context import Context
from .fastrand import below, between, pick
from .hubspot import PORTAL_ID
from .ids import uuid_string
from .timefmt import DAY
from .world import Person

APP_ID, APP_NAME = 113, "BatchEmail"
_FORM_PAGES = {
    "webinar": 0, "ebook": 1, "demo": 2, "newsletter": 4, "report": 5, "tradeshow": 6, "launch": 7,
    "abm": 9, "podcast": 10, "retargeting": 2, "brand": 3, "other": 3,
}


def render_marketing_emails(ctx: Context, campaigns: list[UtmCampaign]) -> list[tuple[int, int, UtmCampaign]]:
    """``marketing_emails`` for the campaigns HubSpot e-mails; returns (send moment, e-mail id, campaign)."""
    rng = ctx.rng("hs:emails")
    ids = ctx.sequence("hs:emails", 5_400_000 + below(rng, 100_000), 97)
    table = ctx.table("hubspot", "marketing_emails")
    sends = []
    for campaign in campaigns:
        if not campaign.in_hs or campaign.key is None:
            continue
        for number in range(between(rng, 1, 3)):
            send = campaign.start + number * between(rng, 3, 10) * DAY + between(rng, 7, 11) * 3600
            email_id = ids.take()
            campaign.hs_email_ids.append(email_id)
            label = ("Invite", "Reminder", "Last chance")[number]
            name = f"{campaign.key} - {label}" if rng.random() < 0.7 else f"{campaign.title} {label} | {campaign.key}"
            updated = min(send, ctx.clock - 3600) * 1000 + below(rng, 1000)
            table.append({"id": email_id, "name": name, "subject": f"{campaign.title}: {label.lower()}",
                          "appId": APP_ID, "appName": APP_NAME, "lastUpdatedTime": updated})
            if send < ctx.clock:
                sends.append((send, email_id, campaign))
    return sends


def render_email_events(ctx: Context, sends: list, people: list[Person], target: int) -> None:
    """SENT / DELIVERED / OPEN / CLICK events of the sent e-mails, about ``target`` events in all, by time."""
    rng = ctx.rng("hs:email_events")
    recipients = sorted(((person.created, person.hs_email) for person in people if person.hs_ids),
                        key=lambda item: item[0])
    created = [moment for moment, _ in recipients]
    per_send = max(5, int(target / (2.3 * max(1, len(sends)))))
    events = []
    for send, email_id, _ in sends:
        available = bisect_right(created, send)
        if available == 0:
            continue
        base_ms = send * 1000
        for index in rng.sample(range(available), min(per_send, available)):
            address = recipients[index][1]
            sent = base_ms + below(rng, 600_000)
            events.append((sent, "SENT", address, email_id))
            if rng.random() < 0.03:
                continue
            delivered = sent + between(rng, 500, 90_000)
            events.append((delivered, "DELIVERED", address, email_id))
            if rng.random() < 0.25:
                opened = delivered + between(rng, 30_000, 3 * DAY * 1000)
                events.append((opened, "OPEN", address, email_id))
                if rng.random() < 0.2:
                    events.append((opened + between(rng, 2_000, 600_000), "CLICK", address, email_id))
    events.sort(key=itemgetter(0))
    clock_ms = ctx.clock * 1000
    table = ctx.table("hubspot", "email_events")
    for moment, kind, address, email_id in events:
        if moment >= clock_ms:
            continue
        table.append({"id": uuid_string(rng), "created": moment, "type": kind, "recipient": address,
                      "emailCampaignId": email_id, "portalId": PORTAL_ID, "appId": APP_ID, "appName": APP_NAME})


def render_forms(ctx: Context) -> list[str]:
    """``forms``; returns their GUIDs in :data:`vocab.FORM_NAMES` order."""
    rng = ctx.rng("hs:forms")
    table = ctx.table("hubspot", "forms")
    guids = []
    for name in vocab.FORM_NAMES:
        guid = uuid_string(rng)
        created = (ctx.start - between(rng, 10, 200) * DAY) * 1000 + below(rng, 1000)
        table.append({"guid": guid, "name": name, "createdAt": created,
                      "updatedAt": created + between(rng, 0, 400) * DAY * 1000})
        guids.append(guid)
    return guids


def render_form_submissions(ctx: Context, people: list[Person], guids: list[str]) -> None:
    """``form_submissions``: the form fill that created about 28% of the HubSpot contacts, oldest first."""
    rng = ctx.rng("hs:form_submissions")
    rows = []
    for person in people:
        if not person.hs_ids or rng.random() > 0.28:
            continue
        utm = person.utm
        kind = utm.kind if utm is not None else pick(rng, ("demo", "brand", "newsletter", "other"))
        guid = guids[_FORM_PAGES.get(kind, 3)]
        if utm is not None:
            source, medium = utm_source_medium(person)
            page = (f"https://www.commonground-demo.com/{utm.kind}/{utm.topic or 'brand'}?utm_source={source}"
                    f"&utm_medium={medium}&utm_campaign={utm.key}")
        else:
            page = f"https://www.commonground-demo.com/{kind}"
        email = person.hs_email if rng.random() < 0.9 else person.hs_email.capitalize()
        rows.append((person.created * 1000 + below(rng, 1000), guid, email, person, page))
    rows.sort(key=itemgetter(0))
    table = ctx.table("hubspot", "form_submissions")
    for submitted, guid, email, person, page in rows:
        values = [{"name": "email", "value": email}, {"name": "firstname", "value": person.first},
                  {"name": "lastname", "value": person.last}]
        if rng.random() < 0.7:
            values.append({"name": "company", "value": person.company.base})
        table.append({"formGuid": guid, "conversionId": uuid_string(rng), "submittedAt": submitted,
                      "values": values, "pageUrl": page})
