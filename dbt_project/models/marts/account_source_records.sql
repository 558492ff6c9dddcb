{#- One row per source company record (Salesforce account, HubSpot company) with the account it belongs to. -#}
with records as (
    select * from {{ ref('int_account_records_clustered') }}
)

select
    records.entity_id as account_id,
    records.source_system,
    records.source_record_id,
    records.match_rule,
    records.match_confidence,
    {{ cg_regexp_extract('records.matched_record_key', '^([^:]+):') }} as matched_source_system,
    {{ cg_regexp_extract('records.matched_record_key', '^[^:]+:(.*)$') }} as matched_source_record_id,
    records.account_name as source_account_name,
    records.domain_key as source_domain,
    records.name_key as source_name_key,
    records.country_code as source_country,
    records.is_deleted,
    records.is_merged,
    records.created_at
from records
