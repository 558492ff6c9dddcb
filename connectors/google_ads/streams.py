"""The Google Ads resources Common Ground syncs, declared as data.

A field's source is its path in the REST (proto3 JSON) answer, camelCase as the API writes it;
the GAQL field it selects is the same path in snake_case (``metrics.costMicros`` selects
``metrics.cost_micros``). Sources starting with ``_`` are added by the client. Entities have no
modification stamp, so they are read whole each run (full refresh); removed ones stay, with
``status = REMOVED``. Money arrives as micros: ``cost_micros`` keeps the integer, ``cost`` is the
exact decimal in the customer's currency. Daily metrics are in the customer's time zone.
"""

from connectors.ad_metrics import metric_stream
from connectors.schema import Field, Stream

CUSTOMERS = Stream(
    name="customers",
    primary_key="customer_id",
    fields=(
        Field("customer_id", "customer.id"),
        Field("descriptive_name", "customer.descriptiveName"),
        Field("currency_code", "customer.currencyCode"),
        Field("time_zone", "customer.timeZone"),
        Field("manager", "customer.manager", "bool"),
        Field("status", "customer.status"),
    ),
    options={"kind": "customers", "resource": "customer"},
)

CAMPAIGNS = Stream(
    name="campaigns",
    primary_key="campaign_id",
    fields=(
        Field("campaign_id", "campaign.id"),
        Field("customer_id", "customer.id"),
        Field("name", "campaign.name"),
        Field("status", "campaign.status"),
        Field("serving_status", "campaign.servingStatus"),
        Field("advertising_channel_type", "campaign.advertisingChannelType"),
        Field("bidding_strategy_type", "campaign.biddingStrategyType"),
        # Text as Google writes it, "yyyy-MM-dd HH:mm:ss" in the customer's time zone (not UTC, so not a
        # timestamp); no end_date_time when the campaign runs indefinitely. v23 replaced start_date / end_date.
        Field("start_date_time", "campaign.startDateTime"),
        Field("end_date_time", "campaign.endDateTime"),
    ),
    options={"kind": "entity", "resource": "campaign"},
)

AD_GROUPS = Stream(
    name="ad_groups",
    primary_key="ad_group_id",
    fields=(
        Field("ad_group_id", "adGroup.id"),
        Field("campaign_id", "campaign.id"),
        Field("customer_id", "customer.id"),
        Field("name", "adGroup.name"),
        Field("status", "adGroup.status"),
        Field("type", "adGroup.type"),
        Field("cpc_bid_micros", "adGroup.cpcBidMicros", "int"),
        Field("cpc_bid", "adGroup.cpcBidMicros", "micros"),
    ),
    options={"kind": "entity", "resource": "ad_group"},
)

_METRICS = (
    Field("impressions", "metrics.impressions", "int"),
    Field("clicks", "metrics.clicks", "int"),
    Field("cost_micros", "metrics.costMicros", "int"),
    Field("cost", "metrics.costMicros", "micros"),
    Field("conversions", "metrics.conversions", "decimal"),
    Field("conversions_value", "metrics.conversionsValue", "decimal"),
)

CAMPAIGN_DAILY_METRICS = metric_stream(
    "campaign_daily_metrics",
    "segments.date",
    (
        Field("customer_id", "customer.id"),
        Field("campaign_id", "campaign.id"),
        Field("campaign_name", "campaign.name"),
        Field("campaign_status", "campaign.status"),
        Field("advertising_channel_type", "campaign.advertisingChannelType"),
        *_METRICS,
    ),
    {"kind": "metrics", "resource": "campaign", "entity_ids": ("campaign.id",)},
)

AD_GROUP_DAILY_METRICS = metric_stream(
    "ad_group_daily_metrics",
    "segments.date",
    (
        Field("customer_id", "customer.id"),
        Field("campaign_id", "campaign.id"),
        Field("ad_group_id", "adGroup.id"),
        Field("ad_group_name", "adGroup.name"),
        Field("ad_group_status", "adGroup.status"),
        *_METRICS,
    ),
    {"kind": "metrics", "resource": "ad_group", "entity_ids": ("campaign.id", "adGroup.id")},
)

#: Every stream, in load order.
STREAMS: tuple[Stream, ...] = (CUSTOMERS, CAMPAIGNS, AD_GROUPS, CAMPAIGN_DAILY_METRICS, AD_GROUP_DAILY_METRICS)
