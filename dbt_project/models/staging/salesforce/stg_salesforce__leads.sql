{#- One row per Salesforce Lead, converted leads included; deleted and merged leads flagged, not dropped. -#}
{%- set relation = source('salesforce', 'lead') -%}
{%- set columns = cg_source_columns(relation) -%}

with source as (
    select * from {{ cg_source_relation(relation, columns) }}
),

renamed as (
    select
        {{ cg_column(columns, 'id', 'varchar') }} as salesforce_lead_id,
        {{ cg_column(columns, 'first_name', 'varchar') }} as first_name,
        {{ cg_column(columns, 'last_name', 'varchar') }} as last_name,
        {{ cg_column(columns, 'title', 'varchar') }} as title,
        {{ cg_column(columns, 'company', 'varchar') }} as company_name,
        {{ cg_column(columns, 'email', 'varchar') }} as email_raw,
        {{ normalize_email(cg_column(columns, 'email', 'varchar')) }} as email,
        {{ cg_column(columns, 'phone', 'varchar') }} as phone,
        {{ cg_column(columns, 'status', 'varchar') }} as lead_status,
        {{ cg_column(columns, 'lead_source', 'varchar') }} as lead_source,
        {{ cg_column(columns, 'industry', 'varchar') }} as industry,
        {{ cg_column(columns, 'country', 'varchar') }} as country,
        {{ cg_column(columns, 'number_of_employees', 'bigint') }} as employee_count,
        coalesce({{ cg_column(columns, 'is_converted', 'boolean') }}, false) as is_converted,
        {{ cg_column(columns, 'converted_date', 'date') }} as converted_date,
        {{ cg_column(columns, 'converted_account_id', 'varchar') }} as converted_salesforce_account_id,
        {{ cg_column(columns, 'converted_contact_id', 'varchar') }} as converted_salesforce_contact_id,
        {{ cg_column(columns, 'converted_opportunity_id', 'varchar') }} as converted_salesforce_opportunity_id,
        {{ cg_column(columns, 'owner_id', 'varchar') }} as salesforce_owner_id,
        {{ cg_salesforce_currency(columns) }} as currency_code,
        {{ cg_column(columns, 'master_record_id', 'varchar') }} as salesforce_master_lead_id,
        {{ cg_salesforce_record_stamps(columns) }}
    from source
)

select * from renamed
