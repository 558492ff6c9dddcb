{#-
    One row per deal: Salesforce opportunities and HubSpot deals (not deleted, archived or merged
    away). The two CRMs share no synced deal id in the raw data, so a deal entered in both stays two
    rows told apart by source_system. Amounts keep their currency; amount_reporting converts them
    with the rate of the close date (else the creation date), clamped to the rate calendar
    (int_currency_rates_daily): a date before its first day takes the first day's rate, a date after its
    last day the last day's.
-#}
with opportunities as (
    select * from {{ ref('int_opportunities_unioned') }}
    where not is_deleted
),

{#- the live companies and people only: a deal still naming a deleted one is tied to none -#}
account_records as (
    select record_key, entity_id as account_id from {{ ref('int_account_records_clustered') }}
    where {{ cg_of_live_entity(ref('int_account_records_clustered')) }}
),

person_records as (
    select record_key, entity_id as prospect_id from {{ ref('int_person_records_clustered') }}
    where {{ cg_of_live_entity(ref('int_person_records_clustered')) }}
),

campaign_records as (
    select source_system, source_campaign_id, campaign_id from {{ ref('int_campaign_source_records') }}
),

rates as (
    select * from {{ ref('int_currency_rates_daily') }}
),

calendar as (
    select min(date_day) as first_day, max(date_day) as last_day from rates
),

final as (
    select
        {{ surrogate_key(["'opportunity'", 'opportunities.source_system', 'opportunities.source_opportunity_id']) }}
            as opportunity_id,
        opportunities.source_system,
        opportunities.source_opportunity_id,
        case when opportunities.source_system = 'salesforce' then opportunities.source_opportunity_id end
            as salesforce_opportunity_id,
        case when opportunities.source_system = 'hubspot' then opportunities.source_opportunity_id end as hubspot_deal_id,
        account_records.account_id,
        person_records.prospect_id as primary_prospect_id,
        opportunities.owner_name,
        opportunities.opportunity_name,
        opportunities.pipeline,
        opportunities.stage,
        case
            when opportunities.is_won then 'won'
            when opportunities.is_closed then 'lost'
            else 'open'
        end as stage_category,
        {{ cg_opportunity_type('opportunities.opportunity_type_raw') }} as opportunity_type,
        opportunities.opportunity_type_raw,
        opportunities.forecast_category,
        opportunities.amount,
        opportunities.currency_code,
        {{ cg_money('opportunities.amount * rates.rate_to_reporting') }} as amount_reporting,
        '{{ var("reporting_currency", "USD") | upper }}' as reporting_currency,
        opportunities.probability_pct,
        opportunities.created_at,
        opportunities.close_date,
        opportunities.closed_at,
        opportunities.is_closed,
        opportunities.is_won,
        case when opportunities.is_closed then
            {{ cg_days_between(cg_reporting_date('opportunities.created_at'),
                               'coalesce(' ~ cg_reporting_date('opportunities.closed_at') ~ ', opportunities.close_date)') }}
        end as sales_cycle_days,
        campaign_records.campaign_id as primary_campaign_id,
        opportunities.lead_source,
        opportunities.channel
    from opportunities
    left join account_records on account_records.record_key = opportunities.account_record_key
    left join person_records on person_records.record_key = opportunities.person_record_key
    left join campaign_records
        on campaign_records.source_system = 'salesforce'
        and campaign_records.source_campaign_id = opportunities.salesforce_campaign_id
    cross join calendar
    left join rates
        on rates.currency_code = opportunities.currency_code
        and rates.date_day = greatest(least(
            coalesce(opportunities.close_date, {{ cg_reporting_date('opportunities.created_at') }}),
            calendar.last_day), calendar.first_day)
)

select * from final
