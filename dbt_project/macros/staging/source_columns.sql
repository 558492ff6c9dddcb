{#-
    Schema-drift tolerant staging. A raw table may lack an optional column (an older connector, a
    field hidden by permissions, a sync that has not run yet); staging selects it when the relation
    has it and a typed null otherwise, so downstream models always see the same columns.

        {%- set columns = cg_source_columns(source('salesforce', 'account')) -%}
        select {{ cg_column(columns, 'website', 'varchar') }} as website ...
        from {{ cg_source_relation(source('salesforce', 'account'), columns) }}

    When the raw table itself does not exist yet, every column is null and the model has no rows.
-#}

{#- The lower-cased column names of a relation, or none while parsing (when nothing is queried). -#}
{% macro cg_source_columns(relation) -%}
    {%- if not execute -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set existing = adapter.get_relation(database=relation.database, schema=relation.schema,
                                            identifier=relation.identifier) -%}
    {%- if existing is none -%}
        {{ return([]) }}
    {%- endif -%}
    {%- set names = [] -%}
    {%- for column in adapter.get_columns_in_relation(existing) -%}
        {%- do names.append(column.name | lower) -%}
    {%- endfor -%}
    {{ return(names) }}
{%- endmacro %}

{#- `name` cast to `data_type` when the relation has it, else a null of that type (text: see cg_binary_text). -#}
{% macro cg_column(columns, name, data_type) -%}
    {%- if columns is none or (name | lower) in columns -%}
        {%- set value = 'cast(' ~ (adapter.quote(name) if name | lower in ('values', 'user') else name) ~ ' as '
                        ~ data_type ~ ')' -%}
    {%- else -%}
        {%- set value = 'cast(null as ' ~ data_type ~ ')' -%}
    {%- endif -%}
    {{ cg_binary_text(value) if data_type == 'varchar' else value }}
{%- endmacro %}

{#-
    Text that compares and sorts by its bytes, as DuckDB's text does. On PostgreSQL a column takes the
    database's collation: under en_US or ICU "001TIEa" sorts before "001TIEB", under C after it, so the
    ties broken on Salesforce's mixed-case ids (a cluster's oldest member, a first-by survivor) would pick
    other records than on DuckDB. Staging text carries the C collation and everything built from it keeps
    it, so the marts do not depend on how the database was created.
-#}
{% macro cg_binary_text(expression) -%}
    {{ return(adapter.dispatch('cg_binary_text', 'common_ground')(expression)) }}
{%- endmacro %}

{% macro default__cg_binary_text(expression) -%}
    {{ expression }}
{%- endmacro %}

{% macro postgres__cg_binary_text(expression) -%}
    {{ expression }} collate "C"
{%- endmacro %}

{#- The relation to select from, or an empty one-row-less stand-in when the raw table is missing. -#}
{% macro cg_source_relation(relation, columns) -%}
    {%- if columns is not none and columns | length == 0 -%}
        (select 1 as no_rows where 1 = 0) as missing_source
    {%- else -%}
        {{ relation }}
    {%- endif -%}
{%- endmacro %}
