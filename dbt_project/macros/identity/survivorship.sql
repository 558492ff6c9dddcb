{#-
    Survivorship: which system's value a unified record shows, field by field. The var
    `survivorship` maps a field to its winning system (salesforce or hubspot); fields it does not
    name keep the defaults below. A value from the winning system is used when it has one, otherwise
    the other system's; inside one system the live (not deleted) and most recently modified record
    wins (and for people a Salesforce contact before a lead). Example:
        dbt build --vars '{survivorship: {owner: hubspot, industry: hubspot}}'
-#}
{% macro cg_survivorship_defaults() -%}
    {{ return({
        'account_name': 'salesforce',
        'primary_domain': 'salesforce',
        'industry': 'salesforce',
        'employee_count': 'salesforce',
        'annual_revenue': 'salesforce',
        'country': 'salesforce',
        'owner': 'salesforce',
        'account_lifecycle_stage': 'hubspot',
        'person_name': 'salesforce',
        'title': 'salesforce',
        'email': 'salesforce',
        'person_owner': 'salesforce',
        'person_lifecycle_stage': 'hubspot',
        'lead_source': 'salesforce',
        'original_channel': 'hubspot',
        'person_account': 'salesforce',
    }) }}
{%- endmacro %}

{#- The winning system of `field` (salesforce or hubspot). -#}
{% macro cg_survivor_system(field) -%}
    {%- set defaults = cg_survivorship_defaults() -%}
    {%- if field not in defaults -%}
        {{ exceptions.raise_compiler_error("unknown survivorship field '" ~ field ~ "'; known: " ~ (defaults.keys() | list | join(', '))) }}
    {%- endif -%}
    {%- set chosen = (var('survivorship', {}) or {}).get(field, defaults[field]) -%}
    {%- if chosen not in ('salesforce', 'hubspot') -%}
        {{ exceptions.raise_compiler_error("survivorship of '" ~ field ~ "' must be salesforce or hubspot, not '" ~ chosen ~ "'") }}
    {%- endif -%}
    {{ return(chosen) }}
{%- endmacro %}

{#-
    Aggregate (use with GROUP BY): the value of `expression` on the row that sorts first by the list of
    ascending `order_by` expressions, among the rows where `condition` holds (null when none does), even
    when that value is null. DuckDB: arg_min_null with a row key (arg_min would skip the rows whose value is
    null, so a pair such as first and last name could come from two records); PostgreSQL: the first element
    of an ordered array_agg.
-#}
{% macro cg_first_by(expression, order_by, condition=none) -%}
    {{ return(adapter.dispatch('cg_first_by', 'common_ground')(expression, order_by, condition)) }}
{%- endmacro %}

{% macro default__cg_first_by(expression, order_by, condition) -%}
    (array_agg({{ expression }} order by {{ order_by | join(', ') }}){% if condition %} filter (where {{ condition }}){% endif %})[1]
{%- endmacro %}

{% macro duckdb__cg_first_by(expression, order_by, condition) -%}
    arg_min_null({{ expression }}, ({{ order_by | join(', ') }}{% if order_by | length == 1 %}, 0{% endif %})){% if condition %} filter (where {{ condition }}){% endif %}
{%- endmacro %}

{#- Seconds since 1970 of a timestamp (for sort keys). -#}
{% macro cg_epoch(timestamp_expression) -%}
    {{ return(adapter.dispatch('cg_epoch', 'common_ground')(timestamp_expression)) }}
{%- endmacro %}

{% macro default__cg_epoch(timestamp_expression) -%}
    cast(extract(epoch from {{ timestamp_expression }}) as double precision)
{%- endmacro %}

{% macro duckdb__cg_epoch(timestamp_expression) -%}
    epoch({{ timestamp_expression }})
{%- endmacro %}

{#-
    Aggregate: the surviving value of `column` in its group. Among the rows where it is not null
    (judged on `presence_column`, default the column itself, so pairs such as amount and currency
    survive together) the winning system's (`system_column` holds salesforce / hubspot) first, then
    the first by `tiebreak` (a list of ascending sort expressions: the within-system preference).
-#}
{% macro cg_survive(column, field, tiebreak, system_column='source_family', presence_column=none) -%}
    {{ cg_first_by(column,
        ["case when " ~ system_column ~ " = '" ~ cg_survivor_system(field) ~ "' then 0 else 1 end"] + tiebreak,
        (presence_column or column) ~ " is not null") }}
{%- endmacro %}
