{#-
    One row per Google Ads campaign and customer-local day: delivery, cost and Google's own conversions, in the
    customer's currency (cost = cost_micros / 1,000,000, exact) and time zone (both stamped on every row).
-#}
{%- set relation = source('google_ads', 'campaign_daily_metrics') -%}
{%- set columns = cg_source_columns(relation) -%}

with source as (
    select * from {{ cg_source_relation(relation, columns) }}
)

select
    {{ cg_column(columns, 'row_key', 'varchar') }} as metric_row_key,
    {{ cg_column(columns, 'date', 'date') }} as date_day,
    {{ cg_column(columns, 'customer_id', 'varchar') }} as ad_account_id,
    {{ cg_column(columns, 'campaign_id', 'varchar') }} as platform_campaign_id,
    {{ cg_column(columns, 'campaign_name', 'varchar') }} as campaign_name,
    upper({{ cg_column(columns, 'campaign_status', 'varchar') }}) as campaign_status,
    upper({{ cg_column(columns, 'advertising_channel_type', 'varchar') }}) as campaign_type,
    {{ cg_google_ads_metric_columns(columns) }}
from source
