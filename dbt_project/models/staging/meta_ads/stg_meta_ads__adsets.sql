{#- One row per Meta ad set, deleted and archived ones flagged (effective_status DELETED / ARCHIVED). -#}
{%- set relation = source('meta_ads', 'adsets') -%}
{%- set columns = cg_source_columns(relation) -%}

with source as (
    select * from {{ cg_source_relation(relation, columns) }}
)

select
    {{ cg_column(columns, 'id', 'varchar') }} as ad_group_id,
    {{ cg_column(columns, 'account_id', 'varchar') }} as ad_account_id,
    {{ cg_column(columns, 'name', 'varchar') }} as ad_group_name,
    {{ cg_column(columns, 'campaign_id', 'varchar') }} as platform_campaign_id,
    {{ cg_column(columns, 'optimization_goal', 'varchar') }} as optimization_goal,
    {{ cg_column(columns, 'billing_event', 'varchar') }} as billing_event,
    {{ cg_meta_ads_object_columns(columns, 'ad_group_status') }}
from source
