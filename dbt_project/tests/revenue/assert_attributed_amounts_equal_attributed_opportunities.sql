{#-
    Fails with every attribution model whose attributed pipeline (or revenue) differs from the pipeline (won
    revenue) of the deals it credits by more than a cent plus the rounding of each share to 6 decimals
    (half a millionth per row): credit only splits a deal, never adds or loses money.
-#}
with credited as (
    select
        attribution_model,
        count(*) as credit_rows,
        sum(coalesce(attributed_pipeline_reporting, 0)) as attributed_pipeline,
        sum(coalesce(attributed_revenue_reporting, 0)) as attributed_revenue
    from {{ ref('attribution') }}
    group by attribution_model
),

deals as (
    select
        credits.attribution_model,
        sum(coalesce(opportunities.amount_reporting, 0)) as pipeline,
        sum(case when opportunities.is_won then coalesce(opportunities.amount_reporting, 0) else 0 end) as revenue
    from (select distinct attribution_model, opportunity_id from {{ ref('attribution') }}) as credits
    inner join {{ ref('opportunities') }} as opportunities on opportunities.opportunity_id = credits.opportunity_id
    group by credits.attribution_model
)

select credited.*, deals.pipeline, deals.revenue
from credited
inner join deals on deals.attribution_model = credited.attribution_model
where abs(credited.attributed_pipeline - deals.pipeline) > 0.01 + 0.0000005 * credited.credit_rows
    or abs(credited.attributed_revenue - deals.revenue) > 0.01 + 0.0000005 * credited.credit_rows
