{#-
    Match edges between person records, each with its rule and confidence (blocking on equal keys
    only, never all pairs):
    1. source_merge (1.0): Salesforce master_record_id, HubSpot hs_merged_object_ids.
    2. lead_conversion (1.0): a converted Salesforce lead and the contact it became.
    3. native_id (1.0): a HubSpot contact's synced salesforcecontactid / salesforceleadid, when
       int_person_native_ids_checked trusts it (a native id wins over a conflicting e-mail or a
       conflicting name, not over both). A record linked natively to a record with a different
       e-mail does not match on its own e-mail.
    4. email (0.95): equal normalized e-mail, when the records sharing it carry at most one
       distinct name and the address is not a role inbox.
    5. email_and_name (0.9): equal normalized e-mail AND equal normalized name, for addresses
       several people share (role inboxes such as info@, or records with different names):
       people whose names differ are never merged, and records without a name stay apart.
-#}
with records as (
    select * from {{ ref('int_person_records_unioned') }}
),

native_targets as (
    select record_key, merged_into_record_key as target_record_key, 'source_merge' as match_rule from records
    where merged_into_record_key is not null
    union all
    select record_key, converted_record_key, 'lead_conversion' from records where converted_record_key is not null
    union all
    select record_key, target_record_key, 'native_id' from {{ ref('int_person_native_ids_checked') }} where is_trusted
),

native_links as (
    select native_targets.record_key as record_key_a, target.record_key as record_key_b,
        native_targets.match_rule, 1.0 as match_confidence, target.email as target_email
    from native_targets
    inner join records as target on target.record_key = native_targets.target_record_key
),

email_conflicts as (
    select distinct native_links.record_key_a as record_key
    from native_links
    inner join records on records.record_key = native_links.record_key_a
    where native_links.target_email is not null and records.email is not null
        and native_links.target_email <> records.email
),

matching_keys as (
    select records.record_key, records.email, records.name_key, records.is_role_email
    from records
    left join email_conflicts on email_conflicts.record_key = records.record_key
    where records.email is not null and email_conflicts.record_key is null
),

email_groups as (
    select email,
        count(distinct name_key) as names,
        max(case when is_role_email then 1 else 0 end) as is_role_email,
        min(record_key) as anchor_record_key
    from matching_keys
    group by email
),

email_links as (
    select matching_keys.record_key as record_key_a, email_groups.anchor_record_key as record_key_b,
        'email' as match_rule, 0.95 as match_confidence
    from matching_keys
    inner join email_groups on email_groups.email = matching_keys.email
    where email_groups.names <= 1 and email_groups.is_role_email = 0
),

email_name_anchors as (
    select matching_keys.email, matching_keys.name_key, min(matching_keys.record_key) as anchor_record_key
    from matching_keys
    inner join email_groups on email_groups.email = matching_keys.email
    where (email_groups.names > 1 or email_groups.is_role_email = 1) and matching_keys.name_key is not null
    group by matching_keys.email, matching_keys.name_key
),

email_and_name_links as (
    select matching_keys.record_key as record_key_a, email_name_anchors.anchor_record_key as record_key_b,
        'email_and_name' as match_rule, 0.9 as match_confidence
    from matching_keys
    inner join email_name_anchors
        on email_name_anchors.email = matching_keys.email and email_name_anchors.name_key = matching_keys.name_key
),

all_links as (
    select record_key_a, record_key_b, match_rule, match_confidence from native_links
    union all select * from email_links
    union all select * from email_and_name_links
)

select record_key_a, record_key_b, match_rule, cast(match_confidence as numeric(4, 3)) as match_confidence
from all_links
where record_key_a <> record_key_b
