"""Health of the raw HubSpot tables (warn only: raw keeps what HubSpot sent).

HubSpot companies carry no currency of their own (the portal's currency applies; see the dbt var
``hubspot_company_currency``), so their revenue is only checked for sign.
"""

from expectations.suites.common import (
    between,
    counts,
    emails,
    money,
    not_in_future,
    one_of,
    required,
)

LIFECYCLE_STAGES = {"subscriber", "lead", "marketingqualifiedlead", "salesqualifiedlead", "opportunity", "customer",
                    "evangelist", "other"}
LEAD_STATUSES = {"NEW", "OPEN", "IN_PROGRESS", "OPEN_DEAL", "UNQUALIFIED", "ATTEMPTED_TO_CONTACT", "CONNECTED",
                 "BAD_TIMING"}
ANALYTICS_SOURCES = {"ORGANIC_SEARCH", "PAID_SEARCH", "EMAIL_MARKETING", "SOCIAL_MEDIA", "REFERRALS",
                     "OTHER_CAMPAIGNS", "DIRECT_TRAFFIC", "OFFLINE", "PAID_SOCIAL", "AI_REFERRALS"}
DEAL_TYPES = {"newbusiness", "existingbusiness"}
EMAIL_EVENT_TYPES = {"SENT", "DROPPED", "PROCESSED", "DELIVERED", "DEFERRED", "BOUNCE", "OPEN", "CLICK",
                     "STATUSCHANGE", "SPAMREPORT", "SUPPRESSED", "SUPPRESSION", "FORWARD", "PRINT"}
STAMPS = ("created_at", "updated_at", "archived_at")


def companies() -> list:
    """Companies: revenue and employee counts non-negative, a known lifecycle stage, no stamps in the future."""
    return [
        *required("archived"),
        *money("annualrevenue"),
        *counts("numberofemployees"),
        *one_of("lifecyclestage", LIFECYCLE_STAGES),
        *not_in_future(*STAMPS, "createdate", "hs_lastmodifieddate"),
    ]


def contacts() -> list:
    """Contacts: e-mails well formed, known lifecycle stages, lead statuses and analytics sources,
    no stamps (lifecycle dates included) in the future."""
    return [
        *required("archived"),
        *emails("email"),
        *one_of("lifecyclestage", LIFECYCLE_STAGES),
        *one_of("hs_lead_status", LEAD_STATUSES),
        *one_of("hs_analytics_source", ANALYTICS_SOURCES),
        *not_in_future(*STAMPS, "createdate", "lastmodifieddate", "hs_lifecyclestage_lead_date",
                       "hs_lifecyclestage_marketingqualifiedlead_date", "hs_lifecyclestage_salesqualifiedlead_date",
                       "hs_lifecyclestage_customer_date"),
    ]


def deals() -> list:
    """Deals: amounts non-negative in a currency, a stage and a pipeline, known deal types,
    no stamps in the future (the close date may be)."""
    return [
        *required("archived", "dealstage", "pipeline"),
        *money("amount", "deal_currency_code"),
        *between("hs_deal_stage_probability", 0, 1),
        *one_of("dealtype", DEAL_TYPES),
        *not_in_future(*STAMPS, "createdate", "hs_lastmodifieddate"),
    ]


def owners() -> list:
    """Owners: e-mails well formed, no stamps in the future."""
    return [*required("archived"), *emails("email"), *not_in_future("created_at", "updated_at")]


def deal_pipeline_stages() -> list:
    """Deal pipeline stages: every stage names its pipeline, probabilities 0-1."""
    return [*required("pipeline_id", "stage_id", "stage_label"), *between("probability", 0, 1)]


def email_events() -> list:
    """E-mail events: recipients well formed, known event types, no events in the future."""
    return [
        *required("created", "type"),
        *emails("recipient"),
        *one_of("type", EMAIL_EVENT_TYPES),
        *not_in_future("created"),
    ]


def form_submissions() -> list:
    """Form submissions: every submission names its form and time, none in the future."""
    return [*required("form_guid", "submitted_at"), *not_in_future("submitted_at")]

