{{ config(
    materialized='incremental',
    incremental_strategy='cg_replace_scope',
    cg_scope_key='record_key',
) }}
{#-
    Every person record of every CRM (Salesforce leads and contacts, HubSpot contacts), deleted and
    merged ones included, in one shape with its matching keys: email (normalize_email), name_key
    (normalize_person_name), is_role_email (info@, sales@, ...), and the native links a record
    carries to another (source merge, lead conversion, HubSpot's synced Salesforce ids).

    Incremental (strategy cg_replace_scope), equal to a full build but for node_id (a handle for the
    connected-components passes only: a record keeps its own, new records get the next numbers) and
    unioned_at (when the row was last written: the start of that dbt run). A row
    depends on its own source record, its owner's name and e-mail and, for a HubSpot contact, on the records
    that list it as merged and on the records its merge chain ends in (is_deleted); a run rebuilds the records
    loaded since the newest stored loaded_at, the HubSpot records a reloaded record lists or listed as merged,
    the HubSpot records whose is_deleted in staging differs from the stored one, the records whose owner's name
    or e-mail changed, and removes records no longer in staging (a table from before loaded_at, unioned_at or
    owner_email was stored is rebuilt whole). int_person_records_clustered takes the rows written since its own last build.
    After changing the seed channel_mapping, run --full-refresh.
-#}
with leads as (
    select * from {{ ref('stg_salesforce__leads') }}
),

contacts as (
    select * from {{ ref('stg_salesforce__contacts') }}
),

hubspot_contacts as (
    select * from {{ ref('stg_hubspot__contacts') }}
),

salesforce_users as (
    select * from {{ ref('stg_salesforce__users') }}
),

hubspot_owners as (
    select * from {{ ref('stg_hubspot__owners') }}
),

{%- if is_incremental() %}
{%- set stored_columns = adapter.get_columns_in_relation(this) | map(attribute='name') | map('lower') | list %}
{%- set stamped = 'loaded_at' in stored_columns and 'owner_id' in stored_columns and 'unioned_at' in stored_columns
                 and 'owner_email' in stored_columns %}
built as (
    select
        {{ 'max(loaded_at)' if stamped else 'cast(null as timestamp with time zone)' }} as loaded_at,
        coalesce(max(node_id), 0) as last_node_id
    from {{ this }}
),

{#- every source record in staging now, and when it was loaded -#}
staged as (
    select 'salesforce_lead:' || salesforce_lead_id as record_key, loaded_at from leads
    union all
    select 'salesforce_contact:' || salesforce_contact_id, loaded_at from contacts
    union all
    select 'hubspot_contact:' || hubspot_contact_id, loaded_at from hubspot_contacts
),

{#- source records loaded since the last build (all of them when nothing stored says when) -#}
reloaded as (
    select staged.record_key from staged cross join built
    where not coalesce(staged.loaded_at <= built.loaded_at, false)
),

current_owners as (
    select salesforce_user_id as owner_id, user_name as owner_name, email as owner_email, 'salesforce' as source_family
    from salesforce_users
    union all
    select hubspot_owner_id, owner_name, email, 'hubspot' from hubspot_owners
),

{#- the records to rebuild (see above); cg_scope_key of the rows below -#}
changed as (
    select record_key from reloaded
    union
    {#- HubSpot records a reloaded record lists as merged now, or was the survivor of before #}
    select 'hubspot_contact:' || listed.merged_id
    from (
        select {{ cg_hubspot_merged_ids('merged_object_ids') }} as merged_id
        from hubspot_contacts
        where merged_object_ids is not null
            and 'hubspot_contact:' || hubspot_contact_id in (select record_key from reloaded)
    ) as listed
    union
    select record_key from {{ this }} where merged_into_record_key in (select record_key from reloaded)
    union
    {#- HubSpot records deleted (or live again) without a reload of their own: a record their merge chain ends in
        was deleted, which the two rules above miss past the first merge of a chain. Only a vanished record's
        is_deleted depends on other records (cg_hubspot_absorbed_by_live), so only those are compared #}
    select stored.record_key
    from hubspot_contacts
    inner join {{ this }} as stored on stored.record_key = 'hubspot_contact:' || hubspot_contacts.hubspot_contact_id
    where hubspot_contacts.is_vanished and stored.is_deleted is distinct from hubspot_contacts.is_deleted
    {%- if stamped %}
    union
    select stored.record_key
    from {{ this }} as stored
    left join current_owners
        on current_owners.owner_id = stored.owner_id and current_owners.source_family = stored.source_family
    where stored.owner_id is not null and (stored.owner_name is distinct from current_owners.owner_name
        or stored.owner_email is distinct from current_owners.owner_email)
    {%- endif %}
    union
    {#- records gone from staging #}
    select record_key from (
        select record_key from {{ this }}
        except
        select record_key from staged
    ) as gone
),
{%- endif %}

unioned as (
    select
        'salesforce_lead' as source_system,
        'salesforce' as source_family,
        leads.salesforce_lead_id as source_record_id,
        'salesforce_lead:' || leads.salesforce_lead_id as record_key,
        leads.email,
        leads.first_name,
        leads.last_name,
        leads.title,
        leads.company_name,
        leads.country as country_raw,
        users.user_name as owner_name,
        users.email as owner_email,
        leads.lead_source,
        {{ cg_channel('salesforce_lead_source', 'leads.lead_source') }} as original_channel,
        cast(null as varchar) as lifecycle_stage,
        leads.lead_status,
        leads.is_converted,
        leads.converted_date,
        leads.converted_salesforce_opportunity_id as salesforce_opportunity_id,
        cast(null as varchar) as hubspot_company_id,
        case when leads.converted_salesforce_account_id is not null
            then 'salesforce:' || leads.converted_salesforce_account_id end as account_record_key,
        case when leads.salesforce_master_lead_id is not null
            then 'salesforce_lead:' || leads.salesforce_master_lead_id end as merged_into_record_key,
        case when leads.converted_salesforce_contact_id is not null
            then 'salesforce_contact:' || leads.converted_salesforce_contact_id end as converted_record_key,
        cast(null as varchar) as synced_contact_record_key,
        cast(null as varchar) as synced_lead_record_key,
        cast(null as timestamp with time zone) as hubspot_became_lead_at,
        cast(null as timestamp with time zone) as hubspot_became_mql_at,
        cast(null as timestamp with time zone) as hubspot_became_sql_at,
        cast(null as timestamp with time zone) as hubspot_became_opportunity_at,
        cast(null as timestamp with time zone) as hubspot_became_customer_at,
        cast(null as varchar) as utm_source,
        cast(null as varchar) as utm_medium,
        cast(null as varchar) as utm_campaign,
        leads.is_deleted,
        leads.is_merged,
        leads.created_at,
        leads.modified_at,
        leads.salesforce_owner_id as owner_id,
        leads.loaded_at
    from leads
    left join salesforce_users as users on users.salesforce_user_id = leads.salesforce_owner_id
    {{- cg_in_scope("'salesforce_lead:' || leads.salesforce_lead_id") }}

    union all

    select
        'salesforce_contact' as source_system,
        'salesforce' as source_family,
        contacts.salesforce_contact_id as source_record_id,
        'salesforce_contact:' || contacts.salesforce_contact_id as record_key,
        contacts.email,
        contacts.first_name,
        contacts.last_name,
        contacts.title,
        cast(null as varchar) as company_name,
        contacts.country as country_raw,
        users.user_name as owner_name,
        users.email as owner_email,
        contacts.lead_source,
        {{ cg_channel('salesforce_lead_source', 'contacts.lead_source') }} as original_channel,
        cast(null as varchar) as lifecycle_stage,
        cast(null as varchar) as lead_status,
        cast(null as boolean) as is_converted,
        cast(null as date) as converted_date,
        cast(null as varchar) as salesforce_opportunity_id,
        cast(null as varchar) as hubspot_company_id,
        case when contacts.salesforce_account_id is not null
            then 'salesforce:' || contacts.salesforce_account_id end as account_record_key,
        case when contacts.salesforce_master_contact_id is not null
            then 'salesforce_contact:' || contacts.salesforce_master_contact_id end as merged_into_record_key,
        cast(null as varchar) as converted_record_key,
        cast(null as varchar) as synced_contact_record_key,
        cast(null as varchar) as synced_lead_record_key,
        cast(null as timestamp with time zone) as hubspot_became_lead_at,
        cast(null as timestamp with time zone) as hubspot_became_mql_at,
        cast(null as timestamp with time zone) as hubspot_became_sql_at,
        cast(null as timestamp with time zone) as hubspot_became_opportunity_at,
        cast(null as timestamp with time zone) as hubspot_became_customer_at,
        cast(null as varchar) as utm_source,
        cast(null as varchar) as utm_medium,
        cast(null as varchar) as utm_campaign,
        contacts.is_deleted,
        contacts.is_merged,
        contacts.created_at,
        contacts.modified_at,
        contacts.salesforce_owner_id as owner_id,
        contacts.loaded_at
    from contacts
    left join salesforce_users as users on users.salesforce_user_id = contacts.salesforce_owner_id
    {{- cg_in_scope("'salesforce_contact:' || contacts.salesforce_contact_id") }}

    union all

    select
        'hubspot_contact' as source_system,
        'hubspot' as source_family,
        hubspot_contacts.hubspot_contact_id as source_record_id,
        'hubspot_contact:' || hubspot_contacts.hubspot_contact_id as record_key,
        hubspot_contacts.email,
        hubspot_contacts.first_name,
        hubspot_contacts.last_name,
        hubspot_contacts.title,
        hubspot_contacts.company_name,
        hubspot_contacts.country as country_raw,
        owners.owner_name,
        owners.email as owner_email,
        hubspot_contacts.analytics_source as lead_source,
        {{ cg_channel('hubspot_analytics_source', 'hubspot_contacts.analytics_source') }} as original_channel,
        hubspot_contacts.lifecycle_stage,
        hubspot_contacts.lead_status,
        cast(null as boolean) as is_converted,
        cast(null as date) as converted_date,
        cast(null as varchar) as salesforce_opportunity_id,
        hubspot_contacts.hubspot_company_id,
        case when hubspot_contacts.hubspot_company_id is not null
            then 'hubspot:' || hubspot_contacts.hubspot_company_id end as account_record_key,
        case when hubspot_contacts.merged_into_hubspot_contact_id is not null
            then 'hubspot_contact:' || hubspot_contacts.merged_into_hubspot_contact_id end as merged_into_record_key,
        cast(null as varchar) as converted_record_key,
        case when hubspot_contacts.salesforce_contact_id is not null
            then 'salesforce_contact:' || hubspot_contacts.salesforce_contact_id end as synced_contact_record_key,
        case when hubspot_contacts.salesforce_lead_id is not null
            then 'salesforce_lead:' || hubspot_contacts.salesforce_lead_id end as synced_lead_record_key,
        hubspot_contacts.became_lead_at as hubspot_became_lead_at,
        hubspot_contacts.became_mql_at as hubspot_became_mql_at,
        hubspot_contacts.became_sql_at as hubspot_became_sql_at,
        hubspot_contacts.became_opportunity_at as hubspot_became_opportunity_at,
        hubspot_contacts.became_customer_at as hubspot_became_customer_at,
        hubspot_contacts.utm_source,
        hubspot_contacts.utm_medium,
        hubspot_contacts.utm_campaign,
        hubspot_contacts.is_deleted,
        hubspot_contacts.is_merged_away as is_merged,
        hubspot_contacts.created_at,
        hubspot_contacts.modified_at,
        hubspot_contacts.hubspot_owner_id as owner_id,
        hubspot_contacts.loaded_at
    from hubspot_contacts
    left join hubspot_owners as owners on owners.hubspot_owner_id = hubspot_contacts.hubspot_owner_id
    {{- cg_in_scope("'hubspot_contact:' || hubspot_contacts.hubspot_contact_id") }}
),

person_rows as (
    select
        unioned.*,
        {{ email_domain('unioned.email') }} as email_domain,
        {{ is_personal_email_domain(email_domain('unioned.email')) }} as is_personal_email,
        {{ is_role_email('unioned.email') }} as is_role_email,
        {{ normalize_person_name('unioned.first_name', 'unioned.last_name') }} as name_key,
        {{ cg_run_started_at() }} as unioned_at
    from unioned
)
{%- if is_incremental() %}

{#- a stored record keeps its node_id; new records are numbered after the largest; a gone record gets a tombstone #}
select
    person_rows.*,
    coalesce(
        stored.node_id,
        built.last_node_id + row_number() over (partition by stored.node_id is null order by person_rows.record_key)
    ) as node_id,
    changed.record_key as cg_scope_key
from changed
cross join built
left join person_rows on person_rows.record_key = changed.record_key
left join {{ this }} as stored on stored.record_key = person_rows.record_key
{%- else %}

select person_rows.*, row_number() over (order by person_rows.record_key) as node_id
from person_rows
{%- endif %}
