{#-
    Dates and times. Timestamps are stored UTC (timestamp with time zone); a timestamp becomes a date
    in the reporting time zone (var reporting_timezone), the same way in DuckDB and PostgreSQL.
-#}

{#- The calendar date of a UTC timestamp (with time zone) in the reporting time zone. -#}
{% macro cg_reporting_date(timestamp_expression) -%}
    cast(({{ timestamp_expression }} at time zone '{{ var("reporting_timezone", "UTC") }}') as date)
{%- endmacro %}

{#- A date as the timestamp (with time zone) of its midnight in the reporting time zone. -#}
{% macro cg_date_start_timestamp(date_expression) -%}
    {{ return(adapter.dispatch('cg_date_start_timestamp', 'common_ground')(date_expression)) }}
{%- endmacro %}

{% macro default__cg_date_start_timestamp(date_expression) -%}
    timezone('{{ var("reporting_timezone", "UTC") }}', cast({{ date_expression }} as timestamp))
{%- endmacro %}

{% macro postgres__cg_date_start_timestamp(date_expression) -%}
    (cast({{ date_expression }} as timestamp) at time zone '{{ var("reporting_timezone", "UTC") }}')
{%- endmacro %}

{#- Whole days from `start_date` to `end_date` (dates or timestamps; compared as dates). -#}
{% macro cg_days_between(start_date, end_date) -%}
    {{ return(adapter.dispatch('cg_days_between', 'common_ground')(start_date, end_date)) }}
{%- endmacro %}

{% macro default__cg_days_between(start_date, end_date) -%}
    date_diff('day', cast({{ start_date }} as date), cast({{ end_date }} as date))
{%- endmacro %}

{% macro postgres__cg_days_between(start_date, end_date) -%}
    (cast({{ end_date }} as date) - cast({{ start_date }} as date))
{%- endmacro %}

{#- `date_expression` plus `days` (an integer expression), as a date. -#}
{% macro cg_add_days(date_expression, days) -%}
    {{ return(adapter.dispatch('cg_add_days', 'common_ground')(date_expression, days)) }}
{%- endmacro %}

{% macro default__cg_add_days(date_expression, days) -%}
    cast(cast({{ date_expression }} as date) + cast({{ days }} as integer) as date)
{%- endmacro %}

{% macro postgres__cg_add_days(date_expression, days) -%}
    cast(cast({{ date_expression }} as date) + cast({{ days }} as integer) as date)
{%- endmacro %}

{#- A select of one row per day from `start_date` to `end_date` (date literals or expressions), column date_day. -#}
{% macro cg_date_series(start_date, end_date) -%}
    {{ return(adapter.dispatch('cg_date_series', 'common_ground')(start_date, end_date)) }}
{%- endmacro %}

{% macro default__cg_date_series(start_date, end_date) -%}
    select cast(unnest(generate_series(cast({{ start_date }} as date), cast({{ end_date }} as date), interval 1 day)) as date) as date_day
{%- endmacro %}

{% macro postgres__cg_date_series(start_date, end_date) -%}
    select cast(day_start as date) as date_day
    from generate_series(cast({{ start_date }} as timestamp), cast({{ end_date }} as timestamp), interval '1 day') as day_start
{%- endmacro %}

{#- A money amount rounded to cents as numeric(18, 2) (reporting-currency columns). -#}
{% macro cg_money(expression) -%}
    cast(round(cast({{ expression }} as numeric(18, 4)), 2) as numeric(18, 2))
{%- endmacro %}

{#- The date a date-time text starts with ("2026-03-01 08:00:00" -> 2026-03-01), null when it starts with none. -#}
{% macro cg_date_of_text(text_expression) -%}
    case when {{ cg_regexp_matches(text_expression, '^[0-9]{4}-[0-9]{2}-[0-9]{2}') }}
        then cast(substring({{ text_expression }}, 1, 10) as date) end
{%- endmacro %}
