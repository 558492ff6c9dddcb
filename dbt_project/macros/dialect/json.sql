{#- JSON parsing differs: DuckDB's json extension vs PostgreSQL's jsonb operators. -#}

{#- The first element of a JSON array of strings ('["4001", "4002"]' -> '4001'), or null. -#}
{% macro cg_json_array_first(expression) -%}
    {{ return(adapter.dispatch('cg_json_array_first', 'common_ground')(expression)) }}
{%- endmacro %}

{% macro default__cg_json_array_first(expression) -%}
    nullif(json_extract_string({{ expression }}, '$[0]'), '')
{%- endmacro %}

{% macro postgres__cg_json_array_first(expression) -%}
    nullif((cast({{ expression }} as jsonb) ->> 0), '')
{%- endmacro %}

{#-
    The "value" of the element whose "name" is `name` in a JSON array of {"name", "value"} objects
    (HubSpot form submission values), or null.
-#}
{% macro cg_json_name_value(expression, name) -%}
    {{ return(adapter.dispatch('cg_json_name_value', 'common_ground')(expression, name)) }}
{%- endmacro %}

{% macro default__cg_json_name_value(expression, name) -%}
    nullif((list_filter(
        from_json({{ expression }}, '[{"name": "VARCHAR", "value": "VARCHAR"}]'),
        lambda pair: pair.name = '{{ name }}'
    )[1]).value, '')
{%- endmacro %}

{% macro postgres__cg_json_name_value(expression, name) -%}
    nullif((
        select pair ->> 'value'
        from jsonb_array_elements(cast({{ expression }} as jsonb)) as pair
        where pair ->> 'name' = '{{ name }}'
        limit 1
    ), '')
{%- endmacro %}
