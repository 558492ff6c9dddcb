{{ config(materialized='table', schema='semantic') }}
{#-
    One row per deal (the opportunities mart) with what the shared deal metrics count, in one place:
    reporting-time-zone dates of creation and close, the won amount, the sales cycle of won deals, the
    sourced channel (the deal's lead source, seed channel_mapping) and whether the deal made its account a
    new customer (the account's first won deal by close time; ties: the opportunity id). Read by the
    semantic model opportunity_metrics, attribution, channel_performance_monthly and shared_metrics_daily.
-#}
with opportunities as (
    select * from {{ ref('opportunities') }}
),

first_wins as (
    select opportunity_id
    from (
        select
            opportunity_id,
            row_number() over (partition by account_id order by closed_at, opportunity_id) as win_order
        from opportunities
        where is_won and account_id is not null and closed_at is not null
    ) as ordered
    where win_order = 1
)

select
    opportunities.opportunity_id,
    opportunities.source_system,
    opportunities.account_id,
    opportunities.primary_prospect_id,
    opportunities.opportunity_type,
    opportunities.stage_category,
    opportunities.is_closed,
    opportunities.is_won,
    opportunities.created_at,
    {{ cg_reporting_date('opportunities.created_at') }} as created_date,
    opportunities.closed_at,
    case when opportunities.is_closed then {{ cg_reporting_date('opportunities.closed_at') }} end as closed_date,
    opportunities.amount_reporting,
    case when opportunities.is_won then opportunities.amount_reporting else 0 end as won_amount_reporting,
    case when opportunities.is_won then opportunities.sales_cycle_days end as won_sales_cycle_days,
    first_wins.opportunity_id is not null as is_new_customer,
    {{ cg_lead_source_channel('opportunities.lead_source') }} as channel
from opportunities
left join first_wins on first_wins.opportunity_id = opportunities.opportunity_id
