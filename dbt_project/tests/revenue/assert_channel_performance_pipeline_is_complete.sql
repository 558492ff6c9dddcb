{#-
    Fails when channel_performance_monthly's pipeline (attributed + unattributed) or deal count differs
    from the opportunities created up to the as-of date (the report's cut, as shared_metrics_daily's): every deal
    counts exactly once, nothing fans out (each row's pipeline is rounded to the cent, hence half a cent of slack
    per row).
-#}
with as_of as (
    select as_of_date from {{ ref('int_reporting_dates') }}
),

reported as (
    select sum(attributed_pipeline_reporting) as pipeline, sum(opportunities) as opportunities, count(*) as row_count
    from {{ ref('channel_performance_monthly') }}
),

expected as (
    select sum(coalesce(opportunities.amount_reporting, 0)) as pipeline, count(*) as opportunities
    from {{ ref('sem_opportunities') }} as opportunities
    cross join as_of
    where opportunities.created_date <= as_of.as_of_date
)

select reported.*, expected.pipeline as expected_pipeline, expected.opportunities as expected_opportunities
from reported
cross join expected
where abs(coalesce(reported.pipeline, 0) - coalesce(expected.pipeline, 0)) > 0.005 * reported.row_count + 0.01
    or abs(coalesce(reported.opportunities, 0) - expected.opportunities) > 0.001
