{#- One row per source person record (Salesforce lead or contact, HubSpot contact) with the prospect it belongs to. -#}
with records as (
    select * from {{ ref('int_person_records_clustered') }}
)

select
    records.entity_id as prospect_id,
    records.source_system,
    records.source_record_id,
    records.match_rule,
    records.match_confidence,
    {{ cg_regexp_extract('records.matched_record_key', '^([^:]+):') }} as matched_source_system,
    {{ cg_regexp_extract('records.matched_record_key', '^[^:]+:(.*)$') }} as matched_source_record_id,
    records.email as source_email,
    records.name_key as source_name_key,
    records.is_role_email,
    records.is_deleted,
    records.is_merged,
    records.created_at
from records
