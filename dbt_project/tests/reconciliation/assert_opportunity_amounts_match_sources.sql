{{ config(meta={'dagster': {'ref': {'name': 'opportunities'}}}) }}
{#- Fails with every (source system, currency) whose deal count or amount in `opportunities` differs from the sources'. -#}
with sources as (
    select 'salesforce' as source_system, currency_code, count(*) as deals, sum(amount) as amount
    from {{ ref('stg_salesforce__opportunities') }}
    where not is_deleted
    group by currency_code
    union all
    select 'hubspot' as source_system, currency_code, count(*) as deals, sum(amount) as amount
    from {{ ref('stg_hubspot__deals') }}
    where not is_deleted and not is_merged_away
    group by currency_code
),

mart as (
    select source_system, currency_code, count(*) as deals, sum(amount) as amount
    from {{ ref('opportunities') }}
    group by source_system, currency_code
)

select
    coalesce(sources.source_system, mart.source_system) as source_system,
    coalesce(sources.currency_code, mart.currency_code) as currency_code,
    sources.deals as source_deals,
    mart.deals as mart_deals,
    sources.amount as source_amount,
    mart.amount as mart_amount
from sources
full outer join mart
    on mart.source_system = sources.source_system
    and mart.currency_code is not distinct from sources.currency_code
where sources.deals is distinct from mart.deals
    or abs(coalesce(sources.amount, 0) - coalesce(mart.amount, 0)) > 0.01
