{{ config(
    materialized='incremental',
    incremental_strategy='cg_replace_scope',
    cg_rebuild_on_new_columns=true,
    cg_scope_key='opportunity_id',
    post_hook=[
        "{{ cg_save_state(ref('sem_opportunities'), 'attribution__built_opportunities', sibling=ref('int_reporting_dates')) }}",
        "{{ cg_save_state('(' ~ cg_attribution_touches() ~ ') as touches', 'attribution__built_touches', sibling=ref('int_reporting_dates')) }}",
    ],
) }}
{#-
    Multi-touch attribution: for every deal, the touches that led to it, and each touch's share of the
    credit under five models.

    A deal's touches: the touchpoints of its account's people and of its primary person (who may sit at
    another account), strictly before the deal was created and no more than var attribution_lookback_days
    (default 90) days of 24 hours before, whatever the session's time zone. Touches are ordered by time (ties: the touchpoint id).

    Models (n = the deal's touches, i = a touch's position):
    - first_touch / last_touch: the first / last touch gets 1;
    - linear: 1 / n each;
    - position_based (40/20/40): the first and last get 0.4 each and the middle ones share 0.2; one touch
      gets 1, two get 0.5 each;
    - time_decay: weight 2^(-days before the deal / var attribution_time_decay_half_life_days (default 7)),
      normalized so the weights sum to 1 (computed from the deal's latest touch, weight 1, so that no half-life
      makes every weight underflow to 0; a touch whose weight does, next to it, gets no credit and no row).
    Only touches with credit are kept (first_touch and last_touch have one row per deal; the other models
    give every touch some credit, but for a time_decay weight too small for a double), so credits sum to 1 per
    deal and model; deals without touches have no
    rows (channel_performance_monthly reports them as unattributed).
    attributed_pipeline_reporting = credit x the deal's amount in the reporting currency;
    attributed_revenue_reporting = the same for won deals, 0 otherwise.

    Incremental (strategy cg_replace_scope, macros/incremental/replace_scope.sql), equal to a full build: a
    deal's rows depend only on the deal and on the touches of its account and primary person, so a run
    rebuilds the deals whose row in sem_opportunities changed or is gone, and every deal of an account or
    person with a touch that is new, changed (time, type, channel, campaign, platform, person, account) or
    gone - compared with copies of both inputs the last build kept in intermediate.attribution__built_*.
    Without those copies every deal is rebuilt. After a change of the attribution vars, run --full-refresh.
-#}
{%- set lookback_days = var('attribution_lookback_days', 90) | int -%}
{#- in hours: days added to a timestamp with time zone follow the session time zone's calendar, 23 or 25 hours
    across a daylight-saving change -#}
{%- set lookback_start = "opportunities.created_at - " ~ (lookback_days * 24) ~ " * interval '1 hour'" -%}
{%- set half_life_days = var('attribution_time_decay_half_life_days', 7) | float -%}
{%- if half_life_days <= 0 -%}
    {{ exceptions.raise_compiler_error("var attribution_time_decay_half_life_days is "
                                       ~ var('attribution_time_decay_half_life_days') ~ ": it must be a number of days above 0") }}
{%- endif -%}
{%- set default_model = cg_attribution_default_model() -%}

with all_opportunities as (
    select * from {{ ref('sem_opportunities') }}
),

all_touches as (
    {{ cg_attribution_touches() }}
),
{%- if is_incremental() %}
{%- set built_opportunities = cg_state_relation(ref('int_reporting_dates'), 'attribution__built_opportunities') %}
{%- set built_touches = cg_state_relation(ref('int_reporting_dates'), 'attribution__built_touches') %}
{#- without the kept copies of the last build's inputs, every deal is rebuilt #}
{%- set whole = built_opportunities is none or built_touches is none %}
{%- set opportunity_columns = 'opportunity_id, account_id, primary_prospect_id, created_at, created_date, '
                              ~ 'closed_date, is_won, is_new_customer, amount_reporting, won_amount_reporting' %}
{%- set touch_columns = 'touchpoint_id, prospect_id, account_id, occurred_at, touchpoint_type, channel, '
                        ~ 'campaign_id, platform' %}

{%- if not whole %}

changed_touches as (
    {{ cg_changed_keys('all_touches', 'account_id, prospect_id', touch_columns, stored=built_touches) }}
),
{%- endif %}

{#- the deals to rebuild (see above); a deal that is gone gets a tombstone row below -#}
changed as (
    {%- if whole %}
    select opportunity_id from all_opportunities
    union
    select opportunity_id from {{ this }}
    {%- else %}
    {{ cg_changed_keys('all_opportunities', 'opportunity_id', opportunity_columns, stored=built_opportunities) }}
    {#- two equality joins: one join on "same account or same person" compares every changed touch with every deal #}
    union
    select all_opportunities.opportunity_id
    from all_opportunities
    inner join changed_touches on changed_touches.account_id = all_opportunities.account_id
    union
    select all_opportunities.opportunity_id
    from all_opportunities
    inner join changed_touches on changed_touches.prospect_id = all_opportunities.primary_prospect_id
    {%- endif %}
),

opportunities as (
    select all_opportunities.*
    from all_opportunities
    inner join changed on changed.opportunity_id = all_opportunities.opportunity_id
),
{%- else %}

opportunities as (
    select * from all_opportunities
),
{%- endif %}

touchpoints as (
    select touchpoint_id, prospect_id, account_id, occurred_at from all_touches
),

{#- (deal, touch) pairs; union (not union all): a touch of the primary person at the deal's own account counts once -#}
eligible as (
    select opportunities.opportunity_id, touchpoints.touchpoint_id, touchpoints.occurred_at
    from opportunities
    inner join touchpoints on touchpoints.account_id = opportunities.account_id
    where touchpoints.occurred_at < opportunities.created_at
        and touchpoints.occurred_at >= {{ lookback_start }}

    union

    select opportunities.opportunity_id, touchpoints.touchpoint_id, touchpoints.occurred_at
    from opportunities
    inner join touchpoints on touchpoints.prospect_id = opportunities.primary_prospect_id
    where touchpoints.occurred_at < opportunities.created_at
        and touchpoints.occurred_at >= {{ lookback_start }}
),

positioned as (
    select
        eligible.opportunity_id,
        eligible.touchpoint_id,
        {{ cg_days_elapsed('eligible.occurred_at', 'opportunities.created_at') }} as days_before_opportunity,
        row_number() over (
            partition by eligible.opportunity_id order by eligible.occurred_at, eligible.touchpoint_id
        ) as touch_position,
        count(*) over (partition by eligible.opportunity_id) as touch_count
    from eligible
    inner join opportunities on opportunities.opportunity_id = eligible.opportunity_id
),

weighted as (
    select
        positioned.*,
        exp(-ln(2.0) * (positioned.days_before_opportunity
            - min(positioned.days_before_opportunity) over (partition by positioned.opportunity_id))
            / {{ half_life_days }}) as decay_weight
    from positioned
),

{#- every model's credit of a touch, side by side -#}
credited as (
    select
        weighted.opportunity_id,
        weighted.touchpoint_id,
        weighted.days_before_opportunity,
        weighted.touch_position,
        weighted.touch_count,
        case when weighted.touch_position = 1 then 1.0 else 0.0 end as first_touch,
        case when weighted.touch_position = weighted.touch_count then 1.0 else 0.0 end as last_touch,
        1.0 / weighted.touch_count as linear,
        case
            when weighted.touch_count = 1 then 1.0
            when weighted.touch_count = 2 then 0.5
            when weighted.touch_position = 1 or weighted.touch_position = weighted.touch_count then 0.4
            else 0.2 / (weighted.touch_count - 2)
        end as position_based,
        weighted.decay_weight / sum(weighted.decay_weight) over (partition by weighted.opportunity_id) as time_decay
    from weighted
),

credits as (
    {%- for model_name in cg_attribution_models() %}
    select
        opportunity_id,
        touchpoint_id,
        days_before_opportunity,
        touch_position,
        touch_count,
        '{{ model_name }}' as attribution_model,
        cast({{ model_name }} as double precision) as credit
    from credited
    {%- if model_name in ['first_touch', 'last_touch', 'time_decay'] %}
    where {{ model_name }} > 0
    {%- endif %}
    {% if not loop.last %}union all{% endif %}
    {%- endfor %}
),

final as (
    select
        credits.opportunity_id,
        credits.touchpoint_id,
        credits.attribution_model,
        credits.credit,
        {{ cg_money_share('credits.credit * opportunities.amount_reporting') }} as attributed_pipeline_reporting,
        {{ cg_money_share('credits.credit * opportunities.won_amount_reporting') }} as attributed_revenue_reporting,
        case when opportunities.is_new_customer then credits.credit else 0 end as attributed_new_customers,
        credits.attribution_model = '{{ default_model }}' as is_default_model,
        credits.touch_position,
        cast(credits.touch_count as integer) as touch_count,
        touches.occurred_at as touchpoint_occurred_at,
        credits.days_before_opportunity,
        touches.touchpoint_type,
        touches.prospect_id,
        opportunities.account_id,
        touches.channel,
        touches.platform,
        touches.campaign_id,
        opportunities.created_date as opportunity_created_date,
        opportunities.closed_date as opportunity_closed_date,
        opportunities.is_won,
        '{{ var("reporting_currency", "USD") | upper }}' as reporting_currency
    from credits
    inner join opportunities on opportunities.opportunity_id = credits.opportunity_id
    inner join all_touches as touches on touches.touchpoint_id = credits.touchpoint_id
)
{%- if is_incremental() %}

select final.*, changed.opportunity_id as cg_scope_key
from changed
left join final on final.opportunity_id = changed.opportunity_id
{%- else %}

select * from final
{%- endif %}
