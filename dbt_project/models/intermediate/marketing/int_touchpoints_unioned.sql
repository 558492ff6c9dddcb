{{ config(materialized='table' if target.type == 'postgres' else 'view') }}
{#-
    Marketing and sales touches from the CRMs, one row per touch, before they meet prospects:
    - form_submission: HubSpot form submissions (UTMs from the page URL);
    - email_click (and other types listed in var touchpoint_email_event_types): HubSpot marketing
      e-mail events; SENT / DELIVERED are not touches and OPEN is left out by default;
    - campaign_response: Salesforce campaign members that responded (attended, visited the booth,
      clicked, ...), on the response date;
    - first_visit: the tracked first visit of a HubSpot contact (hs_analytics_first_url / utm_*)
      at the contact's creation.
    Persons are identified by a source record (person_record_key) or by e-mail (person_email).
    A table on PostgreSQL: its planner cannot estimate the HubSpot contacts view below (the recursive merge
    chains), so touchpoints, joining this as a view, ran as nested loops (35 s at scale S instead of about one).
    A view elsewhere: DuckDB plans the union inline, and storing it cost its full build more than it saved.
-#}
{%- set email_types = var('touchpoint_email_event_types', ['CLICK']) -%}
with form_submissions as (
    select * from {{ ref('stg_hubspot__form_submissions') }}
),

email_events as (
    select * from {{ ref('stg_hubspot__email_events') }}
    where event_type in ({% for event_type in email_types %}'{{ event_type | upper }}'{% if not loop.last %}, {% endif %}{% endfor %})
),

campaign_members as (
    select * from {{ ref('stg_salesforce__campaign_members') }}
    where has_responded and not is_deleted
),

salesforce_campaigns as (
    select * from {{ ref('stg_salesforce__campaigns') }}
),

hubspot_contacts as (
    select * from {{ ref('stg_hubspot__contacts') }}
    where (utm_campaign is not null or first_page_url is not null) and not is_deleted
)

select
    'hubspot' as source_system,
    'form_submission' as touchpoint_type,
    hubspot_form_submission_id as source_touchpoint_id,
    submitted_at as occurred_at,
    cast(null as varchar) as person_record_key,
    email as person_email,
    utm_source,
    utm_medium,
    utm_campaign,
    cast(null as varchar) as salesforce_campaign_id,
    cast(null as varchar) as hubspot_email_campaign_id,
    cast(null as varchar) as channel_hint,
    page_url
from form_submissions

union all

select
    'hubspot' as source_system,
    'email_' || lower(event_type) as touchpoint_type,
    hubspot_email_event_id as source_touchpoint_id,
    occurred_at,
    cast(null as varchar) as person_record_key,
    recipient_email as person_email,
    'hubspot' as utm_source,
    'email' as utm_medium,
    cast(null as varchar) as utm_campaign,
    cast(null as varchar) as salesforce_campaign_id,
    hubspot_email_campaign_id,
    'email' as channel_hint,
    cast(null as varchar) as page_url
from email_events

union all

select
    'salesforce' as source_system,
    'campaign_response' as touchpoint_type,
    members.salesforce_campaign_member_id as source_touchpoint_id,
    case
        when members.first_responded_date is null
            or {{ cg_reporting_date('members.created_at') }} >= members.first_responded_date then members.created_at
        else {{ cg_date_start_timestamp('members.first_responded_date') }}
    end as occurred_at,
    case
        when members.salesforce_contact_id is not null then 'salesforce_contact:' || members.salesforce_contact_id
        when members.salesforce_lead_id is not null then 'salesforce_lead:' || members.salesforce_lead_id
    end as person_record_key,
    cast(null as varchar) as person_email,
    cast(null as varchar) as utm_source,
    cast(null as varchar) as utm_medium,
    campaigns.utm_campaign,
    members.salesforce_campaign_id,
    cast(null as varchar) as hubspot_email_campaign_id,
    cast(null as varchar) as channel_hint,
    cast(null as varchar) as page_url
from campaign_members as members
left join salesforce_campaigns as campaigns on campaigns.salesforce_campaign_id = members.salesforce_campaign_id

union all

select
    'hubspot' as source_system,
    'first_visit' as touchpoint_type,
    hubspot_contact_id as source_touchpoint_id,
    created_at as occurred_at,
    'hubspot_contact:' || hubspot_contact_id as person_record_key,
    email as person_email,
    utm_source,
    utm_medium,
    utm_campaign,
    cast(null as varchar) as salesforce_campaign_id,
    cast(null as varchar) as hubspot_email_campaign_id,
    {{ cg_channel('hubspot_analytics_source', 'analytics_source') }} as channel_hint,
    first_page_url as page_url
from hubspot_contacts
