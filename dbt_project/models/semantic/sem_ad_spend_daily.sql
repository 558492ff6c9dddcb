{{ config(materialized='table', schema='semantic') }}
{#-
    Ad spend, impressions and clicks per day, platform and unified campaign, in the reporting currency,
    on the reporting time zone's calendar (an account's day counts on the reporting day holding its middle,
    ad_performance_daily.reporting_date_day), so spend meets CRM dates on the same calendar,
    with the channel the spend counts under (the platform's paid channel: Google Ads paid_search, Meta and
    LinkedIn paid_social). The one source of spend for the semantic model ad_spend,
    channel_performance_monthly and shared_metrics_daily. Reads ad_performance_daily through
    cg_ad_performance_daily() (empty when var ad_performance_daily_enabled is false); its rows are summed,
    so they must not overlap: ad_performance_daily's ad-group rows and campaign-level remainder rows add up
    to the platforms' campaign totals.
-#}
with performance as (
    select * from {{ cg_ad_performance_daily() }} as performance
)

select
    performance.reporting_date_day as date_day,
    performance.platform,
    performance.campaign_id,
    {{ cg_platform_channel('performance.platform') }} as channel,
    sum(performance.spend_reporting) as spend_reporting,
    sum(performance.impressions) as impressions,
    sum(performance.clicks) as clicks
from performance
group by 1, 2, 3, 4
