{{ config(materialized='table') }}
{#-
    One row per known change of an opportunity's stage / amount / close date, in both CRMs:
    - Salesforce: every OpportunityHistory row (stage entered, amount or close date changed).
      An opportunity without history gets one row at its creation with its current values.
    - HubSpot: one row per stage the deal has entered, at the moment it last entered it
      (stg_hubspot__deal_stage_entries, HubSpot's `hs_v2_date_entered_<stage id>` properties). HubSpot keeps
      no history of amounts or close dates, so every row carries the deal's current ones. A deal whose entry into
      its current stage HubSpot does not report (a portal whose deals lack those properties) gets that row at an
      estimated moment (is_estimated = true): the close date for a closed deal, the creation for a deal still in
      its pipeline's first stage, else the last modification (an upper bound: the deal entered the stage at or
      before it). Entries after the current stage's are left out: they contradict the deal's current stage.
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

{#- each stage entry of a deal, with its stage found by its column key: in the deal's pipeline, else in the
    pipeline the deal left it in -#}
hubspot_stage_entries as (
    select *
    from (
        select
            entries.hubspot_deal_id,
            entries.entered_at,
            stages.pipeline_id,
            stages.stage_id,
            stages.stage_label,
            stages.probability_pct,
            row_number() over (
                partition by entries.hubspot_deal_id, entries.stage_column_key
                order by case when stages.pipeline_id = deals.pipeline_id then 0 else 1 end, stages.pipeline_id
            ) as match_order
        from {{ ref('stg_hubspot__deal_stage_entries') }} as entries
        inner join hubspot_deals as deals
            on deals.hubspot_deal_id = entries.hubspot_deal_id
        inner join hubspot_stages as stages
            on {{ cg_hubspot_stage_column_key('stages.stage_id') }} = entries.stage_column_key
    ) as matched
    where match_order = 1
),

hubspot_current_stages as (
    select
        deals.*,
        coalesce(stages.stage_label, deals.stage_id) as stage,
        coalesce(deals.probability_pct, stages.probability_pct) as current_probability_pct,
        entries.entered_at as recorded_entry_at,
        case
            when coalesce(deals.is_closed, stages.is_closed, false) and deals.close_at is not null
                then greatest(deals.close_at, deals.created_at)
            when stages.stage_order = 1 then deals.created_at
            else coalesce(deals.modified_at, deals.created_at)
        end as estimated_entry_at
    from hubspot_deals as deals
    left join hubspot_stages as stages
        on stages.pipeline_id = deals.pipeline_id and stages.stage_id = deals.stage_id
    left join hubspot_stage_entries as entries
        on entries.hubspot_deal_id = deals.hubspot_deal_id
        and entries.pipeline_id = deals.pipeline_id
        and entries.stage_id = deals.stage_id
),

hubspot_changes as (
    select
        'hubspot' as source_system,
        hubspot_deal_id as source_opportunity_id,
        'current:' || hubspot_deal_id as change_id,
        coalesce(recorded_entry_at, estimated_entry_at) as changed_at,
        stage,
        pipeline_id,
        stage_id,
        amount,
        {{ cg_reporting_date('close_at') }} as close_date,
        current_probability_pct as probability_pct,
        recorded_entry_at is null as is_estimated
    from hubspot_current_stages

    union all

    select
        'hubspot' as source_system,
        entries.hubspot_deal_id as source_opportunity_id,
        'entered:' || entries.hubspot_deal_id || ':' || entries.pipeline_id || ':' || entries.stage_id as change_id,
        entries.entered_at as changed_at,
        coalesce(entries.stage_label, entries.stage_id) as stage,
        entries.pipeline_id,
        entries.stage_id,
        deals.amount,
        {{ cg_reporting_date('deals.close_at') }} as close_date,
        entries.probability_pct,
        false as is_estimated
    from hubspot_stage_entries as entries
    inner join hubspot_current_stages as deals
        on deals.hubspot_deal_id = entries.hubspot_deal_id
    where not (entries.pipeline_id = coalesce(deals.pipeline_id, '') and entries.stage_id = coalesce(deals.stage_id, ''))
        and entries.entered_at < coalesce(deals.recorded_entry_at, deals.estimated_entry_at)
)

select * from salesforce_changes
union all
select * from salesforce_without_history
union all
select * from hubspot_changes
