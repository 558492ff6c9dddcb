{#- One row per Salesforce CampaignMember (a lead or a contact in a campaign); deleted members flagged. -#}
{%- set relation = source('salesforce', 'campaign_member') -%}
{%- set columns = cg_source_columns(relation) -%}

with source as (
    select * from {{ cg_source_relation(relation, columns) }}
),

renamed as (
    select
        {{ cg_column(columns, 'id', 'varchar') }} as salesforce_campaign_member_id,
        {{ cg_column(columns, 'campaign_id', 'varchar') }} as salesforce_campaign_id,
        {{ cg_column(columns, 'lead_id', 'varchar') }} as salesforce_lead_id,
        {{ cg_column(columns, 'contact_id', 'varchar') }} as salesforce_contact_id,
        {{ cg_column(columns, 'status', 'varchar') }} as member_status,
        coalesce({{ cg_column(columns, 'has_responded', 'boolean') }}, false) as has_responded,
        {{ cg_column(columns, 'first_responded_date', 'date') }} as first_responded_date,
        {{ cg_salesforce_record_stamps(columns, merged=false) }}
    from source
)

select * from renamed
