{{ config(materialized='table') }}
{#-
    Salesforce opportunities and HubSpot deals in one shape, keyed by (source_system,
    source_opportunity_id), with the source records of their account and primary person. There is no
    synced deal id between the two CRMs in the raw data, so a deal present in both stays two rows.
-#}
with salesforce_opportunities as (
    select * from {{ ref('stg_salesforce__opportunities') }}
),

hubspot_deals as (
    select * from {{ ref('stg_hubspot__deals') }}
),

hubspot_stages as (
    select * from {{ ref('stg_hubspot__deal_pipeline_stages') }}
),

salesforce_users as (
    select * from {{ ref('stg_salesforce__users') }}
),

hubspot_owners as (
    select * from {{ ref('stg_hubspot__owners') }}
),

converted_leads as (
    select converted_salesforce_opportunity_id as salesforce_opportunity_id, min(salesforce_lead_id) as salesforce_lead_id
    from {{ ref('stg_salesforce__leads') }}
    where converted_salesforce_opportunity_id is not null
    group by converted_salesforce_opportunity_id
),

stage_changes as (
    select * from {{ ref('int_opportunity_stage_changes') }}
),

{#- The OpportunityHistory rows only: the stand-in change of an opportunity without history is dated at its
    creation, which says nothing about when it entered its current stage (a won deal would close the moment it
    was created); such a deal closes at the start of its close date. -#}
salesforce_history_changes as (
    select * from stage_changes
    where source_system = 'salesforce' and not is_estimated
),

last_other_stage_changes as (
    {#- the last change to a stage other than the current one -#}
    select opportunities.salesforce_opportunity_id, max(changes.changed_at) as changed_at
    from salesforce_opportunities as opportunities
    inner join salesforce_history_changes as changes
        on changes.source_opportunity_id = opportunities.salesforce_opportunity_id
        and changes.stage <> opportunities.stage
    group by opportunities.salesforce_opportunity_id
),

last_stage_entries as (
    {#- when the current stage was entered: its earliest change after the last change to another stage -#}
    select opportunities.salesforce_opportunity_id, min(changes.changed_at) as current_stage_entered_at
    from salesforce_opportunities as opportunities
    inner join salesforce_history_changes as changes
        on changes.source_opportunity_id = opportunities.salesforce_opportunity_id
        and changes.stage = opportunities.stage
    left join last_other_stage_changes as other
        on other.salesforce_opportunity_id = opportunities.salesforce_opportunity_id
    where other.changed_at is null or changes.changed_at > other.changed_at
    group by opportunities.salesforce_opportunity_id
),

{#- when a HubSpot deal entered its current stage, where HubSpot records it (hs_v2_date_entered_<stage>): a closed
    deal closed then, whatever its closedate says (a backdated closedate, or one before the recorded entry, would end
    the deal's days in pipeline_daily before it reached its closing stage) -#}
hubspot_current_stage_entries as (
    select source_opportunity_id as hubspot_deal_id, changed_at as current_stage_entered_at
    from stage_changes
    where source_system = 'hubspot' and change_id = 'current:' || source_opportunity_id and not is_estimated
),

salesforce as (
    select
        'salesforce' as source_system,
        opportunities.salesforce_opportunity_id as source_opportunity_id,
        opportunities.opportunity_name,
        'Salesforce' as pipeline,
        opportunities.stage,
        opportunities.is_closed,
        opportunities.is_won,
        opportunities.opportunity_type_raw,
        opportunities.amount,
        opportunities.currency_code,
        opportunities.probability_pct,
        opportunities.forecast_category,
        opportunities.created_at,
        opportunities.close_date,
        case when opportunities.is_closed then coalesce(
            last_stage_entries.current_stage_entered_at,
            {{ cg_date_start_timestamp('opportunities.close_date') }}) end as closed_at,
        opportunities.lead_source,
        {{ cg_channel('salesforce_lead_source', 'opportunities.lead_source') }} as channel,
        users.user_name as owner_name,
        opportunities.salesforce_campaign_id,
        case when opportunities.salesforce_account_id is not null
            then 'salesforce:' || opportunities.salesforce_account_id end as account_record_key,
        case when converted_leads.salesforce_lead_id is not null
            then 'salesforce_lead:' || converted_leads.salesforce_lead_id end as person_record_key,
        opportunities.is_deleted,
        opportunities.modified_at
    from salesforce_opportunities as opportunities
    left join salesforce_users as users on users.salesforce_user_id = opportunities.salesforce_owner_id
    left join converted_leads on converted_leads.salesforce_opportunity_id = opportunities.salesforce_opportunity_id
    left join last_stage_entries
        on last_stage_entries.salesforce_opportunity_id = opportunities.salesforce_opportunity_id
),

hubspot as (
    select
        'hubspot' as source_system,
        deals.hubspot_deal_id as source_opportunity_id,
        deals.deal_name as opportunity_name,
        coalesce(stages.pipeline_label, deals.pipeline_id) as pipeline,
        coalesce(stages.stage_label, deals.stage_id) as stage,
        coalesce(deals.is_closed, stages.is_closed, false) as is_closed,
        coalesce(deals.is_won, stages.is_won, false) as is_won,
        deals.deal_type_raw as opportunity_type_raw,
        deals.amount,
        deals.currency_code,
        coalesce(deals.probability_pct, stages.probability_pct) as probability_pct,
        cast(null as varchar) as forecast_category,
        deals.created_at,
        {{ cg_reporting_date('deals.close_at') }} as close_date,
        case when coalesce(deals.is_closed, stages.is_closed, false) then coalesce(
            current_stage_entries.current_stage_entered_at, deals.close_at) end as closed_at,
        deals.analytics_source as lead_source,
        {{ cg_channel('hubspot_analytics_source', 'deals.analytics_source') }} as channel,
        owners.owner_name,
        cast(null as varchar) as salesforce_campaign_id,
        case when deals.hubspot_company_id is not null then 'hubspot:' || deals.hubspot_company_id end as account_record_key,
        case when deals.hubspot_contact_id is not null
            then 'hubspot_contact:' || deals.hubspot_contact_id end as person_record_key,
        deals.is_deleted or deals.is_merged_away as is_deleted,
        deals.modified_at
    from hubspot_deals as deals
    left join hubspot_stages as stages on stages.pipeline_id = deals.pipeline_id and stages.stage_id = deals.stage_id
    left join hubspot_owners as owners on owners.hubspot_owner_id = deals.hubspot_owner_id
    left join hubspot_current_stage_entries as current_stage_entries
        on current_stage_entries.hubspot_deal_id = deals.hubspot_deal_id
)

select * from salesforce
union all
select * from hubspot
