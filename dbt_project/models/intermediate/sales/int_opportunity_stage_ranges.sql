{{ config(materialized='table') }}
{#-
    The compact form of pipeline_daily: one row per deal and run of days with the same end-of-day state
    (stage, category, amount, close date), clamped to the deal's life: from its creation day to its close day,
    or to the as-of date while it is open (reporting time zone). Stage, amount and close date are those in
    force at the end of each day (the day's last change wins; HubSpot deals the stages they entered, with
    their current amount and close date); the first state also covers the days before it.
    pipeline_daily expands these ranges to days, and compares them with the ranges of its last build to find
    the deals whose past days changed. The category is found by the stage's key (pipeline_id, stage_id; see
    int_opportunity_stage_categories), not its label: a HubSpot label may mean different things in two pipelines.
-#}
with opportunities as (
    select
        opportunity_id,
        source_system,
        source_opportunity_id,
        currency_code,
        {{ cg_reporting_date('created_at') }} as created_date,
        {{ cg_reporting_date('closed_at') }} as closed_date,
        is_closed
    from {{ ref('opportunities') }}
),

as_of as (
    select as_of_date from {{ ref('int_reporting_dates') }}
),

bounded as (
    select
        opportunities.*,
        case
            when opportunities.is_closed
                then least(coalesce(opportunities.closed_date, as_of.as_of_date), as_of.as_of_date)
            else as_of.as_of_date
        end as last_date
    from opportunities
    cross join as_of
),

changes as (
    select
        changes.*,
        {{ cg_reporting_date('changes.changed_at') }} as change_date
    from {{ ref('int_opportunity_stage_changes') }} as changes
),

{#- the state at the end of each day with a change (the day's last change wins) -#}
day_states as (
    select *
    from (
        select
            changes.*,
            row_number() over (
                partition by source_system, source_opportunity_id, change_date
                order by changed_at desc, change_id desc
            ) as order_in_day
        from changes
    ) as ordered
    where order_in_day = 1
),

{#- each state's days, clamped to the opportunity's life; the first state also covers the days before it -#}
state_ranges as (
    select
        bounded.opportunity_id,
        bounded.source_system,
        bounded.currency_code,
        day_states.stage,
        day_states.pipeline_id,
        day_states.stage_id,
        day_states.amount,
        day_states.close_date,
        case
            when row_number() over (partition by bounded.opportunity_id order by day_states.change_date) = 1
                then bounded.created_date
            else greatest(day_states.change_date, bounded.created_date)
        end as range_start,
        least(
            coalesce(
                {{ cg_add_days('lead(day_states.change_date) over (partition by bounded.opportunity_id order by day_states.change_date)', -1) }},
                bounded.last_date),
            bounded.last_date
        ) as range_end
    from bounded
    inner join day_states
        on day_states.source_system = bounded.source_system
        and day_states.source_opportunity_id = bounded.source_opportunity_id
),

categories as (
    select * from {{ ref('int_opportunity_stage_categories') }}
)

select
    state_ranges.opportunity_id,
    state_ranges.range_start,
    state_ranges.range_end,
    state_ranges.stage,
    coalesce(categories.stage_category, 'open') as stage_category,
    state_ranges.amount,
    state_ranges.currency_code,
    state_ranges.close_date
from state_ranges
left join categories
    on categories.source_system = state_ranges.source_system
    and coalesce(categories.pipeline_id, '') = coalesce(state_ranges.pipeline_id, '')
    and categories.stage_id = state_ranges.stage_id
-- a range that ends before it starts holds no day
where state_ranges.range_start <= state_ranges.range_end
