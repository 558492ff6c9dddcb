{#- Delimited lists in text columns. -#}

{#- One row per element of the `separator`-delimited text `expression` (a set-returning select-list expression). -#}
{% macro cg_split_to_rows(expression, separator) -%}
    {{ return(adapter.dispatch('cg_split_to_rows', 'common_ground')(expression, separator)) }}
{%- endmacro %}

{% macro default__cg_split_to_rows(expression, separator) -%}
    unnest(string_split({{ expression }}, '{{ separator }}'))
{%- endmacro %}

{% macro postgres__cg_split_to_rows(expression, separator) -%}
    unnest(string_to_array({{ expression }}, '{{ separator }}'))
{%- endmacro %}
