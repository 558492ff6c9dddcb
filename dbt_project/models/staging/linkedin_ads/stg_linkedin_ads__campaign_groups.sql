{#- One row per LinkedIn campaign group (a budget container); removed / pending-deletion ones flagged deleted. -#}
{%- set relation = source('linkedin_ads', 'campaign_groups') -%}
{%- set columns = cg_source_columns(relation) -%}

with source as (
    select * from {{ cg_source_relation(relation, columns) }}
)

select
    {{ cg_linkedin_id(cg_column(columns, 'id', 'varchar')) }} as campaign_group_id,
    {{ cg_linkedin_id(cg_column(columns, 'account', 'varchar')) }} as ad_account_id,
    {{ cg_column(columns, 'name', 'varchar') }} as campaign_group_name,
    upper({{ cg_column(columns, 'status', 'varchar') }}) as campaign_group_status,
    {{ cg_column(columns, 'total_budget_amount', 'numeric(38, 9)') }} as total_budget_amount,
    upper({{ cg_column(columns, 'total_budget_currency_code', 'varchar') }}) as total_budget_currency_code,
    {{ cg_column(columns, 'run_schedule_start', 'timestamp with time zone') }} as start_at,
    {{ cg_column(columns, 'run_schedule_end', 'timestamp with time zone') }} as end_at,
    (coalesce(upper({{ cg_column(columns, 'status', 'varchar') }}) in ('REMOVED', 'PENDING_DELETION'), false)
        or {{ cg_is_vanished(columns) }}) as is_deleted,
    {{ cg_column(columns, '_loaded_at', 'timestamp with time zone') }} as loaded_at
from source
