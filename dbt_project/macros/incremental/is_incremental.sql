{#-
    dbt's is_incremental(), overridden (a root-project macro of the same name wins over dbt's): as dbt's, except
    that a model configured cg_rebuild_on_new_columns=true whose stored table lacks a column its YAML documents
    (a table built by a release before that column existed) is built whole this once. Built incrementally, the
    new column would be added empty on every row the run does not rebuild (see cg_replace_scope), and stay so
    until a --full-refresh. The marts whose incremental build equals a full build set it; the identity
    intermediates (whose node ids a full build renumbers) and alignment_issues (whose full build forgets when
    each issue was first detected) do not.

    The model's YAML is the list of its columns: tests/transform/test_model_docs.py keeps it equal to what the
    model builds. The whole build goes through the incremental materialization: its query then has no
    cg_scope_key, and cg_replace_scope replaces every row. Its pre-hook logs it 'full', so publishing copies it
    whole.
-#}
{% macro is_incremental() -%}
    {{ return(dbt.is_incremental() and not cg_stored_table_lacks_columns()) }}
{%- endmacro %}

{#- Whether this model rebuilds whole on new columns and its stored table lacks one its YAML documents. -#}
{% macro cg_stored_table_lacks_columns() -%}
    {%- if not config.get('cg_rebuild_on_new_columns', false) -%}
        {{ return(false) }}
    {%- endif -%}
    {%- set stored = adapter.get_columns_in_relation(this) | map(attribute='name') | map('lower') | list -%}
    {%- set missing = model.columns.keys() | map('lower') | reject('in', stored) | list -%}
    {%- if missing -%}
        {{ log('cg: ' ~ this ~ ' lacks column(s) ' ~ missing | join(', ') ~ ': built whole', info=true) }}
    {%- endif -%}
    {{ return(missing | length > 0) }}
{%- endmacro %}
