{{ config(materialized='table', schema='semantic') }}
{#-
    The people of prospect_funnel as they stood on the as-of date (int_reporting_dates), for the semantic model
    prospect_funnel: a stage entered after it is not reached yet, a person who became a lead after it is left out,
    as funnel_monthly counts them. So a ratio across two stages' dates (mql_to_sql_rate: the MQLs of a day that
    are SQLs now) counts no SQL of the future, in MetricFlow and in shared_metrics_daily alike, when the as-of date
    is set in the past (var as_of_date) or is the last load day.
-#}
{%- set stages = cg_funnel_stages() %}
with people as (
    select * from {{ ref('prospect_funnel') }}
),

as_of as (
    select as_of_date from {{ ref('int_reporting_dates') }}
)

select
    people.prospect_id,
    people.account_id,
    people.channel,
    people.sourcing_channel,
    people.lifecycle_stage,
    people.cohort_month,
    {%- for stage in stages %}
    case when people.{{ stage.name }}_date <= as_of.as_of_date then people.{{ stage.name }}_date end
        as {{ stage.name }}_date,
    {%- endfor %}
    {%- for stage in stages[1:3] %}
    people.is_{{ stage.name }}_skipped and people.{{ stage.name }}_date <= as_of.as_of_date
        as is_{{ stage.name }}_skipped{% if not loop.last %},{% endif %}
    {%- endfor %}
from people
cross join as_of
where people.lead_date <= as_of.as_of_date
