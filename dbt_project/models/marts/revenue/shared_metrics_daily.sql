{#-
    The shared KPIs per day and channel for BI tools that cannot query the semantic layer, generated from
    the semantic layer's own metric definitions (models/semantic/*.yml, macro cg_shared_metrics_sql): one
    row per metric, day (the first of the month for monthly metrics, grain = month) and channel where the
    metric has data. Simple metrics: value. Ratio metrics: value = numerator / denominator, rows only where
    the denominator is not 0; over a longer period, sum numerator and denominator (or the metrics named in
    numerator_metric / denominator_metric) and divide - never average the daily values.

    Materialized as a table, not incrementally: identity merges and restated deals move first-stage and
    close dates arbitrarily far back, so a day-lookback increment would drift from a full build, and the full
    build of this table takes a few seconds.
-#}
-- depends_on: {{ ref('prospect_funnel') }}
-- depends_on: {{ ref('sem_opportunities') }}
-- depends_on: {{ ref('sem_ad_spend_daily') }}
-- depends_on: {{ ref('attribution') }}
-- depends_on: {{ ref('customer_retention') }}
-- depends_on: {{ ref('metricflow_time_spine') }}

with metrics as (
    {{ cg_shared_metrics_sql() }}
),

as_of as (
    select as_of_date from {{ ref('int_reporting_dates') }}
)

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
