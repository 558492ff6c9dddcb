{{ config(
    materialized='incremental',
    incremental_strategy='cg_replace_scope',
    cg_scope_key='opportunity_id',
    cg_window_column='date_day',
    post_hook=["{{ cg_save_state(ref('int_opportunity_stage_ranges'), 'pipeline_daily__built_ranges') }}"],
) }}
{#-
    What the pipeline looked like on each day: one row per opportunity and day from the day it was
    created (reporting time zone) to the day it closed, or to the as-of date while it is open.
    Stage, amount and close date are those in force at the end of the day (int_opportunity_stage_ranges).
    amount_reporting uses each day's rate.

    Incremental (strategy cg_replace_scope, macros/incremental/replace_scope.sql), equal to a full build:
    every run rebuilds the trailing var incremental_lookback_days days of every deal, and ALL the days of
    every deal whose ranges before that window differ from the ranges of the last build (kept by the
    post-hook in pipeline_daily__built_ranges): a late edit, a restated history, a deal merged away or
    deleted, a changed stage category, a jump of the as-of date. Without that copy every deal is rebuilt.
    Not detected: a change of the currency rates seed for past days - run --full-refresh after one.
-#}
with ranges as (
    select * from {{ ref('int_opportunity_stage_ranges') }}
),

as_of as (
    select as_of_date from {{ ref('int_reporting_dates') }}
),

{%- if is_incremental() %}
{%- set built = cg_state_relation(ref('int_opportunity_stage_ranges'), 'pipeline_daily__built_ranges') %}
{%- set range_columns = 'opportunity_id, range_start, least(range_end, lookback.last_past_day) as range_end, '
                        ~ 'stage, stage_category, amount, currency_code, close_date' %}

lookback as (
    select
        {{ cg_incremental_window_start('as_of_date') }} as first_day,
        {{ cg_add_days(cg_incremental_window_start('as_of_date'), -1) }} as last_past_day
    from as_of
),

{#- deals whose days before the window differ from the last build's (in either direction) #}
changed as (
    {%- if built is none %}
    select opportunity_id from ranges
    union
    select opportunity_id from {{ this }}
    {%- else %}
    select distinct opportunity_id from (
        (
            select {{ range_columns }} from ranges cross join lookback where range_start < lookback.first_day
            except
            select {{ range_columns }} from {{ built }} cross join lookback where range_start < lookback.first_day
        )
        union all
        (
            select {{ range_columns }} from {{ built }} cross join lookback where range_start < lookback.first_day
            except
            select {{ range_columns }} from ranges cross join lookback where range_start < lookback.first_day
        )
    ) as differences
    {%- endif %}
),

{#- the ranges to expand: the whole of changed deals, the window of the others #}
rebuilt_ranges as (
    select
        ranges.opportunity_id,
        case when changed.opportunity_id is null then greatest(ranges.range_start, lookback.first_day)
             else ranges.range_start end as range_start,
        ranges.range_end,
        ranges.stage,
        ranges.stage_category,
        ranges.amount,
        ranges.currency_code,
        ranges.close_date
    from ranges
    cross join lookback
    left join changed on changed.opportunity_id = ranges.opportunity_id
    where ranges.range_end >= lookback.first_day or changed.opportunity_id is not null
),
{%- else %}

rebuilt_ranges as (
    select * from ranges
),
{%- endif %}

days as (
    {{ cg_date_series('(select min(range_start) from rebuilt_ranges)', '(select as_of_date from as_of)') }}
),

rates as (
    select * from {{ ref('int_currency_rates_daily') }}
),

pipeline_days as (
    select
        days.date_day,
        rebuilt_ranges.opportunity_id,
        rebuilt_ranges.stage,
        rebuilt_ranges.stage_category,
        rebuilt_ranges.amount,
        rebuilt_ranges.currency_code,
        {{ cg_money('rebuilt_ranges.amount * rates.rate_to_reporting') }} as amount_reporting,
        rebuilt_ranges.close_date,
        rebuilt_ranges.stage_category = 'open' as is_open
    from rebuilt_ranges
    inner join days on days.date_day >= rebuilt_ranges.range_start and days.date_day <= rebuilt_ranges.range_end
    left join rates on rates.currency_code = rebuilt_ranges.currency_code and rates.date_day = days.date_day
)

{%- if is_incremental() %}

{#- a changed deal without rows any more (merged away, deleted) is named by a tombstone row #}
select pipeline_days.*, changed.opportunity_id as cg_scope_key, lookback.first_day as cg_replace_from
from pipeline_days
full outer join changed on changed.opportunity_id = pipeline_days.opportunity_id
cross join lookback
{%- else %}

select * from pipeline_days
{%- endif %}
