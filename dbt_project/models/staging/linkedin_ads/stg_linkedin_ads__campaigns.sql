{#-
    One row per LinkedIn campaign (one ad format of a marketing campaign; LinkedIn's campaign group is a budget
    container above it), removed / pending-deletion ones flagged deleted, with the UTM campaign key read from its
    name ("LI - 2026q2_webinar_dataops - Sponsored Content" -> 2026q2_webinar_dataops). URNs become plain ids.
-#}
{%- set relation = source('linkedin_ads', 'campaigns') -%}
{%- set columns = cg_source_columns(relation) -%}

with source as (
    select * from {{ cg_source_relation(relation, columns) }}
)

select
    {{ cg_linkedin_id(cg_column(columns, 'id', 'varchar')) }} as platform_campaign_id,
    {{ cg_linkedin_id(cg_column(columns, 'account', 'varchar')) }} as ad_account_id,
    {{ cg_linkedin_id(cg_column(columns, 'campaign_group', 'varchar')) }} as campaign_group_id,
    {{ cg_column(columns, 'name', 'varchar') }} as campaign_name,
    {{ cg_utm_key_from_name(cg_column(columns, 'name', 'varchar')) }} as utm_campaign,
    upper({{ cg_column(columns, 'status', 'varchar') }}) as campaign_status,
    upper({{ cg_column(columns, 'objective_type', 'varchar') }}) as campaign_type,
    upper({{ cg_column(columns, 'type', 'varchar') }}) as ad_format_type,
    upper({{ cg_column(columns, 'cost_type', 'varchar') }}) as cost_type,
    {{ cg_column(columns, 'daily_budget_amount', 'numeric(38, 9)') }} as daily_budget_amount,
    upper({{ cg_column(columns, 'daily_budget_currency_code', 'varchar') }}) as daily_budget_currency_code,
    {{ cg_column(columns, 'run_schedule_start', 'timestamp with time zone') }} as start_at,
    {{ cg_column(columns, 'run_schedule_end', 'timestamp with time zone') }} as end_at,
    {{ cg_column(columns, 'created_at', 'timestamp with time zone') }} as created_at,
    {{ cg_column(columns, 'last_modified_at', 'timestamp with time zone') }} as modified_at,
    coalesce({{ cg_column(columns, 'test', 'boolean') }}, false) as is_test,
    (coalesce(upper({{ cg_column(columns, 'status', 'varchar') }}) in ('REMOVED', 'PENDING_DELETION'), false)
        or {{ cg_is_vanished(columns) }}) as is_deleted,
    {{ cg_column(columns, '_loaded_at', 'timestamp with time zone') }} as loaded_at
from source
