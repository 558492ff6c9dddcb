"""Health of the raw Salesforce tables (warn only: raw keeps what Salesforce sent).

Picklist values are the standard ones of a Salesforce org plus ours; an org that adds values
sees a warning, not a stopped night.
"""

from expectations.suites.common import (
    between,
    counts,
    days_not_in_future,
    emails,
    money,
    not_in_future,
    one_of,
    ordered,
    required,
)

ACCOUNT_TYPES = {"Prospect", "Customer - Direct", "Customer - Channel", "Channel Partner / Reseller",
                 "Installation Partner", "Technology Partner", "Partner", "Other"}
LEAD_STATUSES = {"Open - Not Contacted", "Working - Contacted", "Closed - Converted", "Closed - Not Converted"}
OPPORTUNITY_TYPES = {"New Business", "Existing Business - Upgrade", "Existing Business - Replacement",
                     "Existing Business - Downgrade", "Renewal"}
FORECAST_CATEGORIES = {"Pipeline", "Best Case", "Commit", "Closed", "Omitted"}
CAMPAIGN_STATUSES = {"Planned", "In Progress", "Completed", "Aborted"}
STAMPS = ("created_date", "last_modified_date", "system_modstamp")


def account() -> list:
    """Accounts: revenue non-negative in a currency, employee counts non-negative, a name, a known type,
    no stamps in the future."""
    return [
        *required("name", "is_deleted"),
        *money("annual_revenue", "currency_iso_code"),
        *counts("number_of_employees"),
        *one_of("type", ACCOUNT_TYPES),
        *not_in_future(*STAMPS),
    ]


def contact() -> list:
    """Contacts: e-mails well formed, a last name, no stamps in the future."""
    return [*required("last_name", "is_deleted"), *emails("email"), *not_in_future(*STAMPS)]


def lead() -> list:
    """Leads: e-mails well formed, a last name and a company, a known status, conversions not in the future."""
    return [
        *required("last_name", "company", "status", "is_deleted"),
        *emails("email"),
        *one_of("status", LEAD_STATUSES),
        *counts("number_of_employees"),
        *not_in_future(*STAMPS),
        *days_not_in_future("converted_date"),
    ]


def opportunity() -> list:
    """Opportunities: amounts non-negative in a currency, probability 0-100, a stage and a close date,
    known types and forecast categories, no stamps in the future."""
    return [
        *required("name", "stage_name", "close_date", "is_deleted"),
        *money("amount", "currency_iso_code"),
        *money("expected_revenue"),
        *between("probability", 0, 100),
        *one_of("type", OPPORTUNITY_TYPES),
        *one_of("forecast_category_name", FORECAST_CATEGORIES),
        *not_in_future(*STAMPS),
    ]


def opportunity_history() -> list:
    """Opportunity stage history: every row names its opportunity and stage, amounts non-negative,
    no stamps in the future."""
    return [
        *required("opportunity_id", "stage_name", "created_date"),
        *money("amount"),
        *money("prev_amount"),
        *between("probability", 0, 100),
        *one_of("forecast_category", FORECAST_CATEGORIES),
        *not_in_future("created_date", "system_modstamp"),
    ]


def campaign() -> list:
    """Campaigns: costs non-negative in a currency, member counts non-negative, a known status,
    starts before ends."""
    return [
        *required("name", "is_deleted"),
        *money("budgeted_cost", "currency_iso_code"),
        *money("actual_cost", "currency_iso_code"),
        *counts("number_of_leads", "number_of_contacts", "number_of_responses", "number_of_opportunities"),
        *one_of("status", CAMPAIGN_STATUSES),
        *ordered("start_date", "end_date"),
        *not_in_future(*STAMPS),
    ]


def campaign_member() -> list:
    """Campaign members: every member names its campaign and has a status, responses not in the future."""
    return [
        *required("campaign_id", "status", "is_deleted"),
        *days_not_in_future("first_responded_date"),
        *not_in_future(*STAMPS),
    ]


def user() -> list:
    """Users: e-mails and usernames well formed, a name, no stamps in the future."""
    return [*required("name", "is_active"), *emails("email", "username"), *not_in_future(*STAMPS, "last_login_date")]
