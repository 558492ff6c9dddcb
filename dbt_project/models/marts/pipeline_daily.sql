{{ config(
    materialized='incremental',
    incremental_strategy='cg_replace_scope',
    cg_rebuild_on_new_columns=true,
    cg_scope_key='opportunity_id',
    cg_window_column='date_day',
    post_hook=[
        "{{ cg_save_state(ref('int_opportunity_stage_ranges'), 'pipeline_daily__built_ranges') }}",
        "{{ cg_save_state(ref('int_currency_rates_daily'), 'pipeline_daily__built_rates', sibling=ref('int_opportunity_stage_ranges')) }}",
        "{{ cg_save_state(ref('int_reporting_dates'), 'pipeline_daily__built_as_of', sibling=ref('int_opportunity_stage_ranges')) }}",
    ],
) }}
{#-
    What the pipeline looked like on each day: one row per opportunity and day from the day it was
    created (reporting time zone) to the day it closed, or to the as-of date while it is open.
    Stage, amount and close date are those in force at the end of the day (int_opportunity_stage_ranges).
    amount_reporting uses each day's rate.

    Incremental (strategy cg_replace_scope, macros/incremental/replace_scope.sql), equal to a full build.
    What the last build was made of is kept by the post-hooks (pipeline_daily__built_ranges, _rates, _as_of).
    A run keeps every stored day up to the last day both builds cover (the older as-of date), or up to the
    day before the first day whose currency rate changed; it rebuilds every day after that for every deal
    (usually the one new day), and ALL the days of every deal whose ranges up to that day differ from the
    last build's: a late edit, a restated history, a deal merged away or deleted, a changed stage category.
    Without the kept state every deal is rebuilt.
-#}
with ranges as (
    select * from {{ ref('int_opportunity_stage_ranges') }}
),

as_of as (
    select as_of_date from {{ ref('int_reporting_dates') }}
),

rates as (
    select * from {{ ref('int_currency_rates_daily') }}
),

{%- if is_incremental() %}
{%- set built = cg_state_relation(ref('int_opportunity_stage_ranges'), 'pipeline_daily__built_ranges') %}
{%- set built_rates = cg_state_relation(ref('int_opportunity_stage_ranges'), 'pipeline_daily__built_rates') %}
{%- set built_as_of = cg_state_relation(ref('int_opportunity_stage_ranges'), 'pipeline_daily__built_as_of') %}
{%- set whole = built is none or built_rates is none or built_as_of is none %}
{%- set range_columns = 'opportunity_id, range_start, least(range_end, kept.last_day) as range_end, '
                        ~ 'stage, stage_category, amount, currency_code, close_date' %}
{%- set rate_columns = 'date_day, currency_code, rate_to_reporting' %}

{#- the stored days that stay: up to the older of the two as-of dates and before the first changed rate #}
kept as (
    {%- if whole %}
    select cast(null as date) as last_day, cast('1900-01-01' as date) as first_rebuilt_day
    {%- else %}
    select last_day, {{ cg_add_days('last_day', 1) }} as first_rebuilt_day
    from (
        select least(
            as_of.as_of_date,
            built_as_of.as_of_date,
            coalesce({{ cg_add_days('rate_changes.first_day', -1) }}, as_of.as_of_date)
        ) as last_day
        from as_of
        cross join {{ built_as_of }} as built_as_of
        cross join (
            select min(date_day) as first_day
            from ({{ cg_changed_keys('rates', 'date_day', rate_columns, stored=built_rates) }}) as differences
        ) as rate_changes
    ) as bounds
    {%- endif %}
),

{#- deals whose kept days differ from the last build's (in either direction) #}
changed as (
    {%- if whole %}
    select opportunity_id from ranges
    union
    select opportunity_id from {{ this }}
    {%- else %}
    select distinct opportunity_id from (
        (
            select {{ range_columns }} from ranges cross join kept where range_start <= kept.last_day
            except
            select {{ range_columns }} from {{ built }} cross join kept where range_start <= kept.last_day
        )
        union all
        (
            select {{ range_columns }} from {{ built }} cross join kept where range_start <= kept.last_day
            except
            select {{ range_columns }} from ranges cross join kept where range_start <= kept.last_day
        )
    ) as differences
    {%- endif %}
),

{#- the ranges to expand: the whole of changed deals, the days after the kept ones of the others #}
rebuilt_ranges as (
    select
        ranges.opportunity_id,
        case when changed.opportunity_id is null then greatest(ranges.range_start, kept.first_rebuilt_day)
             else ranges.range_start end as range_start,
        ranges.range_end,
        ranges.stage,
        ranges.stage_category,
        ranges.amount,
        ranges.currency_code,
        ranges.close_date
    from ranges
    cross join kept
    left join changed on changed.opportunity_id = ranges.opportunity_id
    where ranges.range_end >= kept.first_rebuilt_day or changed.opportunity_id is not null
),
{%- else %}

rebuilt_ranges as (
    select * from ranges
),
{%- endif %}

days as (
    {{ cg_date_series('(select min(range_start) from rebuilt_ranges)', '(select as_of_date from as_of)') }}
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

{#- a changed deal without rows any more (merged away, deleted) is named by a tombstone row; when no row at all is
    rebuilt (an as-of date moved back, nothing changed), one all-null row still carries cg_replace_from, so the
    stored days after the new as-of date are deleted #}
select rebuilt.*, kept.first_rebuilt_day as cg_replace_from
from kept
left join (
    select pipeline_days.*, changed.opportunity_id as cg_scope_key
    from pipeline_days
    full outer join changed on changed.opportunity_id = pipeline_days.opportunity_id
) as rebuilt on true
{%- else %}

select * from pipeline_days
{%- endif %}
