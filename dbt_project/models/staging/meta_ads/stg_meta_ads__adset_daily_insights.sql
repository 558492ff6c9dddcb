{#-
    One row per Meta ad set and account-local day, in the account's currency and time zone (both stamped on every row).
    platform_conversions / platform_conversion_value: the actions / action_values of the action types in var
    meta_ads_conversion_action_types (default: the website pixel lead), summed from the JSON arrays; the
    types must not overlap (Meta's "lead" already includes "offsite_conversion.fb_pixel_lead").
-#}
{%- set relation = source('meta_ads', 'adset_daily_insights') -%}
{%- set columns = cg_source_columns(relation) -%}
{%- set action_types = var('meta_ads_conversion_action_types', ['offsite_conversion.fb_pixel_lead']) -%}

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
    upper({{ cg_column(columns, 'currency_code', 'varchar') }}) as currency_code,
    {{ cg_column(columns, 'account_time_zone', 'varchar') }} as account_time_zone,
    coalesce({{ cg_column(columns, 'impressions', 'bigint') }}, 0) as impressions,
    {{ cg_column(columns, 'reach', 'bigint') }} as reach,
    coalesce({{ cg_column(columns, 'clicks', 'bigint') }}, 0) as clicks,
    {{ cg_column(columns, 'inline_link_clicks', 'bigint') }} as inline_link_clicks,
    coalesce({{ cg_column(columns, 'spend', 'numeric(38, 9)') }}, 0) as spend,
    {{ cg_column(columns, 'actions', 'varchar') }} as actions_json,
    {{ cg_column(columns, 'action_values', 'varchar') }} as action_values_json,
    {{ cg_meta_action_total(cg_column(columns, 'actions', 'varchar'), action_types) }} as platform_conversions,
    {{ cg_meta_action_total(cg_column(columns, 'action_values', 'varchar'), action_types) }} as platform_conversion_value,
    coalesce({{ cg_column(columns, 'leads', 'numeric(38, 9)') }}, 0) as leads,
    coalesce({{ cg_column(columns, 'website_leads', 'numeric(38, 9)') }}, 0) as website_leads,
    coalesce({{ cg_column(columns, 'link_clicks', 'numeric(38, 9)') }}, 0) as link_clicks,
    coalesce({{ cg_column(columns, 'purchases', 'numeric(38, 9)') }}, 0) as purchases,
    {{ cg_column(columns, '_loaded_at', 'timestamp with time zone') }} as loaded_at
from source
