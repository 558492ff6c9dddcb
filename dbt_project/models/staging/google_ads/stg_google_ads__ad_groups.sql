{#- One row per Google Ads ad group, removed ones flagged (status REMOVED); bids in the customer's currency. -#}
{%- set relation = source('google_ads', 'ad_groups') -%}
{%- set columns = cg_source_columns(relation) -%}

with source as (
    select * from {{ cg_source_relation(relation, columns) }}
)

select
    {{ cg_column(columns, 'ad_group_id', 'varchar') }} as ad_group_id,
    {{ cg_column(columns, 'campaign_id', 'varchar') }} as platform_campaign_id,
    {{ cg_column(columns, 'customer_id', 'varchar') }} as ad_account_id,
    {{ cg_column(columns, 'name', 'varchar') }} as ad_group_name,
    upper({{ cg_column(columns, 'status', 'varchar') }}) as ad_group_status,
    upper({{ cg_column(columns, 'type', 'varchar') }}) as ad_group_type,
    coalesce(
        {{ cg_column(columns, 'cpc_bid', 'numeric(38, 9)') }},
        cast({{ cg_column(columns, 'cpc_bid_micros', 'bigint') }} / 1000000.0 as numeric(38, 9))
    ) as cpc_bid,
    (coalesce(upper({{ cg_column(columns, 'status', 'varchar') }}) = 'REMOVED', false) or {{ cg_is_vanished(columns) }})
        as is_deleted,
    {{ cg_column(columns, '_loaded_at', 'timestamp with time zone') }} as loaded_at
from source
