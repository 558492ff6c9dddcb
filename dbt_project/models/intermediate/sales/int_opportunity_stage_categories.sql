{#-
    The category (open / won / lost) of every stage, per CRM, keyed as int_opportunity_stage_changes carries the
    stage: (source_system, pipeline_id, stage_id). A stage's category follows the rule opportunities applies to a
    deal (int_opportunities_unioned): the closed / won flags of the deals now in the stage, else the stage's own.
    - Salesforce: a stage is its name (StageName; the picklist is org-wide, so pipeline_id is null and stage_id is
      the name). Won when an opportunity now in it is IsWon, lost when one is IsClosed (the picklist fixes both);
      a stage only seen in history is won / lost when its name says closed won / closed, else open.
    - HubSpot: a stage is (pipeline id, dealstage id), never its label: two pipelines may give one label different
      meanings ("Contract signed" closed won in one, open in the other). From the deals now in it (hs_is_closed_won,
      hs_is_closed), else its pipeline stage definition (closed; won when closed with probability 100%); a stage a
      deal is in without a definition is listed too. The label (else the id) is kept in `stage` for display.
-#}
with salesforce_current as (
    select stage,
        max(case when is_won then 1 else 0 end) as any_won,
        max(case when is_closed then 1 else 0 end) as any_closed
    from {{ ref('stg_salesforce__opportunities') }}
    where stage is not null
    group by stage
),

salesforce_history as (
    select distinct stage from {{ ref('stg_salesforce__opportunity_histories') }} where stage is not null
),

salesforce_stages as (
    select stage from salesforce_current
    union
    select stage from salesforce_history
),

{#- the pipeline stage definitions (archived ones too: a deal may still be in one) -#}
hubspot_definitions as (
    select
        pipeline_id,
        stage_id,
        max(stage_label) as stage_label,
        max(case when is_won then 1 else 0 end) as is_won,
        max(case when is_closed then 1 else 0 end) as is_closed
    from {{ ref('stg_hubspot__deal_pipeline_stages') }}
    where stage_id is not null
    group by pipeline_id, stage_id
),

{#- the flags of the deals now in each stage; null where no deal in it carries them -#}
hubspot_current as (
    select
        pipeline_id,
        stage_id,
        max(case when is_won then 1 when not is_won then 0 end) as any_won,
        max(case when is_closed then 1 when not is_closed then 0 end) as any_closed
    from {{ ref('stg_hubspot__deals') }}
    where stage_id is not null
    group by pipeline_id, stage_id
),

hubspot_stages as (
    select pipeline_id, stage_id from hubspot_definitions
    union
    select pipeline_id, stage_id from hubspot_current
)

select
    'salesforce' as source_system,
    cast(null as varchar) as pipeline_id,
    salesforce_stages.stage as stage_id,
    salesforce_stages.stage,
    case
        when salesforce_current.any_won = 1 then 'won'
        when salesforce_current.any_closed = 1 then 'lost'
        when salesforce_current.stage is null and lower(salesforce_stages.stage) like '%closed%won%' then 'won'
        when salesforce_current.stage is null and lower(salesforce_stages.stage) like '%closed%' then 'lost'
        else 'open'
    end as stage_category
from salesforce_stages
left join salesforce_current on salesforce_current.stage = salesforce_stages.stage

union all

select
    'hubspot' as source_system,
    hubspot_stages.pipeline_id,
    hubspot_stages.stage_id,
    coalesce(definitions.stage_label, hubspot_stages.stage_id) as stage,
    case
        when coalesce(deals.any_won, definitions.is_won) = 1 then 'won'
        when coalesce(deals.any_closed, definitions.is_closed) = 1 then 'lost'
        else 'open'
    end as stage_category
from hubspot_stages
left join hubspot_definitions as definitions
    on definitions.pipeline_id = hubspot_stages.pipeline_id and definitions.stage_id = hubspot_stages.stage_id
left join hubspot_current as deals
    on coalesce(deals.pipeline_id, '') = coalesce(hubspot_stages.pipeline_id, '')
    and deals.stage_id = hubspot_stages.stage_id
