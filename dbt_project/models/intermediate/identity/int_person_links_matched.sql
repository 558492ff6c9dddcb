{#-
    Match edges between person records, each with its rule and confidence (blocking on equal keys
    only, never all pairs):
    1. source_merge (1.0): Salesforce master_record_id, HubSpot hs_merged_object_ids.
    2. lead_conversion (1.0): a converted Salesforce lead and the contact it became.
    3. native_id (1.0): a HubSpot contact's synced salesforcecontactid / salesforceleadid, when
       int_person_native_ids_checked trusts it (a native id wins over a conflicting e-mail or a
       conflicting name, not over both). A record linked natively to a record with a different
       e-mail does not match on its own e-mail.
    4. email (0.95): equal normalized e-mail, when the names of the records sharing it do not conflict
       and the address is not a role inbox. First and last names are compared apart
       (normalize_person_name_part): two records conflict when both have a first name and they differ, or both a
       last name and they differ; a part one of them lacks conflicts with nothing ("Linh" fits "Linh Nguyen").
       One conflicting pair on an address, and nobody on it matches by this rule.
    5. email_and_name (0.9): equal normalized e-mail AND equal first and last name keys, for addresses
       several people share (role inboxes such as info@, or records whose names conflict): people whose
       names differ are never merged, and records without a name stay apart.
    A deleted record's e-mail and name take no part in rules 4 and 5: a record the user deleted (a wrong address, a
    test) can neither join two live people nor keep them apart. A deleted record rules 1-3 do not link attaches to
    one live person at most, as a leaf: the one rule 4 or 5 would give it, when its name fits (a contact archived in
    HubSpot still joins the live Salesforce lead on its address).
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

keyed_records as (
    select records.record_key, records.email, records.is_role_email, coalesce(records.is_deleted, false) as is_deleted,
        {{ normalize_person_name_part('records.first_name') }} as first_name_key,
        {{ normalize_person_name_part('records.last_name') }} as last_name_key
    from records
    left join email_conflicts on email_conflicts.record_key = records.record_key
    where records.email is not null and email_conflicts.record_key is null
),

{#- names conflict on an address when it has two different first names or two different last names -#}
email_groups as (
    select email,
        count(distinct first_name_key) > 1 or count(distinct last_name_key) > 1 as has_name_conflict,
        max(case when is_role_email then 1 else 0 end) as is_role_email,
        min(first_name_key) as first_name_key,
        min(last_name_key) as last_name_key,
        min(record_key) as anchor_record_key
    from keyed_records
    where not is_deleted
    group by email
),

{#- the records rules 4 and 5 link: every live one, and as leaves the deleted ones rules 1-3 do not place, which
    join no group and anchor none (they link to an anchor, once: an address is shared or it is not) -#}
subjects as (
    select keyed_records.*
    from keyed_records
    left join native_targets on native_targets.record_key = keyed_records.record_key
    where not keyed_records.is_deleted or native_targets.record_key is null
),

{#- a live record's names always fit its unconflicted address; a leaf's must -#}
email_links as (
    select subjects.record_key as record_key_a, email_groups.anchor_record_key as record_key_b,
        'email' as match_rule, 0.95 as match_confidence
    from subjects
    inner join email_groups on email_groups.email = subjects.email
    where not email_groups.has_name_conflict and email_groups.is_role_email = 0
        and (subjects.first_name_key is null or email_groups.first_name_key is null
             or subjects.first_name_key = email_groups.first_name_key)
        and (subjects.last_name_key is null or email_groups.last_name_key is null
             or subjects.last_name_key = email_groups.last_name_key)
),

named_on_shared_address as (
    select subjects.*
    from subjects
    inner join email_groups on email_groups.email = subjects.email
    where (email_groups.has_name_conflict or email_groups.is_role_email = 1)
        and (subjects.first_name_key is not null or subjects.last_name_key is not null)
),

email_name_anchors as (
    select email, first_name_key, last_name_key, min(record_key) as anchor_record_key
    from named_on_shared_address
    where not is_deleted
    group by email, first_name_key, last_name_key
),

email_and_name_links as (
    select named_on_shared_address.record_key as record_key_a, email_name_anchors.anchor_record_key as record_key_b,
        'email_and_name' as match_rule, 0.9 as match_confidence
    from named_on_shared_address
    inner join email_name_anchors
        on email_name_anchors.email = named_on_shared_address.email
        and email_name_anchors.first_name_key is not distinct from named_on_shared_address.first_name_key
        and email_name_anchors.last_name_key is not distinct from named_on_shared_address.last_name_key
),

all_links as (
    select record_key_a, record_key_b, match_rule, match_confidence from native_links
    union all select * from email_links
    union all select * from email_and_name_links
)

select record_key_a, record_key_b, match_rule, cast(match_confidence as numeric(4, 3)) as match_confidence
from all_links
where record_key_a <> record_key_b
