{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='append_new_columns',
    pre_hook="{{ cg_delete_lookback_window('date_day', cg_ad_metric_relations()) }}",
    post_hook="{{ cg_remap_ad_campaigns(ref('int_campaign_source_records')) }}"
) }}
{#-
    Paid media per day, ad platform, ad account, platform campaign and ad group (Google Ads ad group, Meta ad
    set; LinkedIn reports per LinkedIn campaign, so its ad_group_id is null), with the unified campaign.
    - date_day is the ad account's own reporting day (platforms report whole days in the account's time zone,
      which is on every row); day_started_at is the UTC instant that day began and reporting_date_day the day
      in the reporting time zone (var reporting_timezone) holding its midpoint, for meeting CRM timestamps.
    - spend is in the account's currency (currency_code); spend_reporting converts it with the rate of that
      day (seed currency_rates_daily); nothing is summed across currencies before conversion. LinkedIn's own
      USD cost stays apart in spend_usd_reported.
    - Campaign totals: the platforms report campaign rows and ad-group rows; the ad-group rows are kept, and
      whatever a campaign-day reports beyond its ad groups (Performance Max has none) is one more row with a
      null ad_group_id, so the rows of a day add up to the platform's campaign totals exactly.
    Incremental: each run deletes and rebuilds the days from the newest day built minus var
    incremental_lookback_days (the days the platforms restate), or from the oldest day among the metric rows
    loaded since the last build when that is earlier (an account connected with its history, a connector
    re-reading a longer window); --full-refresh rebuilds all and gives the same rows. The campaign columns
    (campaign_id, campaign_name, utm_campaign) of the days before the window follow their platform campaign's
    current mapping (post-hook cg_remap_ad_campaigns: a campaign whose UTM key changed moves to its new unified
    campaign on every day); the other dimension names are those of the run that built the day, and the days
    before the window keep the rates they were converted with: after correcting past rates in the seed
    currency_rates_daily, run --full-refresh.
-#}
{%- set window_start = cg_lookback_start('date_day', cg_ad_metric_relations()) -%}

with google_campaign_days as (
    select * from {{ ref('stg_google_ads__campaign_daily_metrics') }}
),

google_group_days as (
    select * from {{ ref('stg_google_ads__ad_group_daily_metrics') }}
),

meta_campaign_days as (
    select * from {{ ref('stg_meta_ads__campaign_daily_insights') }}
),

meta_group_days as (
    select * from {{ ref('stg_meta_ads__adset_daily_insights') }}
),

linkedin_days as (
    select * from {{ ref('stg_linkedin_ads__campaign_daily_analytics') }}
),

{%- set platforms = [
    ('google_ads', 'google_campaign_days', 'google_group_days'),
    ('meta_ads', 'meta_campaign_days', 'meta_group_days'),
] %}
{%- set measures = ['impressions', 'clicks', 'spend', 'platform_conversions', 'platform_conversion_value'] %}

{%- for platform, campaign_days, group_days in platforms %}

{{ platform }}_group_totals as (
    select
        date_day,
        ad_account_id,
        platform_campaign_id,
        {%- for measure in measures %}
        sum({{ measure }}) as {{ measure }}{% if not loop.last %},{% endif %}
        {%- endfor %}
    from {{ group_days }}
    group by 1, 2, 3
),

{{ platform }}_rows as (
    select
        '{{ platform }}' as platform,
        date_day,
        ad_account_id,
        platform_campaign_id,
        ad_group_id,
        ad_group_name,
        currency_code,
        account_time_zone,
        {%- for measure in measures %}
        {{ measure }},
        {%- endfor %}
        cast(null as numeric(38, 9)) as spend_usd_reported,
        loaded_at
    from {{ group_days }}

    union all

    -- What the campaign reports beyond its ad groups (all of it when it has none).
    select
        '{{ platform }}',
        campaigns.date_day,
        campaigns.ad_account_id,
        campaigns.platform_campaign_id,
        cast(null as varchar),
        cast(null as varchar),
        campaigns.currency_code,
        campaigns.account_time_zone,
        {%- for measure in measures %}
        campaigns.{{ measure }} - coalesce(groups.{{ measure }}, 0),
        {%- endfor %}
        cast(null as numeric(38, 9)),
        campaigns.loaded_at
    from {{ campaign_days }} as campaigns
    left join {{ platform }}_group_totals as groups
        on groups.date_day = campaigns.date_day
        and groups.ad_account_id = campaigns.ad_account_id
        and groups.platform_campaign_id = campaigns.platform_campaign_id
    where groups.platform_campaign_id is null
        {%- for measure in measures %}
        or campaigns.{{ measure }} <> groups.{{ measure }}
        {%- endfor %}
),
{%- endfor %}

linkedin_ads_rows as (
    select
        'linkedin_ads' as platform,
        date_day,
        ad_account_id,
        platform_campaign_id,
        cast(null as varchar) as ad_group_id,
        cast(null as varchar) as ad_group_name,
        currency_code,
        account_time_zone,
        {%- for measure in measures %}
        {{ measure }},
        {%- endfor %}
        spend_usd_reported,
        loaded_at
    from linkedin_days
),

metric_rows as (
    select * from google_ads_rows
    union all
    select * from meta_ads_rows
    union all
    select * from linkedin_ads_rows
),

windowed as (
    select * from metric_rows
    where date_day is not null
    {%- if window_start is not none %}
        and date_day >= {{ window_start }}
    {%- endif %}
),

accounts as (
    select 'google_ads' as platform, ad_account_id, ad_account_name, currency_code, account_time_zone
    from {{ ref('stg_google_ads__customers') }}
    union all
    select 'meta_ads', ad_account_id, ad_account_name, currency_code, account_time_zone
    from {{ ref('stg_meta_ads__ad_accounts') }}
    union all
    select 'linkedin_ads', ad_account_id, ad_account_name, currency_code, account_time_zone
    from {{ ref('stg_linkedin_ads__ad_accounts') }}
),

ad_groups as (
    select 'google_ads' as platform, ad_group_id, ad_group_name from {{ ref('stg_google_ads__ad_groups') }}
    union all
    select 'meta_ads', ad_group_id, ad_group_name from {{ ref('stg_meta_ads__adsets') }}
),

linkedin_campaigns as (
    select * from {{ ref('stg_linkedin_ads__campaigns') }}
),

campaign_records as (
    select * from {{ ref('int_campaign_source_records') }}
    where source_system in ('google_ads', 'meta_ads', 'linkedin_ads')
),

rates as (
    select * from {{ ref('int_currency_rates_daily') }}
),

enriched as (
    select
        windowed.date_day,
        windowed.platform,
        windowed.ad_account_id,
        accounts.ad_account_name,
        windowed.platform_campaign_id,
        campaign_records.campaign_name,
        windowed.ad_group_id,
        coalesce(windowed.ad_group_name, ad_groups.ad_group_name) as ad_group_name,
        linkedin_campaigns.campaign_group_id as linkedin_campaign_group_id,
        campaign_records.campaign_id,
        campaign_records.utm_campaign,
        {{ cg_platform_channel('windowed.platform') }} as channel,
        coalesce(windowed.currency_code, accounts.currency_code) as currency_code,
        coalesce(windowed.account_time_zone, accounts.account_time_zone, 'UTC') as account_time_zone,
        windowed.impressions,
        windowed.clicks,
        windowed.spend,
        windowed.platform_conversions,
        windowed.platform_conversion_value,
        windowed.spend_usd_reported,
        windowed.loaded_at
    from windowed
    left join accounts
        on accounts.platform = windowed.platform and accounts.ad_account_id = windowed.ad_account_id
    left join ad_groups
        on ad_groups.platform = windowed.platform and ad_groups.ad_group_id = windowed.ad_group_id
    left join linkedin_campaigns
        on windowed.platform = 'linkedin_ads'
        and linkedin_campaigns.platform_campaign_id = windowed.platform_campaign_id
    left join campaign_records
        on campaign_records.source_system = windowed.platform
        and campaign_records.source_campaign_id = windowed.platform_campaign_id
)

select
    {{ surrogate_key(['enriched.date_day', 'enriched.platform', 'enriched.ad_account_id',
                      'enriched.platform_campaign_id', 'enriched.ad_group_id']) }} as ad_performance_key,
    enriched.date_day,
    {{ cg_local_day_start('enriched.date_day', 'enriched.account_time_zone') }} as day_started_at,
    {{ cg_reporting_date('(' ~ cg_local_day_start('enriched.date_day', 'enriched.account_time_zone')
        ~ " + interval '12 hours')") }} as reporting_date_day,
    enriched.platform,
    enriched.ad_account_id,
    enriched.ad_account_name,
    enriched.platform_campaign_id,
    enriched.campaign_name,
    enriched.ad_group_id,
    enriched.ad_group_name,
    enriched.linkedin_campaign_group_id,
    enriched.campaign_id,
    enriched.utm_campaign,
    enriched.channel,
    enriched.currency_code,
    enriched.account_time_zone,
    cast(enriched.impressions as bigint) as impressions,
    cast(enriched.clicks as bigint) as clicks,
    cast(enriched.spend as numeric(38, 9)) as spend,
    {{ cg_money('enriched.spend * rates.rate_to_reporting') }} as spend_reporting,
    cast(enriched.spend_usd_reported as numeric(38, 9)) as spend_usd_reported,
    cast(enriched.platform_conversions as double precision) as platform_conversions,
    cast(enriched.platform_conversion_value as numeric(38, 9)) as platform_conversion_value,
    {{ cg_money('enriched.platform_conversion_value * rates.rate_to_reporting') }}
        as platform_conversion_value_reporting,
    rates.rate_to_reporting as exchange_rate_to_reporting,
    '{{ var("reporting_currency", "USD") | upper }}' as reporting_currency,
    enriched.loaded_at
from enriched
left join rates
    on rates.currency_code = enriched.currency_code
    and rates.date_day = enriched.date_day
