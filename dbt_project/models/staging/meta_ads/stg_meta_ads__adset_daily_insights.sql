{#-
    One row per Meta ad set and account-local day,
    in the account's currency and time zone (both stamped on every row).
    platform_conversions / platform_conversion_value: the actions / action_values of the action types in var
    meta_ads_conversion_action_types (default: the website pixel lead), summed from the JSON arrays; the
    types must not overlap (Meta's "lead" already includes "offsite_conversion.fb_pixel_lead").
-#}
{%- set relation = source('meta_ads', 'adset_daily_insights') -%}
{%- set columns = cg_source_columns(relation) -%}

with source as (
    select * from {{ cg_source_relation(relation, columns) }}
)

select
    {{ cg_column(columns, 'row_key', 'varchar') }} as metric_row_key,
    {{ cg_column(columns, 'date', 'date') }} as date_day,
    {{ cg_column(columns, 'account_id', 'varchar') }} as ad_account_id,
    {{ cg_column(columns, 'campaign_id', 'varchar') }} as platform_campaign_id,
    {{ cg_column(columns, 'campaign_name', 'varchar') }} as campaign_name,
    {{ cg_column(columns, 'adset_id', 'varchar') }} as ad_group_id,
    {{ cg_column(columns, 'adset_name', 'varchar') }} as ad_group_name,
    {{ cg_meta_ads_insight_columns(columns) }}
from source
