{#-
    Every native cross-system id a HubSpot contact carries (salesforcecontactid, salesforceleadid)
    that points at a loaded record, with the evidence for and against it (email_agreement,
    name_agreement: agree / conflict / missing). is_trusted: a native id wins over a conflicting
    e-mail or a conflicting name, but one contradicted with no support at all (the name differs
    and the e-mail differs or is missing, or the e-mail differs and the name is missing) is taken
    for a broken sync and makes no link; these rows are the work list of such conflicts.
-#}
with records as (
    select * from {{ ref('int_person_records_unioned') }}
),

synced as (
    select record_key, synced_contact_record_key as target_record_key from records
    where synced_contact_record_key is not null
    union all
    select record_key, synced_lead_record_key from records where synced_lead_record_key is not null
)

select
    synced.record_key,
    synced.target_record_key,
    case
        when source.email is null or target.email is null then 'missing'
        when source.email = target.email then 'agree' else 'conflict'
    end as email_agreement,
    case
        when source.name_key is null or target.name_key is null then 'missing'
        when source.name_key = target.name_key then 'agree' else 'conflict'
    end as name_agreement,
    not (
        (source.name_key is not null and target.name_key is not null and source.name_key <> target.name_key)
        and not coalesce(source.email = target.email, false)
    ) and not (
        (source.email is not null and target.email is not null and source.email <> target.email)
        and not coalesce(source.name_key = target.name_key, false)
    ) as is_trusted
from synced
inner join records as source on source.record_key = synced.record_key
inner join records as target on target.record_key = synced.target_record_key
