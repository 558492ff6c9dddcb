{#-
    One row per LinkedIn campaign and (UTC) day. spend is cost_in_local_currency, in the account's currency;
    LinkedIn's own USD figure stays apart in spend_usd_reported and is never mixed with it.
    platform_conversions: the sum of the metric columns in var linkedin_ads_conversion_fields (default
    external_website_conversions + one_click_leads); platform_conversion_value: the local-currency value.
-#}
{%- set relation = source('linkedin_ads', 'campaign_daily_analytics') -%}
{%- set columns = cg_source_columns(relation) -%}
{%- set conversion_fields = var('linkedin_ads_conversion_fields',
                                ['external_website_conversions', 'one_click_leads']) -%}

with source as (
    select * from {{ cg_source_relation(relation, columns) }}
)

select
    {{ cg_column(columns, 'row_key', 'varchar') }} as metric_row_key,
    {{ cg_column(columns, 'date', 'date') }} as date_day,
    {{ cg_linkedin_id(cg_column(columns, 'account_id', 'varchar')) }} as ad_account_id,
    {{ cg_linkedin_id(cg_column(columns, 'campaign_id', 'varchar')) }} as platform_campaign_id,
    upper({{ cg_column(columns, 'currency_code', 'varchar') }}) as currency_code,
    coalesce({{ cg_column(columns, 'account_time_zone', 'varchar') }}, 'UTC') as account_time_zone,
    coalesce({{ cg_column(columns, 'impressions', 'bigint') }}, 0) as impressions,
    coalesce({{ cg_column(columns, 'clicks', 'bigint') }}, 0) as clicks,
    {{ cg_column(columns, 'landing_page_clicks', 'bigint') }} as landing_page_clicks,
    coalesce({{ cg_column(columns, 'cost_in_local_currency', 'numeric(38, 9)') }}, 0) as spend,
    {{ cg_column(columns, 'cost_in_usd', 'numeric(38, 9)') }} as spend_usd_reported,
    cast(
        {%- for field in conversion_fields %}
        coalesce({{ cg_column(columns, field, 'numeric(38, 9)') }}, 0){% if not loop.last %} +{% endif %}
        {%- else %} 0 {%- endfor %}
    as numeric(38, 9)) as platform_conversions,
    coalesce({{ cg_column(columns, 'conversion_value_in_local_currency', 'numeric(38, 9)') }}, 0)
        as platform_conversion_value,
    {{ cg_column(columns, 'external_website_conversions', 'bigint') }} as external_website_conversions,
    {{ cg_column(columns, 'one_click_leads', 'bigint') }} as one_click_leads,
    {{ cg_column(columns, 'total_engagements', 'bigint') }} as total_engagements,
    {{ cg_column(columns, '_loaded_at', 'timestamp with time zone') }} as loaded_at
from source
