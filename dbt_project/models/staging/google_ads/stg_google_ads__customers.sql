{#- One row per Google Ads customer (ad account): name, currency and reporting time zone. -#}
{%- set relation = source('google_ads', 'customers') -%}
{%- set columns = cg_source_columns(relation) -%}

with source as (
    select * from {{ cg_source_relation(relation, columns) }}
)

select
    {{ cg_column(columns, 'customer_id', 'varchar') }} as ad_account_id,
    {{ cg_column(columns, 'descriptive_name', 'varchar') }} as ad_account_name,
    upper({{ cg_column(columns, 'currency_code', 'varchar') }}) as currency_code,
    {{ cg_column(columns, 'time_zone', 'varchar') }} as account_time_zone,
    coalesce({{ cg_column(columns, 'manager', 'boolean') }}, false) as is_manager,
    upper({{ cg_column(columns, 'status', 'varchar') }}) as account_status,
    (coalesce(upper({{ cg_column(columns, 'status', 'varchar') }}) in ('CANCELED', 'CLOSED'), false)
        or {{ cg_is_vanished(columns) }}) as is_deleted,
    {{ cg_column(columns, '_loaded_at', 'timestamp with time zone') }} as loaded_at
from source
