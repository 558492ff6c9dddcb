{#-
    Grain tests of the incremental marts that check only the partitions rebuilt since they last passed.

    A test configured with `where: cg_rebuilt_partitions` (on a model built by cg_replace_scope) reads only the
    model's rows whose partition key (cg_scope_key) some build logged since the test last passed, and, for a model
    with cg_window_column, the rows from the earliest window those builds rebuilt (macros/incremental/
    publish_log.sql). It reads the whole table when it never passed, last passed a week ago or more, or a build
    since was not incremental. For a grain test that groups by the partition key or the window column this finds
    every repeat: two rows that repeat a grain share its partition and its day, so both are read when either was
    rebuilt, and rows no build touched were checked when the test last passed. A failing test keeps its scope until
    it passes. Only for tests that group by one of those columns: anything else raises a compilation error.

    dbt's own get_where_subquery, with the marker put in place (docs: "custom logic" for the where config).
-#}
{% macro get_where_subquery(relation) -%}
    {%- set where = config.get('where') -%}
    {%- if where == 'cg_rebuilt_partitions' -%}
        {%- set where = cg_rebuilt_partitions(relation) -%}
    {%- endif -%}
    {%- if where -%}
        {%- do return('(select * from ' ~ relation ~ ' where ' ~ where ~ ') dbt_subquery') -%}
    {%- endif -%}
    {%- do return(relation) -%}
{%- endmacro %}

{#- The where condition of a test marked cg_rebuilt_partitions (`model` is the test node). -#}
{% macro cg_rebuilt_partitions(relation) -%}
    {%- if not execute -%}
        {{ return('1 = 1') }}
    {%- endif -%}
    {%- set tested = graph.nodes[model.attached_node] -%}
    {%- set scope_column, window_column = tested.config.get('cg_scope_key'), tested.config.get('cg_window_column') -%}
    {%- set kwargs = model.test_metadata.kwargs -%}
    {%- set grain = kwargs.get('combination_of_columns') or [kwargs.get('column_name')] -%}
    {%- if not scope_column or (scope_column not in grain and window_column not in grain) -%}
        {{ exceptions.raise_compiler_error('cg_rebuilt_partitions: test ' ~ model.unique_id ~ ' must group by the '
                                           ~ 'cg_scope_key or cg_window_column of a cg_replace_scope model') }}
    {%- endif -%}
    {%- set log = cg_publish_log_schema() -%}
    {%- set name = "'" ~ tested.alias ~ "'" -%}
    {%- set last_pass -%}
        (select max(passed_at) from {{ log }}.passed_tests where test_id = '{{ model.unique_id }}')
    {%- endset -%}
    {%- set builds_since -%}
        select invocation_id from {{ log }}.mart_builds where model = {{ name }} and built_at > {{ last_pass }}
    {%- endset -%}
    {%- set condition -%}
        {{ last_pass }} is null
        or {{ last_pass }} < {{ cg_add_days(cg_run_started_at(), -7) }}
        or exists (select 1 from {{ log }}.mart_builds
                   where model = {{ name }} and built_at > {{ last_pass }} and kind <> 'scoped')
        or cast({{ scope_column }} as varchar) in (
            select scope_key from {{ log }}.mart_build_scopes
            where model = {{ name }} and scope_key is not null and invocation_id in ({{ builds_since }}))
        {%- if window_column %}
        or {{ window_column }} >= (
            select min(replace_from) from {{ log }}.mart_build_scopes
            where model = {{ name }} and invocation_id in ({{ builds_since }}))
        {%- endif %}
    {%- endset -%}
    {{ return('(' ~ condition ~ ')') }}
{%- endmacro %}

{#- on-run-end: when each test marked cg_rebuilt_partitions last passed (this invocation's start). -#}
{% macro cg_record_passed_tests(results) -%}
    {%- set passed = [] -%}
    {%- for result in results -%}
        {%- if result.node.resource_type == 'test' and result.status == 'pass'
              and result.node.config.get('where') == 'cg_rebuilt_partitions' -%}
            {%- do passed.append("('" ~ result.node.unique_id ~ "')") -%}
        {%- endif -%}
    {%- endfor -%}
    {%- if passed -%}
    insert into {{ cg_publish_log_schema() }}.passed_tests (test_id, passed_at)
    select test_id, {{ cg_run_started_at() }} from (values {{ passed | join(', ') }}) as passed (test_id)
    {%- else -%}
    select 1
    {%- endif -%}
{%- endmacro %}
