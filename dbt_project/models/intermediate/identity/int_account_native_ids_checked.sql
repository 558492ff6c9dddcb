{#-
    Every native cross-system id a company record carries (HubSpot salesforceaccountid) that points
    at a loaded record, with the evidence for and against it:
    - domain_agreement / name_agreement: agree, conflict, or missing (a side has no key);
    - is_trusted: at least one of domain and name agrees, or neither can be compared. A native id
      wins over a conflicting domain or a conflicting name, but one contradicted with no support at
      all (the name differs and the domain differs or is missing, or the domain differs and the name
      is missing) is taken for a broken sync and makes no link; these rows are the work list of such
      conflicts.
-#}
with records as (
    select * from {{ ref('int_account_records_unioned') }}
)

select
    synced.record_key,
    target.record_key as target_record_key,
    case
        when synced.domain_key is null or target.domain_key is null then 'missing'
        when synced.domain_key = target.domain_key then 'agree' else 'conflict'
    end as domain_agreement,
    case
        when synced.name_key is null or target.name_key is null then 'missing'
        when synced.name_key = target.name_key then 'agree' else 'conflict'
    end as name_agreement,
    not (
        (synced.name_key is not null and target.name_key is not null and synced.name_key <> target.name_key)
        and not coalesce(synced.domain_key = target.domain_key, false)
    ) and not (
        (synced.domain_key is not null and target.domain_key is not null and synced.domain_key <> target.domain_key)
        and not coalesce(synced.name_key = target.name_key, false)
    ) as is_trusted
from records as synced
inner join records as target on target.record_key = synced.synced_record_key
