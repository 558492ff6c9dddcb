{#-
    The category (open / won / lost) of every stage name, per CRM: HubSpot from the pipeline stage
    definitions (closed, and won when probability is 100%); Salesforce from the opportunities now
    in that stage (the stage picklist fixes IsClosed / IsWon), stages only seen in history being open
    unless their name says closed won / closed lost.
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
)

select
    'salesforce' as source_system,
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
    stage_label as stage,
    case
        when max(case when is_won then 1 else 0 end) = 1 then 'won'
        when max(case when is_closed then 1 else 0 end) = 1 then 'lost'
        else 'open'
    end as stage_category
from {{ ref('stg_hubspot__deal_pipeline_stages') }}
where stage_label is not null
group by stage_label
