{#-
    Return on marketing per month, channel, ad platform and unified campaign, under the default
    attribution model (var attribution_default_model, default position_based). Every source is aggregated
    to the grain on its own and the pieces are then unioned and summed, so no join fans out:
    - spend, impressions, clicks: sem_ad_spend_daily (ad_performance_daily) by day's month;
    - leads, mqls, sqls: people by the month they entered the stage, under their sourcing channel, platform
      and campaign (prospect_funnel.sourcing_*: the sourcing touch's own ad platform, so a campaign run on
      several platforms meets each platform's spend; no touch: their original channel, no platform or campaign);
    - opportunities, attributed pipeline: the default model's credits by the deal's creation month
      (opportunities is a sum of credits: 0.4 = 40% of one deal); attributed revenue and new customers:
      by the won deal's close month. Deals with no touch in the lookback window count in full under
      channel 'unattributed' (macro cg_default_attribution_results, the semantic layer's definition too).
    Ratios, null when the denominator is 0: cost_per_mql = spend / mqls, cac = spend / new customers
    (attributed: a sum of credits of the accounts' first won deals), roas = attributed revenue / spend; MQLs or
    customers without spend give a cost of 0 (no paid media), as the shared metrics do. Every measure is the
    shared metric of the same meaning (shared_metrics_daily, the semantic layer) summed per month. Events after
    the as-of date are left out, as shared_metrics_daily leaves them out (the as-of month holds its days up to
    the as-of date). A touch through an ad platform carries the platform's paid channel (touchpoints.channel),
    so a campaign's results meet its spend whatever UTM medium its ads were tagged with; its touches that came
    through no platform (an e-mail of the same campaign) count under their own channel.
-#}
{%- set default_model = cg_attribution_default_model() -%}
{%- set measures = ['spend_reporting', 'impressions', 'clicks', 'leads', 'mqls', 'sqls', 'opportunities',
                    'attributed_pipeline_reporting', 'attributed_revenue_reporting', 'new_customers'] -%}

with as_of as (
    select as_of_date from {{ ref('int_reporting_dates') }}
),

people as (
    select * from {{ ref('prospect_funnel') }}
),

results as (
    {{ cg_default_attribution_results() }}
),

spend as (
    select
        {{ cg_month('spend.date_day') }} as month,
        spend.channel,
        spend.platform,
        spend.campaign_id,
        sum(spend.spend_reporting) as spend_reporting,
        sum(spend.impressions) as impressions,
        sum(spend.clicks) as clicks
    from {{ ref('sem_ad_spend_daily') }} as spend
    cross join as_of
    where spend.date_day <= as_of.as_of_date
    group by 1, 2, 3, 4
),

{%- for stage in ['lead', 'mql', 'sql'] %}

{{ stage }}s as (
    select
        {{ cg_month('people.' ~ stage ~ '_date') }} as month,
        people.sourcing_channel as channel,
        people.sourcing_platform as platform,
        people.sourcing_campaign_id as campaign_id,
        count(*) as {{ stage }}s
    from people
    cross join as_of
    where people.{{ stage }}_date <= as_of.as_of_date
    group by 1, 2, 3, 4
),
{%- endfor %}

created as (
    select
        {{ cg_month('results.opportunity_created_date') }} as month,
        results.channel,
        results.platform,
        results.campaign_id,
        sum(results.credit) as opportunities,
        sum(results.attributed_pipeline_reporting) as attributed_pipeline_reporting
    from results
    cross join as_of
    where results.opportunity_created_date <= as_of.as_of_date
    group by 1, 2, 3, 4
),

won as (
    select
        {{ cg_month('results.opportunity_closed_date') }} as month,
        results.channel,
        results.platform,
        results.campaign_id,
        sum(results.attributed_revenue_reporting) as attributed_revenue_reporting,
        sum(results.attributed_new_customers) as new_customers
    from results
    cross join as_of
    where results.is_won and results.opportunity_closed_date <= as_of.as_of_date
    group by 1, 2, 3, 4
),

{%- set parts = {
    'spend': ['spend_reporting', 'impressions', 'clicks'],
    'leads': ['leads'], 'mqls': ['mqls'], 'sqls': ['sqls'],
    'created': ['opportunities', 'attributed_pipeline_reporting'],
    'won': ['attributed_revenue_reporting', 'new_customers'],
} %}

unioned as (
    {%- for part, columns in parts.items() %}
    select
        month,
        channel,
        platform,
        campaign_id,
        {%- for measure in measures %}
        {% if measure in columns %}cast({{ measure }} as double precision){% else %}cast(null as double precision){% endif %} as {{ measure }}{% if not loop.last %},{% endif %}
        {%- endfor %}
    from {{ part }}
    {% if not loop.last %}union all{% endif %}
    {%- endfor %}
),

summed as (
    select
        unioned.month,
        unioned.channel,
        unioned.platform,
        unioned.campaign_id,
        {{ cg_money('coalesce(sum(unioned.spend_reporting), 0)') }} as spend_reporting,
        cast(coalesce(sum(unioned.impressions), 0) as bigint) as impressions,
        cast(coalesce(sum(unioned.clicks), 0) as bigint) as clicks,
        cast(coalesce(sum(unioned.leads), 0) as bigint) as leads,
        cast(coalesce(sum(unioned.mqls), 0) as bigint) as mqls,
        cast(coalesce(sum(unioned.sqls), 0) as bigint) as sqls,
        coalesce(sum(unioned.opportunities), 0) as opportunities,
        {{ cg_money('coalesce(sum(unioned.attributed_pipeline_reporting), 0)') }} as attributed_pipeline_reporting,
        {{ cg_money('coalesce(sum(unioned.attributed_revenue_reporting), 0)') }} as attributed_revenue_reporting,
        coalesce(sum(unioned.new_customers), 0) as new_customers
    from unioned
    group by 1, 2, 3, 4
)

select
    month,
    channel,
    platform,
    campaign_id,
    spend_reporting,
    impressions,
    clicks,
    leads,
    mqls,
    sqls,
    opportunities,
    attributed_pipeline_reporting,
    attributed_revenue_reporting,
    new_customers,
    {{ cg_money(cg_divide('spend_reporting', 'mqls')) }} as cost_per_mql,
    {{ cg_money(cg_divide('spend_reporting', 'new_customers')) }} as cac,
    {{ cg_divide('attributed_revenue_reporting', 'spend_reporting') }} as roas,
    '{{ default_model }}' as attribution_model,
    '{{ var("reporting_currency", "USD") | upper }}' as reporting_currency
from summed
