{#-
    The registrable domain of a website or e-mail domain: lower-case, no scheme, no "www.",
    no path, query or port, and only the last two labels kept, or three under a two-level
    public suffix such as co.uk ("https://WWW.Acme.co.uk/about" -> "acme.co.uk"). Null unless the
    result is a plain host name (letters, digits, hyphens, dots).
-#}
{% macro normalize_domain(expression) -%}
    {%- set domain = adapter.dispatch('normalize_domain', 'common_ground')(expression) -%}
    case when {{ cg_regexp_matches(domain, '^[a-z0-9-]+([.][a-z0-9-]+)+$') }} then {{ domain }} end
{%- endmacro %}

{% macro duckdb__normalize_domain(expression) -%}
    {%- set host -%}
        nullif(regexp_extract(regexp_replace(regexp_replace(lower(trim({{ expression }})),
            '^[a-z]+://', ''), '^www[0-9]*\.', ''), '^([^/:?#]+)', 1), '')
    {%- endset -%}
    case
        when regexp_matches({{ host }}, '\.(co|com|org|net|ac|gov)\.[a-z][a-z]$')
            then regexp_extract({{ host }}, '([^.]+\.[^.]+\.[^.]+)$', 1)
        else coalesce(nullif(regexp_extract({{ host }}, '([^.]+\.[^.]+)$', 1), ''), {{ host }})
    end
{%- endmacro %}

{% macro postgres__normalize_domain(expression) -%}
    {%- set host -%}
        nullif(substring(regexp_replace(regexp_replace(lower(trim({{ expression }})),
            '^[a-z]+://', ''), '^www[0-9]*\.', '') from '^([^/:?#]+)'), '')
    {%- endset -%}
    case
        when {{ host }} ~ '\.(co|com|org|net|ac|gov)\.[a-z][a-z]$'
            then substring({{ host }} from '([^.]+\.[^.]+\.[^.]+)$')
        else coalesce(substring({{ host }} from '([^.]+\.[^.]+)$'), {{ host }})
    end
{%- endmacro %}
