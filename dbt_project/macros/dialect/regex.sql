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

{#-
    The value of query parameter `name` in a URL (utm_source, utm_campaign, ...), decoded as a form value
    (`+` is a space, %XX escapes are UTF-8 bytes: "paid%20social" -> "paid social"), trimmed and lower-cased,
    or null. A value whose escapes do not spell valid UTF-8 (or hold a stray %, or NUL) is kept as sent.
-#}
{% macro cg_url_parameter(url, name) -%}
    {%- set value = "replace(lower(" ~ cg_regexp_extract(url, '[?&#]' ~ name ~ '=([^&#]*)') ~ "), '+', ' ')" -%}
    lower(nullif(trim({{ cg_percent_decoded(value) }}), ''))
{%- endmacro %}

{#-
    A lower-case percent-encoded `expression` decoded, when every % in it starts an escape and its escapes are
    well-formed UTF-8 without NUL (no overlong forms, surrogates or code points past U+10FFFF: what both engines
    refuse to decode); otherwise the expression unchanged, so a malformed value never fails a build.
-#}
{% macro cg_percent_decoded(expression) -%}
    {%- set continuation = '%[89ab][0-9a-f]' -%}
    {%- set utf8 = '^([^%]|%0[1-9a-f]|%[1-7][0-9a-f]|%c[2-9a-f]' ~ continuation ~ '|%d[0-9a-f]' ~ continuation
        ~ '|%e0%[ab][0-9a-f]' ~ continuation ~ '|%e[1-9a-cef](' ~ continuation ~ '){2}|%ed%[89][0-9a-f]'
        ~ continuation ~ '|%f0%[9ab][0-9a-f](' ~ continuation ~ '){2}|%f[1-3](' ~ continuation ~ '){3}|%f4%8[0-9a-f]('
        ~ continuation ~ '){2})*$' -%}
    case
        when strpos({{ expression }}, '%') = 0 then {{ expression }}
        when {{ cg_regexp_matches(expression, utf8) }} then {{ adapter.dispatch('cg_percent_decode', 'common_ground')(expression) }}
        else {{ expression }}
    end
{%- endmacro %}

{% macro default__cg_percent_decode(expression) -%}
    url_decode({{ expression }})
{%- endmacro %}

{#- PostgreSQL has no URL decoder: the escapes become bytes, the rest its UTF-8, concatenated in order. -#}
{% macro postgres__cg_percent_decode(expression) -%}
    (select convert_from(string_agg(
                case when left(piece[1], 1) = '%' then decode(substr(piece[1], 2), 'hex')
                     else convert_to(piece[1], 'UTF8') end,
                ''::bytea order by position), 'UTF8')
     from regexp_matches({{ expression }}, '(%[0-9a-f]{2}|[^%]+)', 'g') with ordinality as pieces(piece, position))
{%- endmacro %}
