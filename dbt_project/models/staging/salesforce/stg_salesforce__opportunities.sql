{#- One row per Salesforce Opportunity; deleted opportunities flagged, not dropped. Probability is a percent (0-100). -#}
{%- set relation = source('salesforce', 'opportunity') -%}
{%- set columns = cg_source_columns(relation) -%}

with source as (
    select * from {{ cg_source_relation(relation, columns) }}
),

renamed as (
    select
        {{ cg_column(columns, 'id', 'varchar') }} as salesforce_opportunity_id,
        {{ cg_column(columns, 'account_id', 'varchar') }} as salesforce_account_id,
        {{ cg_column(columns, 'name', 'varchar') }} as opportunity_name,
        {{ cg_column(columns, 'stage_name', 'varchar') }} as stage,
        {{ cg_column(columns, 'amount', 'numeric(38, 9)') }} as amount,
        {{ cg_salesforce_currency(columns) }} as currency_code,
        {{ cg_column(columns, 'probability', 'numeric(38, 9)') }} as probability_pct,
        {{ cg_column(columns, 'expected_revenue', 'numeric(38, 9)') }} as expected_revenue,
        {{ cg_column(columns, 'close_date', 'date') }} as close_date,
        coalesce({{ cg_column(columns, 'is_closed', 'boolean') }}, false) as is_closed,
        coalesce({{ cg_column(columns, 'is_won', 'boolean') }}, false) as is_won,
        {{ cg_column(columns, 'forecast_category_name', 'varchar') }} as forecast_category,
        {{ cg_column(columns, 'type', 'varchar') }} as opportunity_type_raw,
        {{ cg_column(columns, 'lead_source', 'varchar') }} as lead_source,
        {{ cg_column(columns, 'campaign_id', 'varchar') }} as salesforce_campaign_id,
        {{ cg_column(columns, 'owner_id', 'varchar') }} as salesforce_owner_id,
        {{ cg_salesforce_record_stamps(columns, merged=false) }}
    from source
)

select * from renamed
