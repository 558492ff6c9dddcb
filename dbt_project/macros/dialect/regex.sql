{#-
    Regular expressions differ between DuckDB (RE2: regexp_matches / regexp_extract) and PostgreSQL
    (POSIX ARE: ~ / regexp_match). regexp_replace(x, pattern, replacement, 'g') is the same in both,
    so models call it directly. Patterns must use syntax both engines accept (no lookarounds).
-#}

{#- True when `expression` contains a match of `pattern`. -#}
{% macro cg_regexp_matches(expression, pattern) -%}
    {{ return(adapter.dispatch('cg_regexp_matches', 'common_ground')(expression, pattern)) }}
{%- endmacro %}

{% macro default__cg_regexp_matches(expression, pattern) -%}
    regexp_matches({{ expression }}, '{{ pattern }}')
{%- endmacro %}

{% macro postgres__cg_regexp_matches(expression, pattern) -%}
    ({{ expression }} ~ '{{ pattern }}')
{%- endmacro %}

{#- The first capture group of the first match of `pattern` (which has exactly one group), or null. -#}
{% macro cg_regexp_extract(expression, pattern) -%}
    {{ return(adapter.dispatch('cg_regexp_extract', 'common_ground')(expression, pattern)) }}
{%- endmacro %}

{% macro default__cg_regexp_extract(expression, pattern) -%}
    nullif(regexp_extract({{ expression }}, '{{ pattern }}', 1), '')
{%- endmacro %}

{% macro postgres__cg_regexp_extract(expression, pattern) -%}
    nullif((regexp_match({{ expression }}, '{{ pattern }}'))[1], '')
{%- endmacro %}

{#- The value of query parameter `name` in a URL (utm_source, utm_campaign, ...), lower-cased, or null. -#}
{% macro cg_url_parameter(url, name) -%}
    lower(nullif(trim(replace({{ cg_regexp_extract(url, '[?&#]' ~ name ~ '=([^&#]*)') }}, '+', ' ')), ''))
{%- endmacro %}
