{#- One row per HubSpot owner; archived (deactivated) owners flagged. -#}
{%- set relation = source('hubspot', 'owners') -%}
{%- set columns = cg_source_columns(relation) -%}

with source as (
    select * from {{ cg_source_relation(relation, columns) }}
),

renamed as (
    select
        {{ cg_column(columns, 'id', 'varchar') }} as hubspot_owner_id,
        nullif(trim(coalesce({{ cg_column(columns, 'first_name', 'varchar') }}, '') || ' '
            || coalesce({{ cg_column(columns, 'last_name', 'varchar') }}, '')), '') as owner_name,
        {{ cg_column(columns, 'first_name', 'varchar') }} as first_name,
        {{ cg_column(columns, 'last_name', 'varchar') }} as last_name,
        {{ normalize_email(cg_column(columns, 'email', 'varchar')) }} as email,
        cast({{ cg_column(columns, 'user_id', 'bigint') }} as varchar) as hubspot_user_id,
        coalesce({{ cg_column(columns, 'archived', 'boolean') }}, false) or {{ cg_is_vanished(columns) }} as is_deleted,
        {{ cg_column(columns, 'created_at', 'timestamp with time zone') }} as created_at,
        {{ cg_column(columns, 'updated_at', 'timestamp with time zone') }} as modified_at,
        {{ cg_column(columns, '_loaded_at', 'timestamp with time zone') }} as loaded_at
    from source
)

select * from renamed
