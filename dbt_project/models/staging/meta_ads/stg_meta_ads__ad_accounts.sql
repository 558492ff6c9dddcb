{#-
    One row per Meta ad account: name, currency and reporting time zone. account_status 2 (disabled) and
    101 (closed) count as deleted.
-#}
{%- set relation = source('meta_ads', 'ad_accounts') -%}
{%- set columns = cg_source_columns(relation) -%}

with source as (
    select * from {{ cg_source_relation(relation, columns) }}
)

select
    coalesce(
        {{ cg_column(columns, 'account_id', 'varchar') }},
        replace({{ cg_column(columns, 'id', 'varchar') }}, 'act_', '')
    ) as ad_account_id,
    {{ cg_column(columns, 'name', 'varchar') }} as ad_account_name,
    upper({{ cg_column(columns, 'currency', 'varchar') }}) as currency_code,
    {{ cg_column(columns, 'timezone_name', 'varchar') }} as account_time_zone,
    {{ cg_column(columns, 'account_status', 'bigint') }} as account_status,
    (coalesce({{ cg_column(columns, 'account_status', 'bigint') }} in (2, 101), false) or {{ cg_is_vanished(columns) }})
        as is_deleted,
    {{ cg_column(columns, '_loaded_at', 'timestamp with time zone') }} as loaded_at
from source
