{{ config(materialized='table') }}
{#-
    One row per known change of an opportunity's stage / amount / close date, in both CRMs:
    - Salesforce: every OpportunityHistory row (stage entered, amount or close date changed).
      An opportunity without history gets one row at its creation with its current values.
    - HubSpot: raw has no deal stage history (no property history is synced), so each deal gets
      ONE row for its current stage, entered at an estimated moment (is_estimated = true): the
      close date for a closed deal, the creation for a deal still in its pipeline's first stage,
      else the last modification (an upper bound: the deal entered the stage at or before it).
    Each row names its stage by the key int_opportunity_stage_categories uses (pipeline_id, stage_id): the
    HubSpot deal's pipeline and dealstage ids (a label can mean different things in two pipelines); for
    Salesforce no pipeline and the stage name (StageName is org-wide). `stage` is the label, for display.
-#}
with salesforce_history as (
    select * from {{ ref('stg_salesforce__opportunity_histories') }}
    where not is_deleted
),

salesforce_opportunities as (
    select * from {{ ref('stg_salesforce__opportunities') }}
),

hubspot_deals as (
    select * from {{ ref('stg_hubspot__deals') }}
),

hubspot_stages as (
    select
        stages.*,
        row_number() over (partition by pipeline_id order by display_order, stage_id) as stage_order
    from {{ ref('stg_hubspot__deal_pipeline_stages') }} as stages
),

salesforce_changes as (
    select
        'salesforce' as source_system,
        salesforce_opportunity_id as source_opportunity_id,
        salesforce_opportunity_history_id as change_id,
        changed_at,
        stage,
        cast(null as varchar) as pipeline_id,
        stage as stage_id,
        amount,
        close_date,
        probability_pct,
        false as is_estimated
    from salesforce_history
),

salesforce_without_history as (
    select
        'salesforce' as source_system,
        opportunities.salesforce_opportunity_id as source_opportunity_id,
        'created:' || opportunities.salesforce_opportunity_id as change_id,
        opportunities.created_at as changed_at,
        opportunities.stage,
        cast(null as varchar) as pipeline_id,
        opportunities.stage as stage_id,
        opportunities.amount,
        opportunities.close_date,
        opportunities.probability_pct,
        true as is_estimated
    from salesforce_opportunities as opportunities
    where not exists (
        select 1 from salesforce_history
        where salesforce_history.salesforce_opportunity_id = opportunities.salesforce_opportunity_id
    )
),

hubspot_changes as (
    select
        'hubspot' as source_system,
        deals.hubspot_deal_id as source_opportunity_id,
        'current:' || deals.hubspot_deal_id as change_id,
        case
            when coalesce(deals.is_closed, stages.is_closed, false) and deals.close_at is not null
                then greatest(deals.close_at, deals.created_at)
            when stages.stage_order = 1 then deals.created_at
            else coalesce(deals.modified_at, deals.created_at)
        end as changed_at,
        coalesce(stages.stage_label, deals.stage_id) as stage,
        deals.pipeline_id,
        deals.stage_id,
        deals.amount,
        {{ cg_reporting_date('deals.close_at') }} as close_date,
        coalesce(deals.probability_pct, stages.probability_pct) as probability_pct,
        true as is_estimated
    from hubspot_deals as deals
    left join hubspot_stages as stages
        on stages.pipeline_id = deals.pipeline_id and stages.stage_id = deals.stage_id
)

select * from salesforce_changes
union all
select * from salesforce_without_history
union all
select * from hubspot_changes
