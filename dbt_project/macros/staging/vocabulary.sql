{#- Shared vocabularies: lifecycle stages, campaign keys, channels, opportunity types. -#}

{#-
    A lifecycle stage in the shared vocabulary (subscriber, lead, mql, sql, opportunity, customer,
    evangelist, other) from HubSpot's internal values; custom (numeric) stages become other.
-#}
{% macro cg_lifecycle_stage(expression) -%}
    case lower(trim({{ expression }}))
        when 'subscriber' then 'subscriber'
        when 'lead' then 'lead'
        when 'marketingqualifiedlead' then 'mql'
        when 'salesqualifiedlead' then 'sql'
        when 'opportunity' then 'opportunity'
        when 'customer' then 'customer'
        when 'evangelist' then 'evangelist'
        when '' then null
        else case when {{ expression }} is null then null else 'other' end
    end
{%- endmacro %}

{#- The funnel order of a shared lifecycle stage (other = 0, subscriber = 1 ... evangelist = 7). -#}
{% macro cg_lifecycle_stage_rank(expression) -%}
    case {{ expression }}
        when 'subscriber' then 1 when 'lead' then 2 when 'mql' then 3 when 'sql' then 4
        when 'opportunity' then 5 when 'customer' then 6 when 'evangelist' then 7 else 0
    end
{%- endmacro %}

{#-
    The UTM campaign key inside a campaign name: the first lower-case token joined by underscores
    ("2026q2_webinar_dataops | Webinar: DataOps" -> "2026q2_webinar_dataops"), or null.
-#}
{% macro cg_utm_key_from_name(expression) -%}
    {{ cg_regexp_extract('lower(' ~ expression ~ ')', '([a-z0-9]+(?:_[a-z0-9]+)+)') }}
{%- endmacro %}

{#- A channel from the seed channel_mapping for a source type and a (case-insensitive) source value. -#}
{% macro cg_channel(source_type, value_expression) -%}
    (select mapping.channel from {{ ref('channel_mapping') }} as mapping
     where mapping.source_type = '{{ source_type }}' and mapping.source_value = lower(trim({{ value_expression }})))
{%- endmacro %}

{#- new_business / expansion / renewal from Salesforce Opportunity.Type or HubSpot dealtype, else null. -#}
{% macro cg_opportunity_type(expression) -%}
    case
        when {{ expression }} is null then null
        when lower({{ expression }}) like '%renew%' then 'renewal'
        when lower({{ expression }}) like '%new%' then 'new_business'
        when lower({{ expression }}) like '%existing%' or lower({{ expression }}) like '%upgrade%'
            or lower({{ expression }}) like '%upsell%' or lower({{ expression }}) like '%expan%'
            or lower({{ expression }}) like '%cross%' then 'expansion'
    end
{%- endmacro %}

{#- An ISO 3166 alpha-2 country code from a free-text country (seed country_codes), or null. -#}
{% macro cg_country_code(expression) -%}
    coalesce(
        (select codes.country_code from {{ ref('country_codes') }} as codes
         where codes.country_name = lower(trim({{ expression }}))),
        case when {{ cg_regexp_matches('trim(' ~ expression ~ ')', '^[A-Za-z][A-Za-z]$') }} then upper(trim({{ expression }})) end
    )
{%- endmacro %}
