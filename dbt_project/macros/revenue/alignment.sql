{#- The conventions of alignment_issues. -#}

{#-
    Whether the owners `salesforce` and `hubspot` (name columns, each with a `<name>_email` column beside it) are two
    people: by e-mail where both have one (Robert Smith in Salesforce is Bob Smith in HubSpot; two users named Ann
    Lee are two), else by name, case and spaces aside.
-#}
{% macro cg_owners_differ(salesforce, hubspot) -%}
    case when {{ salesforce }}_email is not null and {{ hubspot }}_email is not null
        then {{ salesforce }}_email <> {{ hubspot }}_email
        else lower(trim({{ salesforce }})) <> lower(trim({{ hubspot }})) end
{%- endmacro %}

{#- ' (another user of that name)' after the HubSpot owner's name when the owners `salesforce` and `hubspot` differ
    by e-mail only, else nothing. -#}
{% macro cg_owner_namesake_note(salesforce, hubspot) -%}
    case when lower(trim({{ salesforce }})) = lower(trim({{ hubspot }})) then ' (another user of that name)' else '' end
{%- endmacro %}
