{#- One row per Salesforce User (the owners of records). -#}
{%- set relation = source('salesforce', 'user') -%}
{%- set columns = cg_source_columns(relation) -%}

with source as (
    select * from {{ cg_source_relation(relation, columns) }}
),

renamed as (
    select
        {{ cg_column(columns, 'id', 'varchar') }} as salesforce_user_id,
        coalesce(
            {{ cg_column(columns, 'name', 'varchar') }},
            nullif(trim(coalesce({{ cg_column(columns, 'first_name', 'varchar') }}, '') || ' '
                || coalesce({{ cg_column(columns, 'last_name', 'varchar') }}, '')), '')
        ) as user_name,
        {{ cg_column(columns, 'first_name', 'varchar') }} as first_name,
        {{ cg_column(columns, 'last_name', 'varchar') }} as last_name,
        {{ normalize_email(cg_column(columns, 'email', 'varchar')) }} as email,
        {{ cg_column(columns, 'username', 'varchar') }} as username,
        coalesce({{ cg_column(columns, 'is_active', 'boolean') }}, true) as is_active,
        {{ cg_column(columns, 'user_type', 'varchar') }} as user_type,
        {{ cg_column(columns, 'manager_id', 'varchar') }} as salesforce_manager_id,
        {{ cg_column(columns, 'created_date', 'timestamp with time zone') }} as created_at,
        coalesce(
            {{ cg_column(columns, 'system_modstamp', 'timestamp with time zone') }},
            {{ cg_column(columns, 'last_modified_date', 'timestamp with time zone') }}
        ) as modified_at,
        {{ cg_column(columns, '_loaded_at', 'timestamp with time zone') }} as loaded_at
    from source
)

select * from renamed
