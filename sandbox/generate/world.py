"""The real world behind the source systems: users, companies and people.

Nothing here is in any API's format. Each real company or person carries what is true about
it (name, domain, e-mail, funnel stage) and where it is recorded (Salesforce, HubSpot, both,
with in-system duplicates); the per-API modules render those facts into records, spelling
them differently on purpose.
"""

from __future__ import annotations

import math
import random
from bisect import bisect_right
from itertools import accumulate

from . import vocab
from .fastrand import below, between, pick
from .timefmt import DAY
from .variants import email_case_variant, gmail_variant, slug

BOTH, SF_ONLY, HS_ONLY = "both", "sf_only", "hs_only"
_DIAL = {"US": "+1", "CA": "+1", "GB": "+44", "DE": "+49", "FR": "+33", "NL": "+31", "ES": "+34", "AU": "+61"}
LEAD, CONVERTED, CONTACT = "lead", "converted", "contact"
SUBSCRIBER, LEAD_STAGE, MQL, SQL, OPPORTUNITY, CUSTOMER, EVANGELIST, OTHER = range(8)


class User:
    """A sales or marketing user, present in Salesforce and (usually) as a HubSpot owner."""

    __slots__ = ("index", "first", "last", "email", "active", "created", "in_hs", "in_sf", "sf_id", "hs_id",
                 "hs_user_id")

    def __init__(self, index, first, last, email, active, created, in_hs, in_sf):
        self.index, self.first, self.last, self.email = index, first, last, email
        self.active, self.created, self.in_hs, self.in_sf = active, created, in_hs, in_sf
        self.sf_id = self.hs_id = self.hs_user_id = None


class Company:
    """A real company and where the source systems record it."""

    __slots__ = ("index", "entity_id", "base", "suffix", "domain", "country", "city", "industry", "employees",
                 "revenue", "created", "owner", "presence", "sf_dups", "hs_dups", "parent", "customer_since",
                 "sf_ids", "sf_created", "hs_ids", "people")

    def __init__(self, index, base, suffix, domain, country, city, industry, employees, revenue, created, owner,
                 presence):
        self.index = index
        self.entity_id = f"company-{index:07d}"
        self.base, self.suffix, self.domain = base, suffix, domain
        self.country, self.city, self.industry = country, city, industry
        self.employees, self.revenue, self.created, self.owner = employees, revenue, created, owner
        self.presence = presence
        self.sf_dups = self.hs_dups = 0
        self.parent = None
        self.customer_since = None
        self.sf_ids: list[str] = []
        self.sf_created: list[int] = []
        self.hs_ids: list[str] = []
        self.people: list[Person] = []

    @property
    def name(self) -> str:
        """The legal name: base plus legal suffix."""
        return f"{self.base} {self.suffix}"

    @property
    def in_sf(self) -> bool:
        """Recorded in Salesforce."""
        return self.presence != HS_ONLY

    @property
    def in_hs(self) -> bool:
        """Recorded in HubSpot."""
        return self.presence != SF_ONLY


class Person:
    """A real person, their true funnel stage, and how each system records them."""

    __slots__ = ("index", "entity_id", "company", "first", "last", "title", "email", "free_mail", "role_inbox",
                 "channel", "utm", "created", "stage", "hs_stage", "sf_kind", "in_hs", "sf_dup", "hs_dup",
                 "converted_at", "opp", "sf_email", "hs_email", "lead_ids", "contact_ids", "hs_ids", "name",
                 "phone")

    def __init__(self, index, company, first, last, title, email, created):
        self.index = index
        self.entity_id = f"person-{index:08d}"
        self.company, self.first, self.last, self.title = company, first, last, title
        self.name = f"{first} {last}"
        self.phone = None
        self.email, self.created = email, created
        self.free_mail = self.role_inbox = False
        self.channel = 0
        self.utm = None
        self.stage = self.hs_stage = LEAD_STAGE
        self.sf_email = self.hs_email = None
        self.sf_kind = None
        self.in_hs = False
        self.sf_dup = self.hs_dup = False
        self.converted_at = None
        self.opp = None
        self.lead_ids: tuple[str, ...] = ()
        self.contact_ids: tuple[str, ...] = ()
        self.hs_ids: tuple[str, ...] = ()


def make_users(rng: random.Random, count: int, start: int) -> list[User]:
    """Sales and marketing users; a few inactive, a few only in one system."""
    users = []
    seen = set()
    for index in range(count):
        first, last = pick(rng, vocab.FIRST_NAMES), pick(rng, vocab.LAST_NAMES)
        local = f"{slug(first)}.{slug(last)}"
        while local in seen:
            local += str(between(rng, 1, 9))
        seen.add(local)
        roll = rng.random()
        in_sf, in_hs = roll >= 0.07, roll < 0.07 or roll > 0.22
        created = start + int(rng.random() ** 2 * 600 * DAY)
        users.append(User(index, first, last, f"{local}@commonground-demo.com", rng.random() > 0.1, created,
                          in_hs, in_sf))
    return users


_COUNTRY_CODES = tuple(code for code, _ in vocab.COUNTRY_WEIGHTS)
_COUNTRY_CUM = tuple(accumulate(weight for _, weight in vocab.COUNTRY_WEIGHTS))


def make_company(rng: random.Random, index: int, created: int, owners: list[User], used_domains: set[str],
                 presence: str | None = None) -> Company:
    """One real company with a domain unique among ``used_domains`` (which it is added to)."""
    country = rng.choices(_COUNTRY_CODES, cum_weights=_COUNTRY_CUM)[0]
    _, _, _, endings, suffixes, cities = vocab.COUNTRIES[country]
    local_heads = vocab.NAME_HEADS_LOCAL.get(country)
    local_tails = vocab.NAME_TAILS_LOCAL.get(country)
    german = country == "DE"
    while True:
        head = pick(rng, local_heads) if local_heads and rng.random() < 0.35 else pick(rng, vocab.NAME_HEADS)
        tail = pick(rng, local_tails) if local_tails and rng.random() < 0.4 else pick(rng, vocab.NAME_TAILS)
        base = f"{head} {tail}"
        if rng.random() < 0.45:
            base = f"{head} {pick(rng, vocab.NAME_HEADS)} {tail}"
        stem = slug(base, german)
        if rng.random() < 0.12:
            stem = "-".join(slug(word, german) for word in base.split())
        elif rng.random() < 0.08:
            stem = slug(base.split()[0], german) + "hq"
        domain = stem + pick(rng, endings)
        if domain not in used_domains:
            break
    used_domains.add(domain)
    employees = max(1, min(250_000, int(math.exp(rng.gauss(4.2, 1.6)))))
    revenue = float(round(employees * rng.uniform(60_000, 320_000), -3)) if rng.random() < 0.85 else None
    if presence is None:
        roll = rng.random()
        presence = BOTH if roll < 0.60 else SF_ONLY if roll < 0.85 else HS_ONLY
    owner = pick(rng, owners) if owners else None
    company = Company(index, base, pick(rng, suffixes), domain, country, pick(rng, cities),
                      below(rng, len(vocab.INDUSTRIES)), employees, revenue, created, owner, presence)
    if company.in_sf and rng.random() < 0.03:
        company.sf_dups = 2 if rng.random() < 0.1 else 1
    if company.in_hs and rng.random() < 0.02:
        company.hs_dups = 1
    return company


def make_companies(rng: random.Random, count: int, start: int, clock: int, owners: list[User]) -> list[Company]:
    """``count`` companies created over the history window (a migration burst at its start)."""
    span = clock - start
    used: set[str] = set()
    companies = []
    for index in range(count):
        if rng.random() < 0.25:
            created = start + int(rng.random() * 20 * DAY)
        else:
            created = start + int(span * rng.random() ** 0.8)
        companies.append(make_company(rng, index, created, owners, used))
    for company in companies:
        if company.index > 10 and rng.random() < 0.03:
            parent = companies[below(rng, company.index)]
            if parent.country == company.country and parent.presence == company.presence:
                company.parent = parent
    return companies


_CHANNEL_CUM = tuple(accumulate(weight for _, _, weight in vocab.CHANNELS))
_STAGE_CUM = tuple(accumulate((15, 40, 20, 12, 8, 0, 0, 5)))


def email_local(rng: random.Random, first: str, last: str) -> str:
    """A corporate-style e-mail local part for a name (``john.smith``, ``jsmith``, ...)."""
    first_slug, last_slug = slug(first), slug(last)
    roll = rng.random()
    if roll < 0.55:
        return f"{first_slug}.{last_slug}"
    if roll < 0.75:
        return f"{first_slug[:1]}{last_slug}"
    if roll < 0.85:
        return first_slug
    if roll < 0.93:
        return f"{first_slug}_{last_slug}"
    return f"{first_slug}{last_slug[:1]}"


def make_person(rng: random.Random, index: int, company: Company, created: int, used_emails: set[str]) -> Person:
    """One person working at ``company``, with an e-mail unique among ``used_emails`` (added to it)."""
    first, last = pick(rng, vocab.FIRST_NAMES), pick(rng, vocab.LAST_NAMES)
    person = Person(index, company, first, last, pick(rng, vocab.TITLES), None, created)
    if rng.random() < 0.10:
        person.free_mail = True
        domain = pick(rng, vocab.FREE_MAIL_DOMAINS)
        local = f"{slug(first)}.{slug(last)}" if rng.random() < 0.6 else f"{slug(first)}{slug(last)}"
        local += str(between(rng, 1, 99)) if rng.random() < 0.5 else ""
    else:
        domain = company.domain
        local = email_local(rng, first, last)
    email = f"{local}@{domain}"
    while email in used_emails:
        local += str(between(rng, 0, 9))
        email = f"{local}@{domain}"
    used_emails.add(email)
    person.email = email
    number = int(rng.random() * 1_000_000_000)
    person.phone = f"{_DIAL[company.country]} {number // 1_000_000:03d} {number % 1_000_000:06d}"
    person.channel = bisect_right(_CHANNEL_CUM, rng.random() * _CHANNEL_CUM[-1])
    person.stage = bisect_right(_STAGE_CUM, rng.random() * _STAGE_CUM[-1])
    return person


def place_person(rng: random.Random, person: Person) -> None:
    """Decide where a person is recorded (Salesforce lead/contact, HubSpot) from their company and stage."""
    company = person.company
    if company.presence == BOTH:
        in_sf, in_hs = rng.random() < 0.72, rng.random() < 0.75
    elif company.presence == SF_ONLY:
        in_sf, in_hs = rng.random() < 0.88, rng.random() < 0.35
    else:
        in_sf, in_hs = rng.random() < 0.25, rng.random() < 0.95
    if not in_sf and not in_hs:
        in_sf, in_hs = company.in_sf, company.in_hs
    person.in_hs = in_hs
    if in_sf:
        if not company.in_sf:
            person.sf_kind = LEAD
        elif person.stage in (SQL, OPPORTUNITY, CUSTOMER, EVANGELIST):
            person.sf_kind = CONVERTED if rng.random() < 0.6 else CONTACT
        else:
            person.sf_kind = CONTACT if rng.random() < 0.15 else LEAD
        person.sf_dup = rng.random() < 0.02
    person.hs_dup = in_hs and person.free_mail and rng.random() < 0.08


def make_people(rng: random.Random, count: int, companies: list[Company], clock: int) -> list[Person]:
    """``count`` people spread over the companies, bigger companies getting more of them."""
    weights = list(accumulate(math.sqrt(company.employees) + 2 for company in companies))
    chosen = rng.choices(companies, cum_weights=weights, k=count)
    used_emails: set[str] = set()
    people = []
    for index, company in enumerate(chosen):
        created = company.created + int((clock - company.created) * rng.random() ** 0.85)
        person = make_person(rng, index, company, created, used_emails)
        company.people.append(person)
        people.append(person)
    plant_role_inboxes(rng, companies)
    return people


def plant_role_inboxes(rng: random.Random, companies: list[Company]) -> None:
    """Give 2-3 different people of some companies the same role inbox (``info@...``)."""
    for company in companies:
        if len(company.people) >= 3 and rng.random() < 0.04:
            address = f"{pick(rng, vocab.ROLE_INBOXES)}@{company.domain}"
            sharers = [person for person in company.people if not person.free_mail][:between(rng, 2, 3)]
            if len(sharers) < 2:
                continue
            for person in sharers:
                person.email = address
                person.role_inbox = True


def settle_people(rng: random.Random, people: list[Person], clock: int) -> None:
    """Final funnel stage, where each person is recorded, and how each system spells their e-mail.

    Runs after the pipeline exists, so people of customer companies can be customers. HubSpot
    refuses two contacts with one e-mail, so only the first sharer of a role inbox gets a HubSpot
    contact; the others are Salesforce-only.
    """
    inbox_taken: set[str] = set()
    for person in people:
        company = person.company
        if company.customer_since is not None and person.created < clock - DAY and rng.random() < 0.45:
            person.stage = EVANGELIST if rng.random() < 0.06 else CUSTOMER
        place_person(rng, person)
        if person.role_inbox:
            if person.email in inbox_taken:
                person.in_hs = False
                if person.sf_kind is None:
                    person.sf_kind = LEAD
            elif person.in_hs:
                inbox_taken.add(person.email)
            person.hs_dup = person.sf_dup = False
        spell_emails(rng, person)
        person.hs_stage = person.stage
        if person.in_hs and person.sf_kind and rng.random() < 0.08:
            if person.stage in (CUSTOMER, EVANGELIST):
                person.hs_stage = LEAD_STAGE if rng.random() < 0.6 else MQL
            elif person.stage <= MQL:
                person.hs_stage = CUSTOMER


def spell_emails(rng: random.Random, person: Person) -> None:
    """How Salesforce and HubSpot spell the person's e-mail: case, Gmail dots / +tags, sometimes none."""
    email = person.email
    person.sf_email = person.hs_email = email
    if person.sf_kind and person.in_hs and not person.role_inbox:
        roll = rng.random()
        if email.endswith("@gmail.com") and roll < 0.35:
            person.sf_email = gmail_variant(rng, email)
        elif roll < 0.12:
            person.sf_email = email_case_variant(rng, email)
    if person.sf_kind == LEAD and rng.random() < 0.01:
        person.sf_email = None


def link_conversions(rng: random.Random, people: list[Person], opps: list, clock: int) -> None:
    """Give converted leads a conversion moment, and to most of them the opportunity created on conversion."""
    by_company: dict[int, list] = {}
    for opp in opps:
        by_company.setdefault(opp.company.index, []).append(opp)
    for person in people:
        if person.sf_kind != CONVERTED:
            continue
        if rng.random() < 0.6:
            for opp in by_company.get(person.company.index, ()):
                if opp.contact is None and opp.created > person.created + 3600:
                    opp.contact = person
                    opp.lead_source = vocab.CHANNELS[person.channel][1]
                    person.opp = opp
                    person.converted_at = opp.created
                    break
        if person.converted_at is None:
            person.converted_at = person.created + 60 + int(max(0, clock - person.created - 120) * rng.random())
