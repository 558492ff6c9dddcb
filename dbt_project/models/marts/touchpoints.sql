{{ config(
    materialized='incremental',
    incremental_strategy='cg_replace_scope',
    cg_rebuild_on_new_columns=true,
    cg_scope_key='touchpoint_id',
) }}
{#-
    One row per marketing or sales touch of a person (HubSpot form submissions, marketing e-mail
    clicks, tracked first visits; Salesforce campaign responses), tied to the prospect, the
    prospect's account and the unified campaign (by Salesforce campaign id, HubSpot e-mail id or
    UTM campaign key). channel: the paid channel of the ad platform the touch came through (Google Ads
    paid_search, Meta and LinkedIn paid_social, macro cg_platform_channel: the channel its spend counts
    under, so a click tagged utm_medium=display or a Meta ad tagged cpc meets its campaign's spend in
    channel_performance_monthly); else from utm_medium (seed channel_mapping), else the source's own channel
    (HubSpot analytics source, e-mail), else the campaign's channel, else unknown.
    platform: the ad platform the touch came through, from the touch itself: the one its utm_source names
    (google -> google_ads, facebook / instagram -> meta_ads, linkedin -> linkedin_ads); none when its
    utm_source names another source, and none when its channel is one no ad runs in (an organic post, an
    e-mail or a referral tagged utm_source=linkedin is not a LinkedIn Ads click); without a utm_source, the platform of the CRM campaign it responded to
    (a CRM campaign naming an ad campaign's id) or of its unified campaign when that runs on one platform only.
    Never the unified campaign's pick among several platforms: a campaign run on Google Ads and Meta files a
    Meta click under meta_ads, where Meta's spend is.

    Incremental (strategy cg_replace_scope, macros/incremental/replace_scope.sql), equal to a full build:
    a touch's row depends on identity resolution (prospect and account ids move when records merge,
    whatever the touch's date), so every run resolves all touches and replaces the touches whose row
    differs from the stored one (new, edited, re-resolved, gone). Only those rows are written. That is the
    lookback with no fixed length: a touch restated on any day is rewritten, and an unchanged one in the
    last var incremental_lookback_days days is not (rewriting them cost a sixth of the table every night).
    A stored table that lacks one of the model's columns (built before the column existed) is rebuilt whole
    (cg_rebuild_on_new_columns, macros/incremental/is_incremental.sql).
-#}
with touches as (
    select * from {{ ref('int_touchpoints_unioned') }}
),

{#- only the columns read: PostgreSQL materializes a CTE read twice with every column it selects -#}
person_records as (
    select record_key, entity_id, email, source_system, is_deleted, created_at
    from {{ ref('int_person_records_clustered') }}
),

{#- a touch known only by e-mail goes to the person holding that address (their HubSpot contact first) #}
person_emails as (
    select
        email,
        {{ cg_first_by('entity_id', ["case when source_system = 'hubspot_contact' then 0 else 1 end",
                                     "case when is_deleted then 1 else 0 end",
                                     "coalesce(" ~ cg_epoch('created_at') ~ ", 1e12)", 'record_key']) }} as prospect_id
    from person_records
    where email is not null
    group by email
),

prospects as (
    select prospect_id, account_id from {{ ref('prospects') }}
),

campaign_records as (
    select * from {{ ref('int_campaign_source_records') }}
),

campaigns_by_key as (
    select campaign_key, min(campaign_id) as campaign_id, min(channel) as channel
    from campaign_records
    group by campaign_key
),

{#- the ad platform of each unified campaign: null when it runs on several, or on none #}
campaign_platforms as (
    select campaign_id, {{ cg_sole_platform('platform') }} as platform
    from campaign_records
    group by campaign_id
),

channel_mapping as (
    select * from {{ ref('channel_mapping') }} where source_type = 'utm_medium'
),

{#- a touch tied to a record goes to that record's person, one known only by e-mail to that address's person. Two
    joins of their own: in one outer join, PostgreSQL hashed the touches without a record (over half of them) into
    a single batch it kept splitting (at M, 131,072 batches and two minutes) -#}
touches_with_people as (
    select touches.*, person_records.entity_id as prospect_id
    from touches
    left join person_records on person_records.record_key = touches.person_record_key
    where touches.person_record_key is not null
    union all
    select touches.*, person_emails.prospect_id
    from touches
    left join person_emails on person_emails.email = touches.person_email
    where touches.person_record_key is null
),

resolved as (
    select
        {{ surrogate_key(["'touchpoint'", 'touches.source_system', 'touches.touchpoint_type', 'touches.source_touchpoint_id']) }}
            as touchpoint_id,
        touches.*,
        coalesce(salesforce_campaign.campaign_id, hubspot_campaign.campaign_id, utm_campaign.campaign_id) as campaign_id,
        coalesce(salesforce_campaign.channel, hubspot_campaign.channel, utm_campaign.channel) as campaign_channel,
        coalesce(salesforce_campaign.platform, hubspot_campaign.platform) as responded_campaign_platform,
        channel_mapping.channel as utm_channel
    from touches_with_people as touches
    left join campaign_records as salesforce_campaign
        on salesforce_campaign.source_system = 'salesforce'
        and salesforce_campaign.source_campaign_id = touches.salesforce_campaign_id
    left join campaign_records as hubspot_campaign
        on hubspot_campaign.source_system = 'hubspot'
        and hubspot_campaign.source_campaign_id = touches.hubspot_email_campaign_id
    left join campaigns_by_key as utm_campaign on utm_campaign.campaign_key = 'utm:' || touches.utm_campaign
    left join channel_mapping on channel_mapping.source_value = touches.utm_medium
)
,

{#- the channel the touch names (no ad runs in some: their touches come through no platform) -#}
{%- set named_channel = "coalesce(resolved.utm_channel, resolved.channel_hint, resolved.campaign_channel, 'unknown')" %}
platformed as (
    select
        resolved.*,
        {{ named_channel }} as named_channel,
        case
            when {{ named_channel }} in ({{ cg_quoted_list(cg_channels_without_ads()) }}) then null
            when resolved.utm_source is not null then {{ cg_utm_source_platform('resolved.utm_source') }}
            else coalesce(resolved.responded_campaign_platform, campaign_platforms.platform)
        end as platform
    from resolved
    left join campaign_platforms on campaign_platforms.campaign_id = resolved.campaign_id
),

touchpoint_rows as (
    select
        platformed.touchpoint_id,
        platformed.prospect_id,
        prospects.account_id,
        platformed.occurred_at,
        {{ cg_reporting_date('platformed.occurred_at') }} as occurred_date,
        platformed.touchpoint_type,
        platformed.campaign_id,
        case when platformed.platform is not null
            then {{ cg_platform_channel('platformed.platform') }} else platformed.named_channel end as channel,
        platformed.utm_source,
        platformed.utm_medium,
        platformed.utm_campaign,
        platformed.page_url,
        platformed.source_system,
        platformed.source_touchpoint_id,
        platformed.platform
    from platformed
    left join prospects on prospects.prospect_id = platformed.prospect_id
)

{%- if is_incremental() %}
{%- set columns = 'touchpoint_id, prospect_id, account_id, occurred_at, occurred_date, touchpoint_type, campaign_id, '
                  ~ 'channel, utm_source, utm_medium, utm_campaign, page_url, source_system, source_touchpoint_id, '
                  ~ 'platform' %}
,

{#- touches whose row differs from the stored one (in either direction) #}
changed as (
    {{ cg_changed_keys('touchpoint_rows', 'touchpoint_id', columns) }}
)

{#- a touch that is gone is named by a tombstone row (all data columns null) #}
select touchpoint_rows.*, changed.touchpoint_id as cg_scope_key
from changed
left join touchpoint_rows on touchpoint_rows.touchpoint_id = changed.touchpoint_id
{%- else %}

select * from touchpoint_rows
{%- endif %}
