{#-
    One row per HubSpot contact; archived or GDPR-deleted contacts flagged (is_deleted), contacts merged into another
    flagged (is_merged_away), not dropped. UTM fields come from the contact's properties, else from
    the first page URL.
-#}
{%- set relation = source('hubspot', 'contacts') -%}
{%- set columns = cg_source_columns(relation) -%}
{%- set first_url = cg_column(columns, 'hs_analytics_first_url', 'varchar') -%}

with source as (
    select * from {{ cg_source_relation(relation, columns) }}
),

renamed as (
    select
        {{ cg_column(columns, 'id', 'varchar') }} as hubspot_contact_id,
        {{ cg_column(columns, 'email', 'varchar') }} as email_raw,
        {{ normalize_email(cg_column(columns, 'email', 'varchar')) }} as email,
        {{ cg_column(columns, 'firstname', 'varchar') }} as first_name,
        {{ cg_column(columns, 'lastname', 'varchar') }} as last_name,
        {{ cg_column(columns, 'jobtitle', 'varchar') }} as title,
        {{ cg_column(columns, 'company', 'varchar') }} as company_name,
        {{ cg_column(columns, 'country', 'varchar') }} as country,
        coalesce(
            nullif(trim({{ cg_column(columns, 'associatedcompanyid', 'varchar') }}), ''),
            {{ cg_json_array_first(cg_column(columns, 'associated_companies_ids', 'varchar')) }}
        ) as hubspot_company_id,
        {{ cg_lifecycle_stage(cg_column(columns, 'lifecyclestage', 'varchar')) }} as lifecycle_stage,
        {{ cg_column(columns, 'hs_lead_status', 'varchar') }} as lead_status,
        {{ cg_column(columns, 'hubspot_owner_id', 'varchar') }} as hubspot_owner_id,
        {{ cg_column(columns, 'hs_analytics_source', 'varchar') }} as analytics_source,
        {{ cg_column(columns, 'hs_analytics_source_data_1', 'varchar') }} as analytics_source_data_1,
        {{ cg_column(columns, 'hs_analytics_source_data_2', 'varchar') }} as analytics_source_data_2,
        {{ first_url }} as first_page_url,
        coalesce(lower(nullif(trim({{ cg_column(columns, 'utm_source', 'varchar') }}), '')),
            {{ cg_url_parameter(first_url, 'utm_source') }}) as utm_source,
        coalesce(lower(nullif(trim({{ cg_column(columns, 'utm_medium', 'varchar') }}), '')),
            {{ cg_url_parameter(first_url, 'utm_medium') }}) as utm_medium,
        coalesce(lower(nullif(trim({{ cg_column(columns, 'utm_campaign', 'varchar') }}), '')),
            {{ cg_url_parameter(first_url, 'utm_campaign') }}) as utm_campaign,
        nullif(trim({{ cg_column(columns, 'salesforcecontactid', 'varchar') }}), '') as salesforce_contact_id,
        nullif(trim({{ cg_column(columns, 'salesforceleadid', 'varchar') }}), '') as salesforce_lead_id,
        {{ cg_hubspot_merged_object_ids(columns) }} as merged_object_ids,
        {{ cg_column(columns, 'hs_lifecyclestage_subscriber_date', 'timestamp with time zone') }} as became_subscriber_at,
        {{ cg_column(columns, 'hs_lifecyclestage_lead_date', 'timestamp with time zone') }} as became_lead_at,
        {{ cg_column(columns, 'hs_lifecyclestage_marketingqualifiedlead_date', 'timestamp with time zone') }} as became_mql_at,
        {{ cg_column(columns, 'hs_lifecyclestage_salesqualifiedlead_date', 'timestamp with time zone') }} as became_sql_at,
        {{ cg_column(columns, 'hs_lifecyclestage_opportunity_date', 'timestamp with time zone') }} as became_opportunity_at,
        {{ cg_column(columns, 'hs_lifecyclestage_customer_date', 'timestamp with time zone') }} as became_customer_at,
        {{ cg_column(columns, 'hs_lifecyclestage_evangelist_date', 'timestamp with time zone') }} as became_evangelist_at,
        {{ cg_hubspot_record_stamps(columns, 'lastmodifieddate') }}
    from source
),

{{ cg_hubspot_select_with_merges('renamed', 'hubspot_contact_id', columns) }}
