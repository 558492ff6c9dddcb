{#-
    One row per HubSpot deal; archived or GDPR-deleted deals flagged (is_deleted), deals merged into another flagged
    (is_merged_away). The company is the first associated company id, which the connector puts first when HubSpot
    labels it Primary (else the lowest id); the contact is the first (lowest) associated contact id, deals having no
    primary contact. Probability is converted to a percent (0-100) like Salesforce's.
-#}
{%- set relation = source('hubspot', 'deals') -%}
{%- set columns = cg_source_columns(relation) -%}

with source as (
    select * from {{ cg_source_relation(relation, columns) }}
),

renamed as (
    select
        {{ cg_column(columns, 'id', 'varchar') }} as hubspot_deal_id,
        {{ cg_column(columns, 'dealname', 'varchar') }} as deal_name,
        {{ cg_column(columns, 'amount', 'numeric(38, 9)') }} as amount,
        upper(coalesce(nullif(trim({{ cg_column(columns, 'deal_currency_code', 'varchar') }}), ''),
            '{{ var("hubspot_company_currency", "USD") }}')) as currency_code,
        {{ cg_column(columns, 'dealstage', 'varchar') }} as stage_id,
        {{ cg_column(columns, 'pipeline', 'varchar') }} as pipeline_id,
        {{ cg_column(columns, 'closedate', 'timestamp with time zone') }} as close_at,
        {{ cg_column(columns, 'dealtype', 'varchar') }} as deal_type_raw,
        {{ cg_column(columns, 'hubspot_owner_id', 'varchar') }} as hubspot_owner_id,
        {{ cg_column(columns, 'hs_is_closed', 'boolean') }} as is_closed,
        {{ cg_column(columns, 'hs_is_closed_won', 'boolean') }} as is_won,
        {{ cg_column(columns, 'hs_deal_stage_probability', 'numeric(38, 9)') }} * 100 as probability_pct,
        {{ cg_column(columns, 'hs_analytics_source', 'varchar') }} as analytics_source,
        {{ cg_json_array_first(cg_column(columns, 'associated_companies_ids', 'varchar')) }} as hubspot_company_id,
        {{ cg_json_array_first(cg_column(columns, 'associated_contacts_ids', 'varchar')) }} as hubspot_contact_id,
        {{ cg_hubspot_merged_object_ids(columns) }} as merged_object_ids,
        {{ cg_hubspot_record_stamps(columns, deleted_at=false) }}
    from source
),

{{ cg_hubspot_select_with_merges('renamed', 'hubspot_deal_id', columns) }}
