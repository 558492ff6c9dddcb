{#-
    One row per LinkedIn ad account: name and currency; LinkedIn reports whole UTC days, so the account's
    reporting time zone is UTC. Removed, cancelled or pending-deletion accounts are flagged deleted.
-#}
{%- set relation = source('linkedin_ads', 'ad_accounts') -%}
{%- set columns = cg_source_columns(relation) -%}

with source as (
    select * from {{ cg_source_relation(relation, columns) }}
)

select
    {{ cg_linkedin_id(cg_column(columns, 'id', 'varchar')) }} as ad_account_id,
    {{ cg_column(columns, 'name', 'varchar') }} as ad_account_name,
    upper({{ cg_column(columns, 'currency', 'varchar') }}) as currency_code,
    'UTC' as account_time_zone,
    upper({{ cg_column(columns, 'status', 'varchar') }}) as account_status,
    {{ cg_column(columns, 'type', 'varchar') }} as account_type,
    coalesce({{ cg_column(columns, 'test', 'boolean') }}, false) as is_test,
    (coalesce(upper({{ cg_column(columns, 'status', 'varchar') }}) in ('REMOVED', 'CANCELED', 'PENDING_DELETION'), false)
        or {{ cg_is_vanished(columns) }}) as is_deleted,
    {{ cg_column(columns, '_loaded_at', 'timestamp with time zone') }} as loaded_at
from source
