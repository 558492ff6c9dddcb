{#-
    One row per HubSpot company; archived or GDPR-deleted companies flagged (is_deleted), companies merged into
    another flagged (is_merged_away, merged_into_hubspot_company_id from the survivor's
    hs_merged_object_ids), not dropped.
-#}
{%- set relation = source('hubspot', 'companies') -%}
{%- set columns = cg_source_columns(relation) -%}

with source as (
    select * from {{ cg_source_relation(relation, columns) }}
),

renamed as (
    select
        {{ cg_column(columns, 'id', 'varchar') }} as hubspot_company_id,
        {{ cg_column(columns, 'name', 'varchar') }} as company_name,
        {{ cg_column(columns, 'domain', 'varchar') }} as domain,
        {{ cg_column(columns, 'website', 'varchar') }} as website,
        coalesce(
            {{ normalize_domain(cg_column(columns, 'domain', 'varchar')) }},
            {{ normalize_domain(cg_column(columns, 'website', 'varchar')) }}
        ) as website_domain,
        {{ cg_column(columns, 'industry', 'varchar') }} as industry_code,
        {{ cg_hubspot_label(cg_column(columns, 'industry', 'varchar')) }} as industry,
        {{ cg_column(columns, 'numberofemployees', 'bigint') }} as employee_count,
        {{ cg_column(columns, 'annualrevenue', 'numeric(38, 9)') }} as annual_revenue,
        case when {{ cg_column(columns, 'annualrevenue', 'numeric(38, 9)') }} is not null
            then '{{ var("hubspot_company_currency", "USD") }}' end as annual_revenue_currency,
        {{ cg_column(columns, 'city', 'varchar') }} as city,
        {{ cg_column(columns, 'country', 'varchar') }} as country,
        {{ cg_column(columns, 'hubspot_owner_id', 'varchar') }} as hubspot_owner_id,
        {{ cg_lifecycle_stage(cg_column(columns, 'lifecyclestage', 'varchar')) }} as lifecycle_stage,
        nullif(trim({{ cg_column(columns, 'salesforceaccountid', 'varchar') }}), '') as salesforce_account_id,
        {{ cg_hubspot_merged_object_ids(columns) }} as merged_object_ids,
        {{ cg_hubspot_record_stamps(columns) }}
    from source
),

{{ cg_hubspot_select_with_merges('renamed', 'hubspot_company_id', columns) }}
