{#-
    Match edges between company records, each with the rule that made it and a confidence, by the
    warehouse contract's rules in order of strength. Blocking only: every rule joins records on an
    equal normalized key (or links each record of a key group to the group's anchor record), never
    all pairs.

    1. source_merge (1.0): a source-side merge (Salesforce master_record_id, HubSpot
       hs_merged_object_ids).
    2. native_id (1.0): a HubSpot company carrying the Salesforce account id it is synced with.
       A native id wins over a conflicting domain or a conflicting name: the link holds when at
       least one of the two agrees (or neither can be compared), and the company's own conflicting
       domain / name is then not used for matching. A native id that nothing supports and something
       contradicts (name differs and domain differs or is missing, or domain differs and name is
       missing) is a broken sync: it makes no link (the untrusted rows of
       int_account_native_ids_checked) and the company matches on its own keys.
    3. domain (0.95): equal registrable domain (domain_key; personal e-mail domains never count).
    4. name (0.8): equal normalized name for a record without a domain, when the records of that
       name that have a domain (their own or their synced account's) all share ONE domain and a
       compatible country (equal or unknown). This is the "domain family": a name never links
       two different domains (acme.com and acme.co.uk stay two companies), and an ambiguous
       name (two domains) links nothing.
    5. name_without_domain (0.7): equal normalized name among records of a name no record with a
       domain carries, in one country (records of unknown country join only a single-country group).

    A deleted record's domain and name join no rule 3-5 group and count in no domain family, so a
    record the user deleted, with one company's name and another's website, never makes the two
    one; nor does the deleted account a native id names lend its keys to the company synced with
    it. A deleted record rules 1 and 2 do not link (not merged away, not synced) attaches to one
    company at most, as a leaf: its strongest rule 3-5 match among the live records (ties: the
    lowest record key), so a company archived in HubSpot still joins its live Salesforce twin.
-#}
with records as (
    select * from {{ ref('int_account_records_unioned') }}
),

source_merge_links as (
    select merged.record_key as record_key_a, survivor.record_key as record_key_b,
        'source_merge' as match_rule, 1.0 as match_confidence
    from records as merged
    inner join records as survivor on survivor.record_key = merged.merged_into_record_key
),

native_id_links as (
    select record_key as record_key_a, target_record_key as record_key_b,
        'native_id' as match_rule, 1.0 as match_confidence
    from {{ ref('int_account_native_ids_checked') }}
    where is_trusted
),

matching_keys as (
    select
        records.record_key,
        case when target.domain_key is not null and records.domain_key is distinct from target.domain_key
            then null else records.domain_key end as domain_key,
        case when target.name_key is not null and records.name_key is distinct from target.name_key
            then null else records.name_key end as name_key,
        coalesce(
            case when target.domain_key is not null and records.domain_key is distinct from target.domain_key
                then null else records.domain_key end,
            target.domain_key
        ) as family_domain,
        coalesce(records.country_code, target.country_code) as country_code
    from records
    left join {{ ref('int_account_native_ids_checked') }} as checked
        on checked.record_key = records.record_key and checked.is_trusted
    left join records as target on target.record_key = checked.target_record_key and not target.is_deleted
    where not records.is_deleted
),

{#- the records rules 3-5 link: every live one, and as leaves the deleted ones rules 1 and 2 do not place, whose
    keys join no group (the groups, anchors and families below are the live records') -#}
subjects as (
    select record_key, domain_key, name_key, family_domain, country_code, false as is_leaf from matching_keys
    union all
    select records.record_key, records.domain_key, records.name_key, records.domain_key, records.country_code, true
    from records
    left join source_merge_links on source_merge_links.record_key_a = records.record_key
    left join native_id_links on native_id_links.record_key_a = records.record_key
    where records.is_deleted and source_merge_links.record_key_a is null and native_id_links.record_key_a is null
),

domain_anchors as (
    select domain_key, min(record_key) as anchor_record_key
    from matching_keys
    where domain_key is not null
    group by domain_key
),

domain_links as (
    select subjects.record_key as record_key_a, domain_anchors.anchor_record_key as record_key_b,
        'domain' as match_rule, 0.95 as match_confidence, subjects.is_leaf
    from subjects
    inner join domain_anchors on domain_anchors.domain_key = subjects.domain_key
    where subjects.record_key <> domain_anchors.anchor_record_key
),

named as (
    select * from matching_keys where name_key is not null
),

name_candidates as (
    select domainless.record_key, domainless.is_leaf, with_domain.family_domain,
        min(with_domain.record_key) as candidate_record_key
    from subjects as domainless
    inner join named as with_domain
        on with_domain.name_key = domainless.name_key
        and with_domain.family_domain is not null
        and (domainless.country_code is null or with_domain.country_code is null
             or domainless.country_code = with_domain.country_code)
    where domainless.family_domain is null
    group by domainless.record_key, domainless.is_leaf, with_domain.family_domain
),

name_links as (
    select record_key as record_key_a, min(candidate_record_key) as record_key_b,
        'name' as match_rule, 0.8 as match_confidence, is_leaf
    from name_candidates
    group by record_key, is_leaf
    having count(*) = 1
),

names_with_a_domain as (
    select distinct name_key from named where family_domain is not null
),

domainless_named as (
    select named.*
    from named
    left join names_with_a_domain on names_with_a_domain.name_key = named.name_key
    where named.family_domain is null and names_with_a_domain.name_key is null
),

domainless_groups as (
    select name_key, count(distinct country_code) as countries, min(record_key) as anchor_record_key
    from domainless_named
    group by name_key
),

domainless_country_groups as (
    select name_key, country_code, min(record_key) as anchor_record_key
    from domainless_named
    where country_code is not null
    group by name_key, country_code
),

name_without_domain_links as (
    select subjects.record_key as record_key_a,
        case when domainless_groups.countries <= 1 then domainless_groups.anchor_record_key
            else domainless_country_groups.anchor_record_key end as record_key_b,
        'name_without_domain' as match_rule, 0.7 as match_confidence, subjects.is_leaf
    from subjects
    inner join domainless_groups on domainless_groups.name_key = subjects.name_key
    left join domainless_country_groups
        on domainless_country_groups.name_key = subjects.name_key
        and domainless_country_groups.country_code = subjects.country_code
    where subjects.family_domain is null
),

rule_links as (
    select * from domain_links
    union all select * from name_links
    union all select * from name_without_domain_links
),

{#- a leaf keeps its strongest link alone, so it never joins two companies -#}
leaf_links as (
    select record_key_a, record_key_b, match_rule, match_confidence
    from (
        select
            rule_links.*,
            row_number() over (partition by record_key_a order by match_confidence desc, record_key_b) as preference
        from rule_links
        where is_leaf and record_key_b is not null
    ) as ranked
    where preference = 1
),

all_links as (
    select * from source_merge_links
    union all select * from native_id_links
    union all select record_key_a, record_key_b, match_rule, match_confidence from rule_links where not is_leaf
    union all select * from leaf_links
)

select record_key_a, record_key_b, match_rule, cast(match_confidence as numeric(4, 3)) as match_confidence
from all_links
where record_key_b is not null and record_key_a <> record_key_b
