{#- One row per Salesforce Account, typed and renamed; deleted and merged accounts flagged, not dropped. -#}
{%- set relation = source('salesforce', 'account') -%}
{%- set columns = cg_source_columns(relation) -%}

with source as (
    select * from {{ cg_source_relation(relation, columns) }}
),

renamed as (
    select
        {{ cg_column(columns, 'id', 'varchar') }} as salesforce_account_id,
        {{ cg_column(columns, 'name', 'varchar') }} as account_name,
        {{ cg_column(columns, 'type', 'varchar') }} as account_type,
        {{ cg_column(columns, 'industry', 'varchar') }} as industry,
        {{ cg_column(columns, 'annual_revenue', 'numeric(38, 9)') }} as annual_revenue,
        {{ cg_salesforce_currency(columns) }} as annual_revenue_currency,
        {{ cg_column(columns, 'number_of_employees', 'bigint') }} as employee_count,
        {{ cg_column(columns, 'website', 'varchar') }} as website,
        {{ normalize_domain(cg_column(columns, 'website', 'varchar')) }} as website_domain,
        {{ cg_column(columns, 'billing_city', 'varchar') }} as billing_city,
        {{ cg_column(columns, 'billing_country', 'varchar') }} as country,
        {{ cg_column(columns, 'owner_id', 'varchar') }} as salesforce_owner_id,
        {{ cg_column(columns, 'parent_id', 'varchar') }} as salesforce_parent_account_id,
        {{ cg_column(columns, 'master_record_id', 'varchar') }} as salesforce_master_account_id,
        {{ cg_salesforce_record_stamps(columns) }}
    from source
)

select * from renamed
