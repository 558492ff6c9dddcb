{#-
    The campaigns the ad platforms know, one row per platform campaign, in the columns of int_crm_campaigns
    (source_system = the platform): Google Ads campaigns, Meta campaigns and LinkedIn campaigns (LinkedIn's
    campaign groups are budget containers spanning several marketing campaigns; the UTM key lives on the
    campaign). The UTM key is read from the name; the channel is the platform's paid channel. A campaign that
    only appears in the daily metrics (its entity row is missing) is still a campaign, named as the metrics
    name it. Currency: the ad account's.
-#}
with google_campaigns as (
    select * from {{ ref('stg_google_ads__campaigns') }}
),

google_customers as (
    select * from {{ ref('stg_google_ads__customers') }}
),

meta_campaigns as (
    select * from {{ ref('stg_meta_ads__campaigns') }}
),

meta_accounts as (
    select * from {{ ref('stg_meta_ads__ad_accounts') }}
),

linkedin_campaigns as (
    select * from {{ ref('stg_linkedin_ads__campaigns') }}
),

linkedin_accounts as (
    select * from {{ ref('stg_linkedin_ads__ad_accounts') }}
),

entities as (
    select
        'google_ads' as source_system,
        google_campaigns.platform_campaign_id as source_campaign_id,
        google_campaigns.ad_account_id,
        google_campaigns.campaign_name,
        google_campaigns.utm_campaign,
        google_campaigns.campaign_type,
        google_campaigns.campaign_status,
        google_campaigns.start_date,
        google_campaigns.end_date,
        google_customers.currency_code,
        google_campaigns.is_deleted,
        cast(null as timestamp with time zone) as created_at
    from google_campaigns
    left join google_customers on google_customers.ad_account_id = google_campaigns.ad_account_id

    union all

    select
        'meta_ads',
        meta_campaigns.platform_campaign_id,
        meta_campaigns.ad_account_id,
        meta_campaigns.campaign_name,
        meta_campaigns.utm_campaign,
        meta_campaigns.campaign_type,
        meta_campaigns.campaign_status,
        {{ cg_reporting_date('meta_campaigns.start_at') }},
        {{ cg_reporting_date('meta_campaigns.stop_at') }},
        meta_accounts.currency_code,
        meta_campaigns.is_deleted,
        meta_campaigns.created_at
    from meta_campaigns
    left join meta_accounts on meta_accounts.ad_account_id = meta_campaigns.ad_account_id

    union all

    select
        'linkedin_ads',
        linkedin_campaigns.platform_campaign_id,
        linkedin_campaigns.ad_account_id,
        linkedin_campaigns.campaign_name,
        linkedin_campaigns.utm_campaign,
        linkedin_campaigns.campaign_type,
        linkedin_campaigns.campaign_status,
        {{ cg_reporting_date('linkedin_campaigns.start_at') }},
        {{ cg_reporting_date('linkedin_campaigns.end_at') }},
        linkedin_accounts.currency_code,
        linkedin_campaigns.is_deleted,
        linkedin_campaigns.created_at
    from linkedin_campaigns
    left join linkedin_accounts on linkedin_accounts.ad_account_id = linkedin_campaigns.ad_account_id
),

metric_campaigns as (
    select 'google_ads' as source_system, platform_campaign_id, max(campaign_name) as campaign_name,
        max(currency_code) as currency_code, min(date_day) as first_day, max(date_day) as last_day
    from {{ ref('stg_google_ads__campaign_daily_metrics') }}
    group by platform_campaign_id

    union all

    select 'meta_ads', platform_campaign_id, max(campaign_name), max(currency_code), min(date_day), max(date_day)
    from {{ ref('stg_meta_ads__campaign_daily_insights') }}
    group by platform_campaign_id

    union all

    select 'meta_ads', platform_campaign_id, max(campaign_name), max(currency_code), min(date_day), max(date_day)
    from {{ ref('stg_meta_ads__adset_daily_insights') }}
    group by platform_campaign_id

    union all

    select 'linkedin_ads', platform_campaign_id, cast(null as varchar), max(currency_code), min(date_day),
        max(date_day)
    from {{ ref('stg_linkedin_ads__campaign_daily_analytics') }}
    group by platform_campaign_id
),

metric_only as (
    select
        source_system,
        platform_campaign_id as source_campaign_id,
        max(campaign_name) as campaign_name,
        max(currency_code) as currency_code,
        min(first_day) as start_date,
        max(last_day) as end_date
    from metric_campaigns
    where platform_campaign_id is not null
        and not exists (
            select 1 from entities
            where entities.source_system = metric_campaigns.source_system
                and entities.source_campaign_id = metric_campaigns.platform_campaign_id
        )
    group by source_system, platform_campaign_id
),

unioned as (
    select
        source_system, source_campaign_id, campaign_name, utm_campaign, campaign_type, campaign_status,
        start_date, end_date, currency_code, is_deleted, created_at
    from entities
    where source_campaign_id is not null

    union all

    select
        source_system,
        source_campaign_id,
        coalesce(campaign_name, source_system || ' campaign ' || source_campaign_id),
        {{ cg_utm_key_from_name('campaign_name') }},
        cast(null as varchar),
        cast(null as varchar),
        start_date,
        end_date,
        currency_code,
        false,
        cast(null as timestamp with time zone)
    from metric_only
)

select
    source_system,
    source_campaign_id,
    coalesce(campaign_name, source_system || ' campaign ' || source_campaign_id) as campaign_name,
    utm_campaign,
    {{ cg_platform_channel('source_system') }} as channel,
    source_system as platform,
    campaign_type,
    campaign_status,
    start_date,
    end_date,
    cast(null as numeric(38, 9)) as budgeted_cost,
    cast(null as numeric(38, 9)) as actual_cost,
    currency_code,
    is_deleted,
    created_at
from unioned
