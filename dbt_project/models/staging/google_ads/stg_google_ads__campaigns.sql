{#-
    One row per Google Ads campaign, removed ones flagged (status REMOVED), with the UTM campaign key read
    from its name ("2026Q2_WEBINAR_DATAOPS | Search | NA" -> 2026q2_webinar_dataops). Google writes
    2037-12-30 as the end date of a campaign without one: that becomes null.
-#}
{%- set relation = source('google_ads', 'campaigns') -%}
{%- set columns = cg_source_columns(relation) -%}

with source as (
    select * from {{ cg_source_relation(relation, columns) }}
)

select
    {{ cg_column(columns, 'campaign_id', 'varchar') }} as platform_campaign_id,
    {{ cg_column(columns, 'customer_id', 'varchar') }} as ad_account_id,
    {{ cg_column(columns, 'name', 'varchar') }} as campaign_name,
    {{ cg_utm_key_from_name(cg_column(columns, 'name', 'varchar')) }} as utm_campaign,
    upper({{ cg_column(columns, 'status', 'varchar') }}) as campaign_status,
    upper({{ cg_column(columns, 'serving_status', 'varchar') }}) as serving_status,
    upper({{ cg_column(columns, 'advertising_channel_type', 'varchar') }}) as campaign_type,
    {{ cg_column(columns, 'bidding_strategy_type', 'varchar') }} as bidding_strategy_type,
    {{ cg_column(columns, 'start_date', 'date') }} as start_date,
    case when {{ cg_column(columns, 'end_date', 'date') }} < cast('2037-12-30' as date)
        then {{ cg_column(columns, 'end_date', 'date') }} end as end_date,
    coalesce(upper({{ cg_column(columns, 'status', 'varchar') }}) = 'REMOVED', false) as is_deleted,
    {{ cg_column(columns, '_loaded_at', 'timestamp with time zone') }} as loaded_at
from source
