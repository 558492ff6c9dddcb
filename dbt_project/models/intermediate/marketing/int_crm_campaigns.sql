{#-
    The campaigns the CRMs know, one row per source campaign:
    - Salesforce campaigns, with the UTM key read from their name;
    - HubSpot marketing e-mails seen in the e-mail events (raw has no marketing-email table yet,
      so their name and UTM key are unknown and they stay their own campaigns).
-#}
with salesforce_campaigns as (
    select * from {{ ref('stg_salesforce__campaigns') }}
),

hubspot_email_campaigns as (
    select
        hubspot_email_campaign_id,
        min(occurred_at) as first_event_at,
        max(occurred_at) as last_event_at
    from {{ ref('stg_hubspot__email_events') }}
    where hubspot_email_campaign_id is not null
    group by hubspot_email_campaign_id
)

select
    'salesforce' as source_system,
    salesforce_campaign_id as source_campaign_id,
    campaign_name,
    utm_campaign,
    coalesce({{ cg_channel('salesforce_campaign_type', 'campaign_type') }}, 'other') as channel,
    cast(null as varchar) as platform,
    campaign_type,
    campaign_status,
    start_date,
    end_date,
    budgeted_cost,
    actual_cost,
    currency_code,
    is_deleted,
    created_at
from salesforce_campaigns

union all

select
    'hubspot' as source_system,
    hubspot_email_campaign_id as source_campaign_id,
    'HubSpot marketing e-mail ' || hubspot_email_campaign_id as campaign_name,
    cast(null as varchar) as utm_campaign,
    'email' as channel,
    cast(null as varchar) as platform,
    'Marketing e-mail' as campaign_type,
    cast(null as varchar) as campaign_status,
    {{ cg_reporting_date('first_event_at') }} as start_date,
    {{ cg_reporting_date('last_event_at') }} as end_date,
    cast(null as numeric(38, 9)) as budgeted_cost,
    cast(null as numeric(38, 9)) as actual_cost,
    cast(null as varchar) as currency_code,
    false as is_deleted,
    first_event_at as created_at
from hubspot_email_campaigns
