{#- What the model prospects reads of the account clusters: each company record's account and domain. -#}
{% macro cg_prospect_account_inputs() -%}
    select record_key, entity_id as account_id, domain_key from {{ ref('int_account_records_clustered') }}
{%- endmacro %}

{#- What the model prospects reads of the opportunities: when each person record's live deals began and were won. -#}
{% macro cg_prospect_opportunity_inputs() -%}
    select person_record_key, created_at, is_won, closed_at from {{ ref('int_opportunities_unioned') }}
    where not is_deleted and person_record_key is not null
{%- endmacro %}
