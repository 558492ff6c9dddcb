{#-
    Incremental strategy cg_replace_scope: replace whole partitions (scopes) of the target, so that an
    incremental build can end equal to a full build even when rows disappear or move.

    The model's incremental query returns the rows to write plus one control column, cg_scope_key: every
    partition key (config cg_scope_key, e.g. opportunity_id) named there is deleted from the target first,
    whole. A partition that no longer has rows is named by a row whose data columns are all null (a
    tombstone, e.g. from `changed left join rows`): it is deleted and nothing is inserted for it.
    With config cg_window_column (a date column), the query also returns cg_replace_from (one date, the same
    on every row) and every target row with cg_window_column >= cg_replace_from is deleted too: the trailing
    lookback window is always rebuilt. Then every returned row whose partition key is not null is inserted.
    A query without cg_scope_key is a full build's (is_incremental() false on a stored table: a model with
    cg_rebuild_on_new_columns whose table lacks a column, macros/incremental/is_incremental.sql): it replaces
    every row. A column the query returns that the target lacks (a model that gained one) is added to the target
    first, null in the rows this run does not replace; a column the target has that the query no longer returns
    (a model that lost one) is dropped, as a full build would. Plain DDL, DELETE and INSERT: the same on DuckDB
    and PostgreSQL.
    A published mart logs what it replaces first (macros/incremental/publish_log.sql).
-#}
{% macro get_incremental_cg_replace_scope_sql(arg_dict) -%}
    {%- set target = arg_dict['target_relation'] -%}
    {%- set source = arg_dict['temp_relation'] -%}
    {%- set key = config.get('cg_scope_key') -%}
    {%- set window_column = config.get('cg_window_column') -%}
    {%- if not key -%}
        {{ exceptions.raise_compiler_error('cg_replace_scope: model ' ~ this ~ ' has no config cg_scope_key') }}
    {%- endif -%}
    {%- set target_names = arg_dict['dest_columns'] | map(attribute='name') | map('lower') | list -%}
    {%- set source_columns = adapter.get_columns_in_relation(source) -%}
    {%- set source_names = source_columns | map(attribute='name') | map('lower') | list -%}
    {%- set added, kept, dropped = [], [], [] -%}
    {%- for column in source_columns -%}
        {%- if column.name | lower not in target_names and column.name | lower not in ['cg_scope_key', 'cg_replace_from'] -%}
            {%- do added.append(column) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- for column in arg_dict['dest_columns'] -%}
        {%- do (kept if column.name | lower in source_names else dropped).append(column) -%}
    {%- endfor -%}
    {%- set columns = get_quoted_csv((kept + added) | map(attribute='name')) -%}
    {%- set scoped = 'cg_scope_key' in source_names -%}
    {% if scoped and cg_is_published(target) -%}
    {{ cg_log_build_scopes(target, source, key, window_column) }};
    {% endif -%}
    {% for column in added -%}
    alter table {{ target }} add column {{ adapter.quote(column.name) }} {{ column.data_type }};
    {% endfor -%}
    {% for column in dropped -%}
    alter table {{ target }} drop column {{ adapter.quote(column.name) }};
    {% endfor -%}
    {% if not scoped -%}
    delete from {{ target }};
    {% else -%}
    delete from {{ target }}
    where {{ key }} in (select cg_scope_key from {{ source }} where cg_scope_key is not null);
    {% if window_column -%}
    delete from {{ target }}
    where {{ window_column }} >= (select min(cg_replace_from) from {{ source }});
    {% endif -%}
    {% endif -%}
    insert into {{ target }} ({{ columns }})
    select {{ columns }} from {{ source }} where {{ key }} is not null
{%- endmacro %}

{#- The first day of the trailing window every incremental run rebuilds (var incremental_lookback_days). -#}
{% macro cg_incremental_window_start(as_of_date_sql) -%}
    {{ cg_add_days(as_of_date_sql, -(var('incremental_lookback_days', 28) | int)) }}
{%- endmacro %}

{#-
    The state table `identifier` next to `sibling` (same database and schema), or none when it does not
    exist yet. Incremental models keep there what their last build was made from.
-#}
{% macro cg_state_relation(sibling, identifier) -%}
    {%- if not execute -%}
        {{ return(none) }}
    {%- endif -%}
    {{ return(adapter.get_relation(database=sibling.database, schema=sibling.schema, identifier=identifier)) }}
{%- endmacro %}

{#-
    Post-hook: replace the state table `identifier` with a copy of `source` (a relation, or a parenthesized
    select with an alias when `sibling` is given), next to `sibling` (default: next to `source`).
-#}
{% macro cg_save_state(source, identifier, sibling=none) -%}
    {%- set home = sibling if sibling is not none else source -%}
    {%- set state = api.Relation.create(database=home.database, schema=home.schema, identifier=identifier,
                                        type='table') -%}
    drop table if exists {{ state }};
    create table {{ state }} as select * from {{ source }}
{%- endmacro %}

{#-
    The `key` of every row of `rows` that differs from the stored one in `columns`, in either direction:
    new or changed rows, and stored rows that changed or are gone. An incremental model's change scope.
    `stored` is the model itself by default, or a state table (cg_save_state) of what its last build read;
    `key` may name several columns.
-#}
{% macro cg_changed_keys(rows, key, columns, stored=none) -%}
    {%- set stored = stored if stored is not none else this -%}
    select {{ key }} from (
        select {{ columns }} from {{ rows }}
        except
        select {{ columns }} from {{ stored }}
    ) as new_or_changed
    union
    select {{ key }} from (
        select {{ columns }} from {{ stored }}
        except
        select {{ columns }} from {{ rows }}
    ) as changed_or_gone
{%- endmacro %}

{#-
    `where <key_expression> in the model's changed keys` on an incremental run (the model defines the CTE
    `changed` with a column record_key), nothing on a full build: the filter of each branch of a model that
    rebuilds only its changed records.
-#}
{% macro cg_in_scope(key_expression) -%}
    {%- if is_incremental() %}
    where {{ key_expression }} in (select record_key from changed)
    {%- endif %}
{%- endmacro %}
