{#-
    What the model prospects reads of the account clusters: each company record of a live account (not every record
    deleted, cg_of_live_entity) with its account and domain; a deleted account is nobody's company.
-#}
{% macro cg_prospect_account_inputs() -%}
    select record_key, entity_id as account_id, domain_key from {{ ref('int_account_records_clustered') }}
    where {{ cg_of_live_entity(ref('int_account_records_clustered')) }}
{%- endmacro %}

{#- What the model prospects reads of the opportunities: when each person record's live deals began and were won. -#}
{% macro cg_prospect_opportunity_inputs() -%}
    select person_record_key, created_at, is_won, closed_at from {{ ref('int_opportunities_unioned') }}
    where not is_deleted and person_record_key is not null
{%- endmacro %}
