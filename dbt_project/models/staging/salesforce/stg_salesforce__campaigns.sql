{#- One row per Salesforce Campaign; the UTM campaign key is read from the name (Salesforce has no UTM field). -#}
{%- set relation = source('salesforce', 'campaign') -%}
{%- set columns = cg_source_columns(relation) -%}

with source as (
    select * from {{ cg_source_relation(relation, columns) }}
),

renamed as (
    select
        {{ cg_column(columns, 'id', 'varchar') }} as salesforce_campaign_id,
        {{ cg_column(columns, 'name', 'varchar') }} as campaign_name,
        {{ cg_utm_key_from_name(cg_column(columns, 'name', 'varchar')) }} as utm_campaign,
        {{ cg_column(columns, 'parent_id', 'varchar') }} as salesforce_parent_campaign_id,
        {{ cg_column(columns, 'type', 'varchar') }} as campaign_type,
        {{ cg_column(columns, 'status', 'varchar') }} as campaign_status,
        {{ cg_column(columns, 'start_date', 'date') }} as start_date,
        {{ cg_column(columns, 'end_date', 'date') }} as end_date,
        {{ cg_column(columns, 'budgeted_cost', 'numeric(38, 9)') }} as budgeted_cost,
        {{ cg_column(columns, 'actual_cost', 'numeric(38, 9)') }} as actual_cost,
        {{ cg_column(columns, 'expected_revenue', 'numeric(38, 9)') }} as expected_revenue,
        {{ cg_salesforce_currency(columns) }} as currency_code,
        coalesce({{ cg_column(columns, 'is_active', 'boolean') }}, false) as is_active,
        {{ cg_column(columns, 'number_of_leads', 'bigint') }} as number_of_leads,
        {{ cg_column(columns, 'number_of_contacts', 'bigint') }} as number_of_contacts,
        {{ cg_column(columns, 'number_of_responses', 'bigint') }} as number_of_responses,
        {{ cg_column(columns, 'number_of_opportunities', 'bigint') }} as number_of_opportunities,
        {{ cg_column(columns, 'number_of_won_opportunities', 'bigint') }} as number_of_won_opportunities,
        {{ cg_column(columns, 'amount_all_opportunities', 'numeric(38, 9)') }} as amount_all_opportunities,
        {{ cg_column(columns, 'amount_won_opportunities', 'numeric(38, 9)') }} as amount_won_opportunities,
        {{ cg_column(columns, 'owner_id', 'varchar') }} as salesforce_owner_id,
        {{ cg_salesforce_record_stamps(columns, merged=false) }}
    from source
)

select * from renamed
