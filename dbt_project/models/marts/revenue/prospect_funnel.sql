{#-
    One row per person in the funnel: every prospect that is not deleted in both CRMs and ever became a
    lead, with the first time they entered each stage in either system (the prospects mart takes the
    earliest of HubSpot's lifecycle dates, Salesforce lead creation and conversion, and the opportunities;
    a stage reached implies the earlier ones). The one definition of lead, MQL, SQL, opportunity and
    customer (macro cg_funnel_stages): funnel_monthly, channel_performance_monthly, shared_metrics_daily
    and the semantic model prospect_funnel all count from here.

    Skipped stages: prospects fills a stage nobody recorded with the time of the next stage reached
    (least of the later stages) and flags it is_<stage>_inferred: here is_<stage>_skipped. A recorded stage
    is not skipped, even when its time was moved back to a later stage's recorded before it (a HubSpot MQL
    after a Salesforce conversion known to the day only; prospects.is_<stage>_recorded_late).
    days_<stage>_to_<next> is set when both stages were recorded and the stage's time is its own, not moved
    back: so the medians of funnel_monthly leave skips out, and count 0 days for two stages recorded at the
    same moment (a contact created as an MQL, a deal created won).

    Sourcing touch: the person's first touchpoint on or before the day they became a lead (ties: the
    touchpoint id); it decides the platform (the touch's own, touchpoints.platform) and campaign their lead, MQL
    and SQL are counted under, and the channel: sourcing_channel = the sourcing touch's channel, else (no touch,
    or a touch whose channel is 'unknown') their original channel, else 'unknown'. The channel of the people
    metrics in channel_performance_monthly and in the semantic layer (so shared_metrics_daily); `channel` (the
    original channel) is funnel_monthly's.
-#}
{%- set stages = cg_funnel_stages() -%}

with prospects as (
    select *
    from {{ ref('prospects') }}
    where not is_deleted and became_lead_at is not null
),

touchpoints as (
    select touchpoint_id, prospect_id, occurred_at, channel, platform, campaign_id
    from {{ ref('touchpoints') }}
    where prospect_id is not null
),

sourcing_touches as (
    select
        touchpoints.prospect_id,
        touchpoints.touchpoint_id,
        touchpoints.channel,
        touchpoints.platform,
        touchpoints.campaign_id,
        row_number() over (
            partition by touchpoints.prospect_id
            order by touchpoints.occurred_at, touchpoints.touchpoint_id
        ) as touch_order
    from touchpoints
    inner join prospects on prospects.prospect_id = touchpoints.prospect_id
    where {{ cg_reporting_date('touchpoints.occurred_at') }} <= {{ cg_reporting_date('prospects.became_lead_at') }}
),

final as (
    select
        prospects.prospect_id,
        prospects.account_id,
        coalesce(prospects.original_channel, 'unknown') as channel,
        prospects.original_channel,
        prospects.lead_source,
        prospects.lifecycle_stage,
        {{ cg_month(cg_reporting_date('prospects.became_lead_at')) }} as cohort_month,
        {%- for stage in stages %}
        prospects.{{ stage.column }},
        {{ cg_reporting_date('prospects.' ~ stage.column) }} as {{ stage.name }}_date,
        {%- endfor %}
        {%- for stage in stages[:-1] %}
        coalesce(prospects.is_{{ stage.name }}_inferred, false) as is_{{ stage.name }}_skipped,
        {%- endfor %}
        {%- for stage in stages[:-1] %}
        {%- set next_stage = stages[loop.index] %}
        case when prospects.{{ stage.column }} <= prospects.{{ next_stage.column }}
            and not coalesce(prospects.is_{{ stage.name }}_inferred, false)
            and not coalesce(prospects.is_{{ stage.name }}_recorded_late, false)
            {%- if loop.index < stages | length - 1 %}
            and not coalesce(prospects.is_{{ next_stage.name }}_inferred, false)
            {%- endif %} then
            {{ cg_days_between(cg_reporting_date('prospects.' ~ stage.column), cg_reporting_date('prospects.' ~ next_stage.column)) }}
        end as days_{{ stage.name }}_to_{{ next_stage.name }},
        {%- endfor %}
        sourcing_touches.touchpoint_id as sourcing_touchpoint_id,
        -- a touch naming no channel says 'unknown' (never null), which must not hide the original channel
        coalesce(nullif(sourcing_touches.channel, 'unknown'), prospects.original_channel, 'unknown') as sourcing_channel,
        sourcing_touches.platform as sourcing_platform,
        sourcing_touches.campaign_id as sourcing_campaign_id
    from prospects
    left join sourcing_touches
        on sourcing_touches.prospect_id = prospects.prospect_id and sourcing_touches.touch_order = 1
)

select * from final
