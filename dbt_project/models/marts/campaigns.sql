{#-
    One row per unified campaign: source campaigns sharing a UTM campaign key (lower-case) are one
    campaign; the others stay one campaign each. CRM part: Salesforce campaigns (UTM key read from
    the name) and HubSpot marketing e-mails. Ad-platform campaigns join through the same UTM key
    when they are unioned into int_campaign_source_records. Costs are summed in the reporting
    currency only (each converted with the rate of its campaign's start date).
    platform: the ad platform running the campaign, 'multiple' when several do (platforms lists them, e.g.
    'google_ads,meta_ads'), null when none does. A campaign's spend, leads and results are reported per
    platform elsewhere (ad_performance_daily, touchpoints.platform), never under this column.
-#}
with records as (
    select * from {{ ref('int_campaign_source_records') }}
),

rates as (
    select * from {{ ref('int_currency_rates_daily') }}
),

ranked as (
    select
        records.*,
        records.budgeted_cost * rates.rate_to_reporting as budgeted_cost_reporting,
        records.actual_cost * rates.rate_to_reporting as actual_cost_reporting,
        row_number() over (
            partition by records.campaign_id
            order by case records.source_system when 'salesforce' then 0 when 'hubspot' then 1 else 2 end,
                case when records.is_deleted then 1 else 0 end, records.created_at nulls last, records.source_campaign_id
        ) as record_order
    from records
    left join rates
        on rates.currency_code = records.currency_code
        and rates.date_day = coalesce(records.start_date, {{ cg_reporting_date('records.created_at') }})
),

aggregated as (
    select
        campaign_id,
        min(utm_campaign) as utm_campaign,
        min(case when source_system = 'salesforce' then source_campaign_id end) as salesforce_campaign_id,
        min(case when source_system = 'hubspot' then source_campaign_id end) as hubspot_campaign_id,
        min(case when source_system not in ('salesforce', 'hubspot') then source_campaign_id end) as ad_platform_campaign_id,
        {{ cg_sole_platform('platform', when_several="'multiple'") }} as platform,
        string_agg(distinct platform, ',' order by platform) as platforms,
        min(start_date) as start_date,
        max(end_date) as end_date,
        {{ cg_money('sum(budgeted_cost_reporting)') }} as budgeted_cost_reporting,
        {{ cg_money('sum(actual_cost_reporting)') }} as actual_cost_reporting,
        count(*) as source_campaign_count,
        min(case when is_deleted then 1 else 0 end) = 1 as is_deleted
    from ranked
    group by campaign_id
)

select
    aggregated.campaign_id,
    ranked.campaign_name,
    ranked.channel,
    aggregated.platform,
    aggregated.platforms,
    aggregated.utm_campaign,
    aggregated.salesforce_campaign_id,
    aggregated.hubspot_campaign_id,
    aggregated.ad_platform_campaign_id,
    ranked.campaign_type,
    ranked.campaign_status,
    aggregated.start_date,
    aggregated.end_date,
    aggregated.budgeted_cost_reporting,
    aggregated.actual_cost_reporting,
    '{{ var("reporting_currency", "USD") | upper }}' as reporting_currency,
    aggregated.source_campaign_count,
    aggregated.is_deleted
from aggregated
inner join ranked on ranked.campaign_id = aggregated.campaign_id and ranked.record_order = 1
