{#-
    One row per real-world company: the Salesforce accounts and HubSpot companies identity
    resolution put together (int_account_records_clustered), each field taken from the system
    the var `survivorship` names (macros/identity/survivorship.sql).
-#}
with records as (
    select * from {{ ref('int_account_records_clustered') }}
),

won_opportunities as (
    select records.entity_id as account_id, min(opportunities.closed_at) as first_closed_won_at
    from {{ ref('int_opportunities_unioned') }} as opportunities
    inner join records on records.record_key = opportunities.account_record_key
    where opportunities.is_won and not opportunities.is_deleted
    group by records.entity_id
),

open_opportunities as (
    select distinct records.entity_id as account_id
    from {{ ref('int_opportunities_unioned') }} as opportunities
    inner join records on records.record_key = opportunities.account_record_key
    where not opportunities.is_closed and not opportunities.is_deleted
),

as_of as (
    select as_of_date from {{ ref('int_reporting_dates') }}
),

rates as (
    select * from {{ ref('int_currency_rates_daily') }}
),

{#- within-system preferences (ascending sort keys): survivorship takes live records first, then the most
    recently modified; the primary source id of each system is the live, unmerged, oldest record -#}
{%- set survivor_order = ["case when is_deleted then 1 else 0 end",
                          "-1 * coalesce(" ~ cg_epoch('modified_at') ~ ", 0)", "record_key"] %}
{%- set primary_order = ["case when is_deleted or is_merged then 1 else 0 end",
                         "coalesce(" ~ cg_epoch('created_at') ~ ", 1e12)", "source_record_id"] %}

survived as (
    select
        entity_id as account_id,
        {{ cg_survive('account_name', 'account_name', survivor_order) }} as account_name,
        {{ cg_survive('domain_key', 'primary_domain', survivor_order) }} as primary_domain,
        {{ cg_survive('industry', 'industry', survivor_order) }} as industry,
        {{ cg_survive('employee_count', 'employee_count', survivor_order) }} as employee_count,
        {{ cg_survive('annual_revenue', 'annual_revenue', survivor_order) }} as annual_revenue,
        {{ cg_survive('annual_revenue_currency', 'annual_revenue', survivor_order, presence_column='annual_revenue') }}
            as annual_revenue_currency,
        {{ cg_survive('country_code', 'country', survivor_order) }} as country,
        {{ cg_survive('owner_name', 'owner', survivor_order) }} as owner_name,
        {{ cg_survive('lifecycle_stage', 'account_lifecycle_stage', survivor_order) }} as lifecycle_stage,
        {{ cg_first_by('source_record_id', primary_order, "source_system = 'salesforce'") }} as salesforce_account_id,
        {{ cg_first_by('source_record_id', primary_order, "source_system = 'hubspot'") }} as hubspot_company_id,
        {{ cg_first_by("source_system || ' ' || source_record_id", primary_order) }} as fallback_name,
        max(case when source_system = 'salesforce' and lifecycle_stage = 'customer' then 1 else 0 end)
            as is_salesforce_customer_type,
        min(created_at) as created_at,
        min(case when is_deleted then 1 else 0 end) as all_deleted,
        sum(case when source_system = 'salesforce' then 1 else 0 end) as salesforce_record_count,
        sum(case when source_system = 'hubspot' then 1 else 0 end) as hubspot_record_count,
        min(cluster_match_rule) as match_rule,
        min(cluster_match_confidence) as match_confidence
    from records
    group by entity_id
),

final as (
    select
        survived.account_id,
        coalesce(survived.account_name, survived.primary_domain, '(unnamed ' || survived.fallback_name || ')') as account_name,
        survived.primary_domain,
        survived.industry,
        survived.employee_count,
        survived.annual_revenue,
        survived.annual_revenue_currency,
        {{ cg_money('survived.annual_revenue * rates.rate_to_reporting') }} as annual_revenue_reporting,
        survived.country,
        survived.owner_name,
        survived.salesforce_account_id,
        survived.hubspot_company_id,
        coalesce(
            survived.lifecycle_stage,
            case
                when won_opportunities.first_closed_won_at is not null then 'customer'
                when open_opportunities.account_id is not null then 'opportunity'
                else 'lead'
            end
        ) as lifecycle_stage,
        won_opportunities.first_closed_won_at is not null or survived.is_salesforce_customer_type = 1 as is_customer,
        won_opportunities.first_closed_won_at,
        survived.created_at,
        survived.all_deleted = 1 as is_deleted,
        survived.salesforce_record_count,
        survived.hubspot_record_count,
        survived.match_rule,
        survived.match_confidence
    from survived
    cross join as_of
    left join rates
        on rates.currency_code = survived.annual_revenue_currency and rates.date_day = as_of.as_of_date
    left join won_opportunities on won_opportunities.account_id = survived.account_id
    left join open_opportunities on open_opportunities.account_id = survived.account_id
)

select * from final
