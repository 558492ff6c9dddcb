{#- One row per Salesforce Contact; deleted and merged contacts flagged, not dropped. -#}
{%- set relation = source('salesforce', 'contact') -%}
{%- set columns = cg_source_columns(relation) -%}

with source as (
    select * from {{ cg_source_relation(relation, columns) }}
),

renamed as (
    select
        {{ cg_column(columns, 'id', 'varchar') }} as salesforce_contact_id,
        {{ cg_column(columns, 'account_id', 'varchar') }} as salesforce_account_id,
        {{ cg_column(columns, 'first_name', 'varchar') }} as first_name,
        {{ cg_column(columns, 'last_name', 'varchar') }} as last_name,
        {{ cg_column(columns, 'title', 'varchar') }} as title,
        {{ cg_column(columns, 'email', 'varchar') }} as email_raw,
        {{ normalize_email(cg_column(columns, 'email', 'varchar')) }} as email,
        {{ cg_column(columns, 'phone', 'varchar') }} as phone,
        {{ cg_column(columns, 'lead_source', 'varchar') }} as lead_source,
        {{ cg_column(columns, 'mailing_city', 'varchar') }} as city,
        {{ cg_column(columns, 'mailing_country', 'varchar') }} as country,
        {{ cg_column(columns, 'owner_id', 'varchar') }} as salesforce_owner_id,
        coalesce({{ cg_column(columns, 'has_opted_out_of_email', 'boolean') }}, false) as has_opted_out_of_email,
        {{ cg_column(columns, 'master_record_id', 'varchar') }} as salesforce_master_contact_id,
        {{ cg_salesforce_record_stamps(columns) }}
    from source
)

select * from renamed
