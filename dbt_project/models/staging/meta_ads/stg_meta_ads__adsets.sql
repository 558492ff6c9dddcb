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
    upper({{ cg_column(columns, 'status', 'varchar') }}) as configured_status,
    upper(coalesce(
        {{ cg_column(columns, 'effective_status', 'varchar') }}, {{ cg_column(columns, 'status', 'varchar') }}
    )) as ad_group_status,
    {{ cg_column(columns, 'daily_budget', 'bigint') }} as daily_budget_minor_units,
    {{ cg_column(columns, 'lifetime_budget', 'bigint') }} as lifetime_budget_minor_units,
    {{ cg_column(columns, 'bid_strategy', 'varchar') }} as bid_strategy,
    {{ cg_column(columns, 'start_time', 'timestamp with time zone') }} as start_at,
    {{ cg_column(columns, 'created_time', 'timestamp with time zone') }} as created_at,
    {{ cg_column(columns, 'updated_time', 'timestamp with time zone') }} as modified_at,
    coalesce(upper(coalesce(
        {{ cg_column(columns, 'effective_status', 'varchar') }}, {{ cg_column(columns, 'status', 'varchar') }}
    )) in ('DELETED', 'ARCHIVED'), false) as is_deleted,
    {{ cg_column(columns, '_loaded_at', 'timestamp with time zone') }} as loaded_at
from source
