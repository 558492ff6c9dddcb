{#- One row per HubSpot deal pipeline stage; probability as a percent (0-100); won = closed with probability 100. -#}
{%- set relation = source('hubspot', 'deal_pipeline_stages') -%}
{%- set columns = cg_source_columns(relation) -%}

with source as (
    select * from {{ cg_source_relation(relation, columns) }}
),

renamed as (
    select
        {{ cg_column(columns, 'stage_key', 'varchar') }} as stage_key,
        {{ cg_column(columns, 'pipeline_id', 'varchar') }} as pipeline_id,
        {{ cg_column(columns, 'pipeline_label', 'varchar') }} as pipeline_label,
        {{ cg_column(columns, 'pipeline_display_order', 'bigint') }} as pipeline_display_order,
        {{ cg_column(columns, 'stage_id', 'varchar') }} as stage_id,
        {{ cg_column(columns, 'stage_label', 'varchar') }} as stage_label,
        {{ cg_column(columns, 'display_order', 'bigint') }} as display_order,
        {{ cg_column(columns, 'probability', 'numeric(38, 9)') }} * 100 as probability_pct,
        coalesce({{ cg_column(columns, 'is_closed', 'boolean') }}, false) as is_closed,
        coalesce({{ cg_column(columns, 'is_closed', 'boolean') }}, false)
            and {{ cg_column(columns, 'probability', 'numeric(38, 9)') }} >= 1 as is_won,
        coalesce({{ cg_column(columns, 'archived', 'boolean') }}, false) or {{ cg_is_vanished(columns) }} as is_deleted,
        {{ cg_column(columns, '_loaded_at', 'timestamp with time zone') }} as loaded_at
    from source
)

select * from renamed
