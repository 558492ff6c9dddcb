{{ config(
    materialized='incremental',
    incremental_strategy='cg_replace_scope',
    cg_rebuild_on_new_columns=true,
    cg_scope_key='prospect_id',
    pre_hook=["{{ cg_postgres_without_nested_loops() }}"],
    post_hook=[
        "{{ cg_save_state('(' ~ cg_prospect_account_inputs() ~ ') as account_inputs', 'prospects__built_accounts', sibling=ref('int_person_records_clustered')) }}",
        "{{ cg_save_state('(' ~ cg_prospect_opportunity_inputs() ~ ') as opportunity_inputs', 'prospects__built_opportunities', sibling=ref('int_person_records_clustered')) }}",
        "{{ cg_save_state('(select max(clustered_at) as clustered_at from ' ~ ref('int_person_records_clustered') ~ ') as clusters', 'prospects__built_clusters', sibling=ref('int_person_records_clustered')) }}",
    ],
) }}
{#-
    One row per real-world person: the Salesforce leads and contacts and HubSpot contacts identity
    resolution put together (int_person_records_clustered), fields chosen by the var
    `survivorship`, and the first moment the person reached each funnel stage in either system.

    Incremental (strategy cg_replace_scope), equal to a full build: a run rebuilds the people with a record
    the clustering wrote since the last build (clustered_at), the people whose records' opportunities or
    account (record or e-mail domain) changed, and removes people no longer clustered. What the last build
    read is kept in the state tables intermediate.prospects__built_* (not in marts: publish copies every
    table there). After changing the var survivorship or a seed, run --full-refresh.
-#}
with account_records as (
    {{ cg_prospect_account_inputs() }}
),

accounts_by_domain as (
    select domain_key, min(account_id) as account_id
    from account_records
    where domain_key is not null
    group by domain_key
),

opportunities as (
    select * from {{ ref('int_opportunities_unioned') }}
    where not is_deleted
),
{%- if is_incremental() %}
{%- set built_accounts = cg_state_relation(ref('int_person_records_clustered'), 'prospects__built_accounts') %}
{%- set built_opportunities = cg_state_relation(ref('int_person_records_clustered'), 'prospects__built_opportunities') %}
{%- set built_clusters = cg_state_relation(ref('int_person_records_clustered'), 'prospects__built_clusters') %}
{%- set account_columns = 'record_key, account_id, domain_key' %}

{#- account records whose account or domain changed, as they are and as they were -#}
changed_accounts as (
    {%- if built_accounts is none %}
    select record_key, domain_key from account_records
    {%- else %}
    select record_key, domain_key from (
        select {{ account_columns }} from account_records
        except
        select {{ account_columns }} from {{ built_accounts }}
    ) as new_or_changed
    union all
    select record_key, domain_key from (
        select {{ account_columns }} from {{ built_accounts }}
        except
        select {{ account_columns }} from account_records
    ) as changed_or_gone
    {%- endif %}
),

{#- person records whose opportunities changed -#}
changed_opportunity_holders as (
    {%- if built_opportunities is none %}
    select person_record_key from opportunities
    {%- else %}
    {{ cg_changed_keys('(' ~ cg_prospect_opportunity_inputs() ~ ') as current_inputs', 'person_record_key',
                       'person_record_key, created_at, is_won, closed_at', built_opportunities) }}
    {%- endif %}
),

{#- the people to rebuild (see above); cg_scope_key of the rows below. One select per reason, each a join: OR'ed
    `in (select ...)` lists are not hashed by PostgreSQL once they outgrow work_mem, and scanned for every row -#}
changed as (
    select entity_id as prospect_id from {{ ref('int_person_records_clustered') }}
    {%- if built_clusters is not none %}
    where clustered_at > (select clustered_at from {{ built_clusters }})
    union
    select person_records.entity_id from {{ ref('int_person_records_clustered') }} as person_records
    inner join changed_opportunity_holders
        on changed_opportunity_holders.person_record_key = person_records.record_key
    union
    select person_records.entity_id from {{ ref('int_person_records_clustered') }} as person_records
    inner join changed_accounts on changed_accounts.record_key = person_records.account_record_key
    {%- endif %}
    {#- people whose e-mail domain names a changed account, one join per registrable-domain candidate #}
    {%- for candidate in cg_registrable_domain_candidates('stored.email_domain') %}
    union
    select stored.prospect_id from {{ this }} as stored
    inner join changed_accounts on changed_accounts.domain_key = {{ candidate }}
    {%- endfor %}
    union
    {#- people gone #}
    select stored.prospect_id from {{ this }} as stored
    left join {{ ref('int_person_records_clustered') }} as current_records
        on current_records.entity_id = stored.prospect_id
    where current_records.entity_id is null
),
{%- endif %}

{#- each person record with the live account its own company link names (none for a deleted or unloaded company) -#}
records as (
    select person_records.*, account_records.account_id as linked_account_id
    from {{ ref('int_person_records_clustered') }} as person_records
    left join account_records on account_records.record_key = person_records.account_record_key
    {%- if is_incremental() %}
    where person_records.entity_id in (select prospect_id from changed)
    {%- endif %}
),

{#- opportunities tied to a person: converted from their lead (Salesforce) or with them as primary contact (HubSpot) -#}
person_opportunities as (
    select records.entity_id as prospect_id,
        min(opportunities.created_at) as first_opportunity_at,
        min(case when opportunities.is_won then opportunities.closed_at end) as first_won_at
    from opportunities
    inner join records on records.record_key = opportunities.person_record_key
    group by records.entity_id
),

{#- within-system preferences (ascending sort keys): survivorship takes live records first, a Salesforce
    contact before a lead, then the most recently modified; the primary source id of each system is the
    live, unmerged, oldest record -#}
{%- set survivor_order = ["case when is_deleted then 1 else 0 end",
                          "case source_system when 'salesforce_contact' then 0 when 'salesforce_lead' then 1 else 2 end",
                          "-1 * coalesce(" ~ cg_epoch('modified_at') ~ ", 0)", "record_key"] %}
{#- a record with any name, in any script (its name_key may be null), gives the whole name -#}
{%- set has_name = "coalesce(nullif(trim(first_name), ''), nullif(trim(last_name), ''))" %}
{%- set primary_order = ["case when is_deleted or is_merged then 1 else 0 end",
                         "coalesce(" ~ cg_epoch('created_at') ~ ", 1e12)", "source_record_id"] %}

survived as (
    select
        entity_id as prospect_id,
        {{ cg_survive('email', 'email', survivor_order) }} as email,
        {{ cg_survive('first_name', 'person_name', survivor_order, presence_column=has_name) }} as first_name,
        {{ cg_survive('last_name', 'person_name', survivor_order, presence_column=has_name) }} as last_name,
        {{ cg_survive('title', 'title', survivor_order) }} as title,
        {{ cg_survive('owner_name', 'person_owner', survivor_order) }} as owner_name,
        {{ cg_survive('lifecycle_stage', 'person_lifecycle_stage', survivor_order) }} as lifecycle_stage,
        {{ cg_survive('lead_source', 'lead_source', survivor_order) }} as lead_source,
        {{ cg_survive('original_channel', 'original_channel', survivor_order) }} as original_channel,
        {{ cg_survive('linked_account_id', 'person_account', survivor_order) }} as linked_account_id,
        {% for system in ['salesforce_lead', 'salesforce_contact', 'hubspot_contact'] %}
        {{ cg_first_by('source_record_id', primary_order, "source_system = '" ~ system ~ "'") }} as {{ system }}_id,
        {% endfor %}
        min(coalesce(hubspot_became_lead_at,
            case when source_system in ('salesforce_lead', 'salesforce_contact') then created_at end)) as lead_at,
        min(hubspot_became_mql_at) as mql_at,
        -- Salesforce keeps only the date of a conversion: a lead converted the day it was created converted after
        -- it was created, not at that day's midnight
        min(coalesce(hubspot_became_sql_at,
            case when is_converted then greatest({{ cg_date_start_timestamp('converted_date') }}, created_at) end))
            as sql_at,
        min(hubspot_became_opportunity_at) as opportunity_at,
        min(hubspot_became_customer_at) as customer_at,
        min(case when is_deleted then 1 else 0 end) as all_deleted,
        min(created_at) as created_at,
        count(*) as source_record_count,
        min(cluster_match_rule) as match_rule,
        min(cluster_match_confidence) as match_confidence
    from records
    group by entity_id
),

stages as (
    select
        survived.*,
        least(survived.customer_at, person_opportunities.first_won_at) as customer_actual_at,
        least(survived.opportunity_at, person_opportunities.first_opportunity_at) as opportunity_actual_at
    from survived
    left join person_opportunities on person_opportunities.prospect_id = survived.prospect_id
),

{#- a stage reached implies the earlier ones: each stage's time is at most the next stage's (skipped stages inferred) -#}
inferred as (
    select
        stages.*,
        least(stages.opportunity_actual_at, stages.customer_actual_at) as became_opportunity_at,
        least(stages.sql_at, stages.opportunity_actual_at, stages.customer_actual_at) as became_sql_at,
        least(stages.mql_at, stages.sql_at, stages.opportunity_actual_at, stages.customer_actual_at) as became_mql_at,
        least(stages.lead_at, stages.mql_at, stages.sql_at, stages.opportunity_actual_at, stages.customer_actual_at)
            as became_lead_at
    from stages
),

final as (
    select
        inferred.prospect_id,
        inferred.email,
        {{ email_domain('inferred.email') }} as email_domain,
        {{ is_personal_email_domain(email_domain('inferred.email')) }} as is_personal_email,
        inferred.first_name,
        inferred.last_name,
        inferred.title,
        coalesce(
            inferred.linked_account_id,
            case when not {{ is_personal_email_domain(email_domain('inferred.email')) }}
                then coalesce({% for length in [4, 3, 2] %}by_{{ length }}_labels.account_id{{ ', ' if not loop.last }}{% endfor %}) end
        ) as account_id,
        coalesce(
            inferred.lifecycle_stage,
            case
                when inferred.customer_actual_at is not null then 'customer'
                when inferred.became_opportunity_at is not null then 'opportunity'
                when inferred.became_sql_at is not null then 'sql'
                when inferred.became_mql_at is not null then 'mql'
                else 'lead'
            end
        ) as lifecycle_stage,
        inferred.lead_source,
        inferred.original_channel,
        inferred.owner_name,
        inferred.salesforce_lead_id,
        inferred.salesforce_contact_id,
        inferred.hubspot_contact_id,
        inferred.became_lead_at,
        inferred.became_mql_at,
        inferred.became_sql_at,
        inferred.became_opportunity_at,
        inferred.customer_actual_at as became_customer_at,
        -- reached, but recorded by no system: its time is the next stage's (inferred above)
        inferred.lead_at is null and inferred.became_lead_at is not null as is_lead_inferred,
        inferred.mql_at is null and inferred.became_mql_at is not null as is_mql_inferred,
        inferred.sql_at is null and inferred.became_sql_at is not null as is_sql_inferred,
        inferred.opportunity_actual_at is null and inferred.became_opportunity_at is not null
            as is_opportunity_inferred,
        -- recorded, but only after a later stage: its time is that later stage's (inferred above)
        coalesce(inferred.lead_at > inferred.became_lead_at, false) as is_lead_recorded_late,
        coalesce(inferred.mql_at > inferred.became_mql_at, false) as is_mql_recorded_late,
        coalesce(inferred.sql_at > inferred.became_sql_at, false) as is_sql_recorded_late,
        coalesce(inferred.opportunity_actual_at > inferred.became_opportunity_at, false)
            as is_opportunity_recorded_late,
        inferred.created_at,
        inferred.all_deleted = 1 as is_deleted,
        inferred.source_record_count,
        inferred.match_rule,
        inferred.match_confidence
    from inferred
    {#- account domain keys are registrable domains: jane@uk.acme.com works at acme.com (the longest that is one) -#}
    {%- for candidate in cg_registrable_domain_candidates(email_domain('inferred.email')) %}
    {%- set length = 4 - loop.index0 %}
    left join accounts_by_domain as by_{{ length }}_labels on by_{{ length }}_labels.domain_key = {{ candidate }}
    {%- endfor %}
)

{%- if is_incremental() %}

{#- a person gone gets a tombstone (cg_replace_scope) #}
select final.*, changed.prospect_id as cg_scope_key
from changed
left join final on final.prospect_id = changed.prospect_id
{%- else %}

select * from final
{%- endif %}
