{{
    config(
        materialized='incremental',
        incremental_strategy='cg_replace_scope',
        cg_scope_key='issue_id',
    )
}}
{#-
    The work list of where Salesforce and HubSpot disagree: one row per open issue, with both record ids and
    a plain-language detail. Live source records only (not deleted, not merged away).

    Issue types (entity; when; severity):
    - lifecycle_stage_conflict (account): a customer (won deal in either CRM, or Salesforce type Customer)
      whose HubSpot company is still subscriber..opportunity, or a HubSpot customer company that is no
      customer anywhere else, when the company is in both CRMs; high.
    - lifecycle_stage_conflict (prospect): the primary contact of a won Salesforce deal who is subscriber /
      lead / MQL in HubSpot; a HubSpot customer whose only Salesforce records are unconverted leads, or who
      is a Salesforce contact of a company that is no customer; high.
    - missing_in_hubspot / missing_in_salesforce (account): a customer, or a company with deals, that only
      one CRM has; high (customer), medium (open deal), low.
    - duplicate_record (account, prospect): a second live record of the same company / person inside one
      system (converted leads excepted; an open Salesforce lead of a person who is a Salesforce contact
      counts); medium (customer account), low.
    - missing_owner (account, opportunity): a customer's or an open deal's company record, or an open deal,
      without owner; medium.
    - owner_conflict (account, prospect): the two systems' records name different owners (by e-mail where both
      owners have one, else by name; a person's HubSpot contact against their primary Salesforce contact, else
      lead); low (an account's: medium with an open deal).
    - domain_conflict (account): the two systems' primary records carry different registrable domains, or a
      HubSpot company's synced Salesforce id points at an account with another domain (identity resolution
      kept them apart); medium.
    - sync_link_conflict (account, prospect): a HubSpot record's synced Salesforce id points at a record
      whose name (company) or e-mail and name (person) disagree; medium.
    - opportunity_without_account (opportunity): a deal tied to no company; high (open / won), low.
    - missing_currency (opportunity): an amount without currency, or whose currency has no rate; medium.

    detail names records by their ids and people by their names, never by e-mail: the published snapshot may
    carry e-mails hashed (PUBLISH_HASHED_EMAILS), and a detail would give them away in clear.

    issue_id: a hash of the issue type and the SOURCE record ids involved (these never change), so an issue
    keeps its id from one night to the next even when identity resolution renumbers the account or person.

    Incremental (strategy cg_replace_scope, macros/incremental/replace_scope.sql): every run detects all issues
    and writes only the ones whose row differs from the stored one: a new issue (first_detected_at is this run's
    start), a changed one (its detail, severity or entity moved; it keeps its first_detected_at), and one no
    longer detected, which is removed (a tombstone row), so that if it comes back it is a new detection. The
    rest of the table is not touched. A --full-refresh forgets the detection history (every first_detected_at
    becomes the run's start).
-#}

with accounts as (
    select * from {{ ref('accounts') }}
    where not is_deleted
),

account_records as (
    select *
    from {{ ref('int_account_records_clustered') }}
    where not is_deleted and not is_merged
),

opportunities as (
    select * from {{ ref('opportunities') }}
),

person_records as (
    select *
    from {{ ref('int_person_records_clustered') }}
    where not is_deleted and not is_merged
),

prospects as (
    select * from {{ ref('prospects') }}
    where not is_deleted
),

{#- HubSpot records whose synced Salesforce id identity resolution refused: the two records disagree -#}
broken_account_syncs as (
    select checked.*
    from {{ ref('int_account_native_ids_checked') }} as checked
    where not checked.is_trusted
),

broken_person_syncs as (
    select checked.*
    from {{ ref('int_person_native_ids_checked') }} as checked
    where not checked.is_trusted
),

account_deals as (
    select
        account_id,
        max(case when not is_closed then 1 else 0 end) = 1 as has_open_opportunity,
        count(*) as opportunity_count,
        min(case when is_won then closed_at end) as first_won_at
    from opportunities
    where account_id is not null
    group by account_id
),

account_systems as (
    select
        entity_id as account_id,
        sum(case when source_system = 'salesforce' then 1 else 0 end) as salesforce_records,
        sum(case when source_system = 'hubspot' then 1 else 0 end) as hubspot_records
    from account_records
    group by entity_id
),

{#- each account with its primary live record in each system -#}
account_pairs as (
    select
        accounts.account_id,
        accounts.account_name,
        accounts.is_customer,
        coalesce(account_deals.has_open_opportunity, false) as has_open_opportunity,
        coalesce(account_deals.opportunity_count, 0) as opportunity_count,
        account_deals.first_won_at,
        coalesce(account_systems.salesforce_records, 0) as salesforce_records,
        coalesce(account_systems.hubspot_records, 0) as hubspot_records,
        salesforce.source_record_id as salesforce_record_id,
        salesforce.account_type as salesforce_account_type,
        salesforce.owner_name as salesforce_owner,
        salesforce.owner_email as salesforce_owner_email,
        salesforce.domain_key as salesforce_domain,
        hubspot.source_record_id as hubspot_record_id,
        hubspot.lifecycle_stage as hubspot_lifecycle_stage,
        hubspot.owner_name as hubspot_owner,
        hubspot.owner_email as hubspot_owner_email,
        hubspot.domain_key as hubspot_domain
    from accounts
    left join account_deals on account_deals.account_id = accounts.account_id
    left join account_systems on account_systems.account_id = accounts.account_id
    left join account_records as salesforce
        on salesforce.entity_id = accounts.account_id and salesforce.source_system = 'salesforce'
        and salesforce.source_record_id = accounts.salesforce_account_id
    left join account_records as hubspot
        on hubspot.entity_id = accounts.account_id and hubspot.source_system = 'hubspot'
        and hubspot.source_record_id = accounts.hubspot_company_id
),

account_issues as (
    select
        'account' as entity_type,
        account_id as entity_id,
        'lifecycle_stage_conflict' as issue_type,
        'high' as severity,
        case when is_customer
            then 'HubSpot company ' || hubspot_record_id || ' of ' || account_name || ' has lifecycle stage '''
                || hubspot_lifecycle_stage || ''' but it is a customer ('
                || case when first_won_at is not null
                    then 'first deal won ' || cast({{ cg_reporting_date('first_won_at') }} as {{ dbt.type_string() }})
                    else 'Salesforce type ' || coalesce(salesforce_account_type, 'Customer') end
                || '); Salesforce account ' || salesforce_record_id || '.'
            else 'HubSpot company ' || hubspot_record_id || ' of ' || account_name
                || ' has lifecycle stage ''customer'' but no deal was won in either CRM and Salesforce account '
                || salesforce_record_id || ' has type ' || coalesce('''' || salesforce_account_type || '''', 'none') || '.'
        end as detail,
        salesforce_record_id,
        hubspot_record_id
    from account_pairs
    where salesforce_record_id is not null and hubspot_record_id is not null
        and (
            (is_customer and hubspot_lifecycle_stage in ('subscriber', 'lead', 'mql', 'sql', 'opportunity'))
            or (not is_customer and hubspot_lifecycle_stage in ('customer', 'evangelist'))
        )

    union all

    select
        'account',
        account_id,
        case when salesforce_records = 0 then 'missing_in_salesforce' else 'missing_in_hubspot' end,
        case when is_customer then 'high' when has_open_opportunity then 'medium' else 'low' end,
        account_name || ' is '
            || case when is_customer then 'a customer' when has_open_opportunity then 'working an open deal'
                else 'in ' || cast(opportunity_count as {{ dbt.type_string() }}) || ' closed deal(s)' end
            || ' but exists only in '
            || case when salesforce_records = 0 then 'HubSpot (company ' || coalesce(hubspot_record_id, '?')
                else 'Salesforce (account ' || coalesce(salesforce_record_id, '?') end
            || '): create it in '
            || case when salesforce_records = 0 then 'Salesforce' else 'HubSpot' end || '.',
        salesforce_record_id,
        hubspot_record_id
    from account_pairs
    where (is_customer or opportunity_count > 0)
        and (salesforce_records = 0 or hubspot_records = 0)
        and salesforce_records + hubspot_records > 0

    union all

    select
        'account',
        account_id,
        'owner_conflict',
        case when has_open_opportunity then 'medium' else 'low' end,
        account_name || ' is owned by ' || salesforce_owner || ' in Salesforce (account ' || salesforce_record_id
            || ') but by ' || hubspot_owner || {{ cg_owner_namesake_note('salesforce_owner', 'hubspot_owner') }}
            || ' in HubSpot (company ' || hubspot_record_id || ').',
        salesforce_record_id,
        hubspot_record_id
    from account_pairs
    where salesforce_owner is not null and hubspot_owner is not null
        and {{ cg_owners_differ('salesforce_owner', 'hubspot_owner') }}

    union all

    select
        'account',
        account_id,
        'domain_conflict',
        'medium',
        account_name || ' has domain ' || salesforce_domain || ' in Salesforce (account ' || salesforce_record_id
            || ') but ' || hubspot_domain || ' in HubSpot (company ' || hubspot_record_id || ').',
        salesforce_record_id,
        hubspot_record_id
    from account_pairs
    where salesforce_domain is not null and hubspot_domain is not null and salesforce_domain <> hubspot_domain

    union all

    select
        'account',
        account_pairs.account_id,
        'missing_owner',
        'medium',
        account_pairs.account_name || ' is '
            || case when account_pairs.is_customer then 'a customer' else 'working an open deal' end
            || ' but its ' || case when records.source_system = 'salesforce'
                then 'Salesforce account ' else 'HubSpot company ' end
            || records.source_record_id || ' has no owner.',
        case when records.source_system = 'salesforce' then records.source_record_id end,
        case when records.source_system = 'hubspot' then records.source_record_id end
    from account_pairs
    inner join account_records as records
        on records.entity_id = account_pairs.account_id
        and records.source_record_id = case when records.source_system = 'salesforce'
            then account_pairs.salesforce_record_id else account_pairs.hubspot_record_id end
    where (account_pairs.is_customer or account_pairs.has_open_opportunity)
        and records.owner_name is null and records.owner_email is null

    union all

    select
        'account',
        account_pairs.account_id,
        'duplicate_record',
        case when account_pairs.is_customer then 'medium' else 'low' end,
        case when records.source_system = 'salesforce'
            then 'Salesforce account ' || records.source_record_id || ' duplicates account '
                || account_pairs.salesforce_record_id
            else 'HubSpot company ' || records.source_record_id || ' duplicates company '
                || account_pairs.hubspot_record_id
        end || ' (' || account_pairs.account_name || ', matched by ' || records.match_rule || '): merge them.',
        case when records.source_system = 'salesforce' then records.source_record_id end,
        case when records.source_system = 'hubspot' then records.source_record_id end
    from account_pairs
    inner join account_records as records on records.entity_id = account_pairs.account_id
    where (records.source_system = 'salesforce' and account_pairs.salesforce_record_id is not null
            and records.source_record_id <> account_pairs.salesforce_record_id)
        or (records.source_system = 'hubspot' and account_pairs.hubspot_record_id is not null
            and records.source_record_id <> account_pairs.hubspot_record_id)

    union all

    select
        'account',
        hubspot.entity_id,
        case when broken.domain_agreement = 'conflict' then 'domain_conflict' else 'sync_link_conflict' end,
        'medium',
        'HubSpot company ' || hubspot.source_record_id || ' (' || coalesce(hubspot.account_name, 'no name') || ', '
            || coalesce(hubspot.domain_key, 'no domain') || ') says it is synced with Salesforce account '
            || salesforce.source_record_id || ' (' || coalesce(salesforce.account_name, 'no name') || ', '
            || coalesce(salesforce.domain_key, 'no domain') || '), but their '
            || case when broken.domain_agreement = 'conflict' and broken.name_agreement = 'conflict' then 'domains and names'
                when broken.domain_agreement = 'conflict' then 'domains' else 'names' end
            || ' disagree: they are kept apart; fix the sync.',
        salesforce.source_record_id,
        hubspot.source_record_id
    from broken_account_syncs as broken
    inner join account_records as hubspot on hubspot.record_key = broken.record_key
    inner join account_records as salesforce on salesforce.record_key = broken.target_record_key
    -- kept apart: records that other links put in one account anyway are that account's pair (rules above)
    where hubspot.entity_id <> salesforce.entity_id
),

opportunity_issues as (
    select
        'opportunity' as entity_type,
        opportunity_id as entity_id,
        'opportunity_without_account' as issue_type,
        case when stage_category in ('open', 'won') then 'high' else 'low' end as severity,
        case when source_system = 'salesforce' then 'Salesforce opportunity ' else 'HubSpot deal ' end
            || source_opportunity_id || ' (' || coalesce(opportunity_name, 'no name') || ', ' || stage_category
            || ') is tied to no company, so it counts for no account.' as detail,
        case when source_system = 'salesforce' then source_opportunity_id end as salesforce_record_id,
        case when source_system = 'hubspot' then source_opportunity_id end as hubspot_record_id
    from opportunities
    where account_id is null

    union all

    select
        'opportunity',
        opportunity_id,
        'missing_owner',
        'medium',
        case when source_system = 'salesforce' then 'Salesforce opportunity ' else 'HubSpot deal ' end
            || source_opportunity_id || ' (' || coalesce(opportunity_name, 'no name') || ') is open and has no owner.',
        case when source_system = 'salesforce' then source_opportunity_id end,
        case when source_system = 'hubspot' then source_opportunity_id end
    from opportunities
    where not is_closed and owner_name is null

    union all

    select
        'opportunity',
        opportunity_id,
        'missing_currency',
        'medium',
        case when source_system = 'salesforce' then 'Salesforce opportunity ' else 'HubSpot deal ' end
            || source_opportunity_id || ' has amount ' || cast(amount as {{ dbt.type_string() }})
            || case when currency_code is null then ' without a currency'
                else ' in ' || currency_code || ', a currency without exchange rate' end
            || ', so it is left out of every reporting-currency total.',
        case when source_system = 'salesforce' then source_opportunity_id end,
        case when source_system = 'hubspot' then source_opportunity_id end
    from opportunities
    where amount is not null and (currency_code is null or amount_reporting is null)
),

salesforce_won_contacts as (
    select primary_prospect_id as prospect_id, min(source_opportunity_id) as source_opportunity_id
    from opportunities
    where source_system = 'salesforce' and is_won and primary_prospect_id is not null
    group by primary_prospect_id
),

person_systems as (
    select
        entity_id as prospect_id,
        sum(case when source_system = 'salesforce_contact'
            or (source_system = 'salesforce_lead' and coalesce(is_converted, false)) then 1 else 0 end)
            as salesforce_converted_records,
        sum(case when source_system = 'salesforce_lead' and not coalesce(is_converted, false) then 1 else 0 end)
            as salesforce_open_leads,
        min(case when source_system = 'salesforce_lead' and not coalesce(is_converted, false)
            then source_record_id end) as salesforce_open_lead_id,
        min(case when source_system = 'salesforce_contact' then source_record_id end) as salesforce_contact_record_id
    from person_records
    group by entity_id
),

person_pairs as (
    select
        prospects.prospect_id,
        trim(coalesce(prospects.first_name, '') || ' ' || coalesce(prospects.last_name, '')) as person_name,
        prospects.salesforce_lead_id,
        prospects.salesforce_contact_id,
        hubspot.source_record_id as hubspot_record_id,
        hubspot.lifecycle_stage as hubspot_lifecycle_stage,
        salesforce_won_contacts.source_opportunity_id as won_salesforce_opportunity_id,
        coalesce(person_systems.salesforce_converted_records, 0) as salesforce_converted_records,
        coalesce(person_systems.salesforce_open_leads, 0) as salesforce_open_leads,
        person_systems.salesforce_open_lead_id,
        person_systems.salesforce_contact_record_id,
        coalesce(accounts.is_customer, false) as is_account_customer,
        salesforce_owned.source_system as salesforce_owned_system,
        salesforce_owned.source_record_id as salesforce_owned_record_id,
        salesforce_owned.owner_name as salesforce_owner,
        salesforce_owned.owner_email as salesforce_owner_email,
        hubspot.owner_name as hubspot_owner,
        hubspot.owner_email as hubspot_owner_email
    from prospects
    left join accounts on accounts.account_id = prospects.account_id
    left join person_records as hubspot
        on hubspot.entity_id = prospects.prospect_id and hubspot.source_system = 'hubspot_contact'
        and hubspot.source_record_id = prospects.hubspot_contact_id
    {#- the Salesforce record whose owner the HubSpot contact's should match: the primary contact, else lead #}
    left join person_records as salesforce_owned
        on salesforce_owned.entity_id = prospects.prospect_id
        and salesforce_owned.record_key = coalesce('salesforce_contact:' || prospects.salesforce_contact_id,
                                                   'salesforce_lead:' || prospects.salesforce_lead_id)
    left join salesforce_won_contacts on salesforce_won_contacts.prospect_id = prospects.prospect_id
    left join person_systems on person_systems.prospect_id = prospects.prospect_id
),

prospect_issues as (
    select
        'prospect' as entity_type,
        prospect_id as entity_id,
        'lifecycle_stage_conflict' as issue_type,
        'high' as severity,
        case when won_salesforce_opportunity_id is not null
            then coalesce(nullif(person_name, ''), 'A person') || ' is a customer in Salesforce (won opportunity '
                || won_salesforce_opportunity_id || ') but HubSpot contact ' || hubspot_record_id
                || ' has lifecycle stage ''' || hubspot_lifecycle_stage || '''.'
            when salesforce_converted_records = 0
            then coalesce(nullif(person_name, ''), 'A person') || ' is a customer in HubSpot (contact '
                || hubspot_record_id || ') but only an unconverted lead in Salesforce (lead '
                || salesforce_open_lead_id || ').'
            else coalesce(nullif(person_name, ''), 'A person') || ' is a customer in HubSpot (contact '
                || hubspot_record_id || ') but their company is no customer: no deal won in either CRM'
                || coalesce(' and Salesforce contact ' || salesforce_contact_record_id || ' sits at a prospect account', '')
                || '.'
        end as detail,
        coalesce(won_salesforce_opportunity_id, salesforce_open_lead_id, salesforce_contact_record_id)
            as salesforce_record_id,
        hubspot_record_id
    from person_pairs
    where hubspot_record_id is not null
        and (
            (won_salesforce_opportunity_id is not null and hubspot_lifecycle_stage in ('subscriber', 'lead', 'mql'))
            -- the primary contact of a won Salesforce deal is a customer there too, whatever their account
            or (hubspot_lifecycle_stage in ('customer', 'evangelist') and won_salesforce_opportunity_id is null
                and salesforce_open_leads > 0 and salesforce_converted_records = 0)
            or (hubspot_lifecycle_stage in ('customer', 'evangelist') and won_salesforce_opportunity_id is null
                and salesforce_converted_records > 0 and not is_account_customer)
        )

    union all

    select
        'prospect',
        person_pairs.prospect_id,
        'duplicate_record',
        'low',
        case records.source_system
            when 'salesforce_lead' then 'Salesforce lead ' || records.source_record_id || ' duplicates '
                || coalesce('contact ' || person_pairs.salesforce_contact_record_id,
                            'lead ' || person_pairs.salesforce_lead_id)
            when 'salesforce_contact' then 'Salesforce contact ' || records.source_record_id || ' duplicates contact '
                || person_pairs.salesforce_contact_id
            else 'HubSpot contact ' || records.source_record_id || ' duplicates contact '
                || person_pairs.hubspot_record_id
        end || ' (' || coalesce(nullif(person_pairs.person_name, ''), 'same person') || ', matched by '
            || records.match_rule || '): merge them.',
        case when records.source_system <> 'hubspot_contact' then records.source_record_id end,
        case when records.source_system = 'hubspot_contact' then records.source_record_id end
    from person_pairs
    inner join person_records as records on records.entity_id = person_pairs.prospect_id
    where not coalesce(records.is_converted, false)
        and (
            -- an open lead of a person Salesforce already has as a contact is one too: it should be converted
            (records.source_system = 'salesforce_lead'
                and (person_pairs.salesforce_contact_record_id is not null
                    or records.source_record_id <> person_pairs.salesforce_lead_id))
            or (records.source_system = 'salesforce_contact'
                and records.source_record_id <> person_pairs.salesforce_contact_id)
            or (records.source_system = 'hubspot_contact' and records.source_record_id <> person_pairs.hubspot_record_id)
        )

    union all

    select
        'prospect',
        hubspot.entity_id,
        'sync_link_conflict',
        'medium',
        'HubSpot contact ' || hubspot.source_record_id
            || ' says it is synced with Salesforce '
            || case when salesforce.source_system = 'salesforce_lead' then 'lead ' else 'contact ' end
            || salesforce.source_record_id || ', but their '
            || case when broken.email_agreement = 'conflict' and broken.name_agreement = 'conflict' then 'e-mails and names'
                when broken.email_agreement = 'conflict' then 'e-mails' else 'names' end
            || ' disagree: they are kept apart; fix the sync.',
        salesforce.source_record_id,
        hubspot.source_record_id
    from broken_person_syncs as broken
    inner join person_records as hubspot on hubspot.record_key = broken.record_key
    inner join person_records as salesforce on salesforce.record_key = broken.target_record_key
    -- kept apart: records that other links put in one person anyway are that person's pair
    where hubspot.entity_id <> salesforce.entity_id

    union all

    select
        'prospect',
        prospect_id,
        'owner_conflict',
        'low',
        coalesce(nullif(person_name, ''), 'A person') || ' is owned by ' || salesforce_owner || ' in Salesforce ('
            || case when salesforce_owned_system = 'salesforce_contact' then 'contact ' else 'lead ' end
            || salesforce_owned_record_id || ') but by ' || hubspot_owner
            || {{ cg_owner_namesake_note('salesforce_owner', 'hubspot_owner') }}
            || ' in HubSpot (contact ' || hubspot_record_id || ').',
        salesforce_owned_record_id,
        hubspot_record_id
    from person_pairs
    where hubspot_record_id is not null and salesforce_owner is not null and hubspot_owner is not null
        and {{ cg_owners_differ('salesforce_owner', 'hubspot_owner') }}
),

current_issues as (
    select * from account_issues
    union all
    select * from opportunity_issues
    union all
    select * from prospect_issues
),

identified as (
    select
        {{ surrogate_key(['current_issues.issue_type', 'current_issues.entity_type',
                          "case when current_issues.entity_type = 'opportunity' or coalesce(current_issues.salesforce_record_id,"
                          " current_issues.hubspot_record_id) is null then current_issues.entity_id end",
                          'current_issues.salesforce_record_id', 'current_issues.hubspot_record_id']) }} as issue_id,
        current_issues.*
    from current_issues
)

{%- if is_incremental() %}
{%- set columns = 'issue_id, entity_type, entity_id, issue_type, severity, detail, salesforce_record_id, '
                  ~ 'hubspot_record_id' %}
,

{#- issues new, changed or no longer detected: the only rows this run writes #}
changed as (
    {{ cg_changed_keys('identified', 'issue_id', columns) }}
)

{#- an issue no longer detected is named by a tombstone row (all data columns null) #}
select
    identified.*,
    case when identified.issue_id is not null
        then coalesce(previous.first_detected_at, {{ cg_run_started_at() }}) end as first_detected_at,
    changed.issue_id as cg_scope_key
from changed
left join identified on identified.issue_id = changed.issue_id
left join {{ this }} as previous on previous.issue_id = identified.issue_id
{%- else %}

select identified.*, {{ cg_run_started_at() }} as first_detected_at
from identified
{%- endif %}
