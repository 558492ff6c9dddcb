{#-
    What the pipeline looked like on each day: one row per opportunity and day from the day it was
    created (reporting time zone) to the day it closed, or to the as-of date while it is open.
    Stage, amount and close date are those in force at the end of the day (Salesforce
    OpportunityHistory; HubSpot deals only know their current state, which is used for every day).
    amount_reporting uses each day's rate.
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
        day_states.amount,
        day_states.close_date,
        day_states.probability_pct,
        bounded.created_date,
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

days as (
    {{ cg_date_series('(select min(created_date) from opportunities)', '(select as_of_date from as_of)') }}
),

categories as (
    select * from {{ ref('int_opportunity_stage_categories') }}
),

rates as (
    select * from {{ ref('int_currency_rates_daily') }}
)

select
    days.date_day,
    state_ranges.opportunity_id,
    state_ranges.stage,
    coalesce(categories.stage_category, 'open') as stage_category,
    state_ranges.amount,
    state_ranges.currency_code,
    {{ cg_money('state_ranges.amount * rates.rate_to_reporting') }} as amount_reporting,
    state_ranges.close_date,
    coalesce(categories.stage_category, 'open') = 'open' as is_open
from state_ranges
inner join days on days.date_day >= state_ranges.range_start and days.date_day <= state_ranges.range_end
left join categories on categories.source_system = state_ranges.source_system and categories.stage = state_ranges.stage
left join rates on rates.currency_code = state_ranges.currency_code and rates.date_day = days.date_day
