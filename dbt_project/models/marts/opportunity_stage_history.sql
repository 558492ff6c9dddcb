{#-
    One row per visit of an opportunity to a stage: when it entered, when it left (the next stage's
    entry), days in the stage and the amount on entry. Salesforce from OpportunityHistory (changes
    of amount or close date inside a stage are folded into the visit). HubSpot from the moment each deal
    last entered each stage, its current amount and close date on every visit; an entry HubSpot does not
    report is estimated (is_entered_at_estimated; see int_opportunity_stage_changes).
    A stage is told apart, and its category found, by its key (pipeline_id, stage_id; see
    int_opportunity_stage_categories), not by its label: a HubSpot label may mean different things in two
    pipelines. `stage` shows the label.
-#}
with changes as (
    select * from {{ ref('int_opportunity_stage_changes') }}
),

opportunities as (
    select opportunity_id, source_system, source_opportunity_id, currency_code, is_closed, stage as current_stage
    from {{ ref('opportunities') }}
),

categories as (
    select * from {{ ref('int_opportunity_stage_categories') }}
),

as_of as (
    select as_of_date from {{ ref('int_reporting_dates') }}
),

ordered as (
    select
        changes.*,
        lag(changes.stage_id) over (
            partition by changes.source_system, changes.source_opportunity_id
            order by changes.changed_at, changes.change_id
        ) as previous_stage_id,
        lag(changes.pipeline_id) over (
            partition by changes.source_system, changes.source_opportunity_id
            order by changes.changed_at, changes.change_id
        ) as previous_pipeline_id
    from changes
),

visits as (
    select
        ordered.*,
        lead(ordered.changed_at) over (
            partition by ordered.source_system, ordered.source_opportunity_id
            order by ordered.changed_at, ordered.change_id
        ) as exited_at,
        row_number() over (
            partition by ordered.source_system, ordered.source_opportunity_id
            order by ordered.changed_at, ordered.change_id
        ) as stage_sequence
    from ordered
    where ordered.previous_stage_id is null
        or ordered.previous_stage_id <> ordered.stage_id
        or coalesce(ordered.previous_pipeline_id, '') <> coalesce(ordered.pipeline_id, '')
)

select
    opportunities.opportunity_id,
    visits.source_system,
    visits.source_opportunity_id,
    visits.stage_sequence,
    visits.stage,
    coalesce(categories.stage_category, 'open') as stage_category,
    visits.changed_at as entered_at,
    visits.exited_at,
    visits.exited_at is null as is_current_stage,
    case
        when visits.exited_at is not null
            then {{ cg_days_between(cg_reporting_date('visits.changed_at'), cg_reporting_date('visits.exited_at')) }}
        when not opportunities.is_closed
            then {{ cg_days_between(cg_reporting_date('visits.changed_at'), 'as_of.as_of_date') }}
    end as days_in_stage,
    visits.amount as amount_at_entry,
    opportunities.currency_code,
    visits.probability_pct,
    visits.close_date as close_date_at_entry,
    visits.is_estimated as is_entered_at_estimated
from visits
inner join opportunities
    on opportunities.source_system = visits.source_system
    and opportunities.source_opportunity_id = visits.source_opportunity_id
left join categories
    on categories.source_system = visits.source_system
    and coalesce(categories.pipeline_id, '') = coalesce(visits.pipeline_id, '')
    and categories.stage_id = visits.stage_id
cross join as_of
