{#-
    The shared KPIs per day and channel for BI tools that cannot query the semantic layer, generated from
    the semantic layer's own metric definitions (models/semantic/*.yml, macro cg_shared_metrics_sql): one
    row per metric, day (the first of the month for monthly metrics, grain = month) and channel where the
    metric has data. Simple metrics: value. Ratio metrics: a row wherever the numerator or the denominator is not
    0 (the other side 0 when it has no data that day), value = numerator / denominator, null where the denominator
    is 0; over a longer period, sum numerator and denominator (or the metrics named in numerator_metric /
    denominator_metric) and divide - never average the daily values. customers_at_start, customers_retained and
    logo_retention_rate count customers at a moment (non_additive_dimension in the semantic layer): over a
    quarter or a year, take its last month's row, never a sum.

    Incremental (strategy cg_replace_scope, macros/incremental/replace_scope.sql), equal to a full build:
    identity merges and restated deals move first-stage and close dates arbitrarily far back, so a plain
    day-lookback increment would drift. Every run computes all the metrics (cheap: aggregates of tables built
    anyway) and replaces whole days: each day whose rows differ from the stored ones in any way (a value, a
    row more, a row less) and every day of the trailing var incremental_lookback_days days.
-#}
{{ config(
    materialized='incremental',
    incremental_strategy='cg_replace_scope',
    cg_rebuild_on_new_columns=true,
    cg_scope_key='date_day',
) }}
-- depends_on: {{ ref('sem_prospect_funnel') }}
-- depends_on: {{ ref('sem_opportunities') }}
-- depends_on: {{ ref('sem_ad_spend_daily') }}
-- depends_on: {{ ref('sem_attributed_results') }}
-- depends_on: {{ ref('customer_retention') }}
-- depends_on: {{ ref('metricflow_time_spine') }}

with metrics as (
    {{ cg_shared_metrics_sql() }}
),

as_of as (
    select as_of_date from {{ ref('int_reporting_dates') }}
),

metric_rows as (
    select
        metrics.date_day,
        metrics.metric_name,
        metrics.channel,
        metrics.value,
        metrics.numerator,
        metrics.denominator,
        metrics.metric_type,
        metrics.numerator_metric,
        metrics.denominator_metric,
        metrics.grain,
        metrics.unit,
        '{{ var("reporting_currency", "USD") | upper }}' as reporting_currency
    from metrics
    cross join as_of
    where metrics.date_day <= as_of.as_of_date
)

{%- if is_incremental() %}
{%- set columns = 'date_day, metric_name, channel, value, numerator, denominator, metric_type, numerator_metric, '
                  ~ 'denominator_metric, grain, unit, reporting_currency' %}
,

lookback as (
    select {{ cg_incremental_window_start('as_of_date') }} as first_day from as_of
),

{#- days whose rows differ from the stored ones (in either direction), and the trailing window #}
changed as (
    {{ cg_changed_keys('metric_rows', 'date_day', columns) }}
    union
    select date_day from metric_rows cross join lookback where date_day >= lookback.first_day
)

{#- a day without rows any more is named by a tombstone row (all data columns null) #}
select metric_rows.*, changed.date_day as cg_scope_key
from changed
left join metric_rows on metric_rows.date_day = changed.date_day
{%- else %}

select * from metric_rows
{%- endif %}
