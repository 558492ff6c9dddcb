"""The Meta (Facebook) Marketing API objects Common Ground syncs, declared as data.

Columns are Meta's field names. Ad accounts, campaigns and ad sets are read whole each run,
deleted and archived ones included (``effective_status``). Budgets are strings in the
currency's minor unit (``"15000"`` = 150.00) and stay integers in that unit. Insights arrive
with every metric as a string; ``actions`` / ``action_values`` are kept as JSON, and a few
explicit action types (never the sum of the array: types overlap) become columns of their own,
zero when Meta reports no such action. Insight days are in the ad account's time zone.
"""

from connectors.ad_metrics import metric_stream
from connectors.schema import Field, Stream

#: Every effective status, so deleted and archived objects (and their spend) are read too.
EFFECTIVE_STATUSES = (
    "ACTIVE", "PAUSED", "DELETED", "ARCHIVED", "PENDING_REVIEW", "DISAPPROVED", "PREAPPROVED",
    "PENDING_BILLING_INFO", "CAMPAIGN_PAUSED", "ADSET_PAUSED", "IN_PROCESS", "WITH_ISSUES",
)


def action_field(column: str, array: str, action_type: str) -> Field:
    """A column holding one action type's value from ``actions`` or ``action_values`` (zero when absent)."""
    return Field(column, f"_{array}.{action_type.replace('.', '__')}", "decimal")


AD_ACCOUNTS = Stream(
    name="ad_accounts",
    primary_key="account_id",
    fields=(
        Field("account_id", "account_id"),
        Field("id", "id"),
        Field("name", "name"),
        Field("currency", "currency"),
        Field("timezone_name", "timezone_name"),
        Field("timezone_offset_hours_utc", "timezone_offset_hours_utc", "float"),
        Field("account_status", "account_status", "int"),
    ),
    options={"kind": "accounts"},
)

_OBJECT_FIELDS = (
    Field("id", "id"),
    Field("account_id", "account_id"),
    Field("name", "name"),
    Field("status", "status"),
    Field("configured_status", "configured_status"),
    Field("effective_status", "effective_status"),
    Field("daily_budget", "daily_budget", "int"),
    Field("lifetime_budget", "lifetime_budget", "int"),
    Field("budget_remaining", "budget_remaining", "int"),
    Field("bid_strategy", "bid_strategy"),
    Field("created_time", "created_time", "timestamp"),
    Field("start_time", "start_time", "timestamp"),
    Field("updated_time", "updated_time", "timestamp"),
)

CAMPAIGNS = Stream(
    name="campaigns",
    primary_key="id",
    fields=_OBJECT_FIELDS + (
        Field("objective", "objective"),
        Field("buying_type", "buying_type"),
        Field("special_ad_categories", "special_ad_categories", "json"),
        Field("stop_time", "stop_time", "timestamp"),
    ),
    options={"kind": "objects", "edge": "campaigns", "singular": "campaign"},
)

ADSETS = Stream(
    name="adsets",
    primary_key="id",
    fields=_OBJECT_FIELDS + (
        Field("campaign_id", "campaign_id"),
        Field("optimization_goal", "optimization_goal"),
        Field("billing_event", "billing_event"),
    ),
    options={"kind": "objects", "edge": "adsets", "singular": "adset"},
)

_INSIGHT_METRICS = (
    Field("account_id", "account_id"),
    Field("campaign_id", "campaign_id"),
    Field("campaign_name", "campaign_name"),
    Field("impressions", "impressions", "int"),
    Field("reach", "reach", "int"),
    Field("clicks", "clicks", "int"),
    Field("inline_link_clicks", "inline_link_clicks", "int"),
    Field("spend", "spend", "decimal"),
    Field("actions", "actions", "json"),
    Field("action_values", "action_values", "json"),
    action_field("link_clicks", "actions", "link_click"),
    action_field("landing_page_views", "actions", "landing_page_view"),
    action_field("leads", "actions", "lead"),
    action_field("website_leads", "actions", "offsite_conversion.fb_pixel_lead"),
    action_field("website_lead_value", "action_values", "offsite_conversion.fb_pixel_lead"),
    action_field("purchases", "actions", "omni_purchase"),
    action_field("purchase_value", "action_values", "omni_purchase"),
)

CAMPAIGN_DAILY_INSIGHTS = metric_stream(
    "campaign_daily_insights",
    "date_start",
    (*_INSIGHT_METRICS, Field("objective", "objective")),
    {"kind": "insights", "level": "campaign", "entity_ids": ("campaign_id",)},
)

ADSET_DAILY_INSIGHTS = metric_stream(
    "adset_daily_insights",
    "date_start",
    (*_INSIGHT_METRICS, Field("adset_id", "adset_id"), Field("adset_name", "adset_name")),
    {"kind": "insights", "level": "adset", "entity_ids": ("campaign_id", "adset_id")},
)

#: Every stream, in load order.
STREAMS: tuple[Stream, ...] = (AD_ACCOUNTS, CAMPAIGNS, ADSETS, CAMPAIGN_DAILY_INSIGHTS, ADSET_DAILY_INSIGHTS)
