{{ config(meta={'dagster': {'ref': {'name': 'pipeline_daily'}}}) }}
{#- Fails with the open deals whose last pipeline_daily row (the as-of date) disagrees with the opportunity's current stage. -#}
with as_of as (
    select as_of_date from {{ ref('int_reporting_dates') }}
)

select opportunities.opportunity_id, opportunities.stage, pipeline_daily.stage as pipeline_stage
from {{ ref('opportunities') }} as opportunities
cross join as_of
inner join {{ ref('pipeline_daily') }} as pipeline_daily
    on pipeline_daily.opportunity_id = opportunities.opportunity_id and pipeline_daily.date_day = as_of.as_of_date
where not opportunities.is_closed and opportunities.source_system = 'salesforce'
    and pipeline_daily.stage <> opportunities.stage
