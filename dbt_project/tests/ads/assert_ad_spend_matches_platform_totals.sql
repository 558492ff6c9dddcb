{{ config(meta={'dagster': {'ref': {'name': 'ad_performance_daily'}}}) }}
{#-
    Fails with every (platform, day, ad account) whose spend, impressions or clicks in
    ad_performance_daily differ from the platform's own campaign-level totals in the raw tables, in the account's
    currency (one per account: never converted, never summed across currencies).
-#}
with platform_totals as (
    select 'google_ads' as platform, date_day, ad_account_id, max(currency_code) as currency_code,
        sum(spend) as spend, sum(impressions) as impressions, sum(clicks) as clicks
    from {{ ref('stg_google_ads__campaign_daily_metrics') }}
    group by date_day, ad_account_id
    union all
    select 'meta_ads', date_day, ad_account_id, max(currency_code), sum(spend), sum(impressions), sum(clicks)
    from {{ ref('stg_meta_ads__campaign_daily_insights') }}
    group by date_day, ad_account_id
    union all
    select 'linkedin_ads', date_day, ad_account_id, max(currency_code), sum(spend), sum(impressions), sum(clicks)
    from {{ ref('stg_linkedin_ads__campaign_daily_analytics') }}
    group by date_day, ad_account_id
),

mart as (
    select platform, date_day, ad_account_id, max(currency_code) as currency_code,
        sum(spend) as spend, sum(impressions) as impressions, sum(clicks) as clicks
    from {{ ref('ad_performance_daily') }}
    group by platform, date_day, ad_account_id
)

select
    coalesce(platform_totals.platform, mart.platform) as platform,
    coalesce(platform_totals.date_day, mart.date_day) as date_day,
    coalesce(platform_totals.ad_account_id, mart.ad_account_id) as ad_account_id,
    coalesce(platform_totals.currency_code, mart.currency_code) as currency_code,
    platform_totals.spend as platform_spend,
    mart.spend as mart_spend,
    platform_totals.impressions as platform_impressions,
    mart.impressions as mart_impressions
from platform_totals
full outer join mart
    on mart.platform = platform_totals.platform
    and mart.date_day = platform_totals.date_day
    and mart.ad_account_id = platform_totals.ad_account_id
where platform_totals.platform is null
    or mart.platform is null
    or abs(platform_totals.spend - mart.spend) > 0.000001
    or platform_totals.impressions <> mart.impressions
    or platform_totals.clicks <> mart.clicks
