{#- One row per Salesforce OpportunityHistory entry (a change of stage, amount or close date). -#}
{%- set relation = source('salesforce', 'opportunity_history') -%}
{%- set columns = cg_source_columns(relation) -%}

with source as (
    select * from {{ cg_source_relation(relation, columns) }}
),

renamed as (
    select
        {{ cg_column(columns, 'id', 'varchar') }} as salesforce_opportunity_history_id,
        {{ cg_column(columns, 'opportunity_id', 'varchar') }} as salesforce_opportunity_id,
        {{ cg_column(columns, 'stage_name', 'varchar') }} as stage,
        {{ cg_column(columns, 'amount', 'numeric(38, 9)') }} as amount,
        {{ cg_column(columns, 'expected_revenue', 'numeric(38, 9)') }} as expected_revenue,
        {{ cg_column(columns, 'close_date', 'date') }} as close_date,
        {{ cg_column(columns, 'probability', 'numeric(38, 9)') }} as probability_pct,
        {{ cg_column(columns, 'forecast_category', 'varchar') }} as forecast_category,
        {{ cg_column(columns, 'prev_amount', 'numeric(38, 9)') }} as previous_amount,
        {{ cg_column(columns, 'prev_close_date', 'date') }} as previous_close_date,
        {{ cg_column(columns, 'created_by_id', 'varchar') }} as salesforce_created_by_id,
        {# gone from the source (the loader's _vanished_at) is deleted too, as in cg_salesforce_record_stamps #}
        (coalesce({{ cg_column(columns, 'is_deleted', 'boolean') }}, false)
            or {{ cg_column(columns, '_vanished_at', 'timestamp with time zone') }} is not null) as is_deleted,
        {{ cg_column(columns, 'created_date', 'timestamp with time zone') }} as changed_at,
        {{ cg_column(columns, '_loaded_at', 'timestamp with time zone') }} as loaded_at
    from source
)

select * from renamed
