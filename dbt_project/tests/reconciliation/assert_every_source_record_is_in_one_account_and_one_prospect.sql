{{ config(meta={'dagster': {'ref': {'name': 'account_source_records'}}}) }}
{#- Fails when a source company or person record is missing from its bridge table (or counted twice). -#}
with expected as (
    select 'salesforce' as source_system, count(*) as records from {{ ref('stg_salesforce__accounts') }}
    union all select 'hubspot', count(*) from {{ ref('stg_hubspot__companies') }}
    union all select 'salesforce_lead', count(*) from {{ ref('stg_salesforce__leads') }}
    union all select 'salesforce_contact', count(*) from {{ ref('stg_salesforce__contacts') }}
    union all select 'hubspot_contact', count(*) from {{ ref('stg_hubspot__contacts') }}
),

bridged as (
    select source_system, count(*) as records from {{ ref('account_source_records') }} group by source_system
    union all
    select source_system, count(*) from {{ ref('prospect_source_records') }} group by source_system
)

select expected.source_system, expected.records as expected_records, bridged.records as bridged_records
from expected
left join bridged on bridged.source_system = expected.source_system
where expected.records <> coalesce(bridged.records, 0)
