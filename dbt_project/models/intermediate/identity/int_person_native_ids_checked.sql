{#-
    Every native cross-system id a HubSpot contact carries (salesforcecontactid, salesforceleadid)
    that points at a loaded record, with the evidence for and against it (email_agreement,
    name_agreement: agree / conflict / missing). Names are compared part by part, as the e-mail rule
    does (int_person_links_matched): they conflict when both records have a first name and they differ,
    or both a last name and they differ, and agree otherwise ("Linh" agrees with "Linh Nguyen"). is_trusted:
    a native id wins over a conflicting e-mail or a conflicting name, but one contradicted with no support at
    all (the name differs and the e-mail differs or is missing, or the e-mail differs and the name is missing)
    is taken for a broken sync and makes no link; these rows are the work list of such conflicts.
-#}
with records as (
    select * from {{ ref('int_person_records_unioned') }}
),

synced as (
    select record_key, synced_contact_record_key as target_record_key from records
    where synced_contact_record_key is not null
    union all
    select record_key, synced_lead_record_key from records where synced_lead_record_key is not null
),

pairs as (
    select
        synced.record_key,
        synced.target_record_key,
        source.email as source_email,
        target.email as target_email,
        {{ normalize_person_name_part('source.first_name') }} as source_first_name_key,
        {{ normalize_person_name_part('source.last_name') }} as source_last_name_key,
        {{ normalize_person_name_part('target.first_name') }} as target_first_name_key,
        {{ normalize_person_name_part('target.last_name') }} as target_last_name_key
    from synced
    inner join records as source on source.record_key = synced.record_key
    inner join records as target on target.record_key = synced.target_record_key
),

compared as (
    select
        record_key,
        target_record_key,
        case
            when source_email is null or target_email is null then 'missing'
            when source_email = target_email then 'agree' else 'conflict'
        end as email_agreement,
        case
            when coalesce(source_first_name_key, source_last_name_key) is null
                or coalesce(target_first_name_key, target_last_name_key) is null then 'missing'
            when source_first_name_key <> target_first_name_key or source_last_name_key <> target_last_name_key
                then 'conflict'
            else 'agree'
        end as name_agreement
    from pairs
)

select
    record_key,
    target_record_key,
    email_agreement,
    name_agreement,
    not (name_agreement = 'conflict' and email_agreement <> 'agree')
        and not (email_agreement = 'conflict' and name_agreement <> 'agree') as is_trusted
from compared
