{#-
    Grain tests of the incremental marts that check only the partitions rebuilt since they last passed.

    A test configured with `where: cg_rebuilt_partitions` (on a model built by cg_replace_scope) reads only the
    model's rows whose partition key (cg_scope_key) a build logged since the test last passed and, for a model with
    cg_window_column, the rows from the earliest window those builds rebuilt (macros/incremental/publish_log.sql).
    It reads the whole table when it never passed reading it whole, last did so a week ago or more, or a build since
    its last pass was not incremental.

    Why that finds every repeat: the test groups by the partition key or the window column (anything else raises a
    compilation error), so two rows that repeat a grain share that value: when either was rebuilt, both are read;
    when neither was, they were both there when the test last passed. A failing test keeps its scope until it
    passes. Rows written by hand, not by dbt, are read at the next weekly whole read.

    get_where_subquery is dbt's own, with the marker put in place (dbt's docs: "custom logic" for the where config).
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
    {%- set builds_since -%}
        select invocation_id from {{ log }}.mart_builds
        where model = {{ name }} and built_at > {{ cg_last_pass(model.unique_id) }}
    {%- endset -%}
    {%- set condition -%}
        {{ cg_reads_whole_table(model.unique_id, tested.alias) }}
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

{#- When the test `test_id` last passed (a scalar subquery; null if never), or last passed reading the whole table. -#}
{% macro cg_last_pass(test_id, whole=false) -%}
    (select max(passed_at) from {{ cg_publish_log_schema() }}.passed_tests
     where test_id = '{{ test_id }}'{% if whole %} and read_whole{% endif %})
{%- endmacro %}

{#- Whether the test `test_id` of the model `model_name` reads the whole table this time: it never passed reading it
    whole, or last did a week ago or more, or a build since its last pass was not incremental. -#}
{% macro cg_reads_whole_table(test_id, model_name) -%}
    (
        not coalesce({{ cg_last_pass(test_id, whole=true) }} >= {{ cg_add_days(cg_run_started_at(), -7) }}, false)
        or exists (select 1 from {{ cg_publish_log_schema() }}.mart_builds
                   where model = '{{ model_name }}' and kind <> 'scoped' and built_at > {{ cg_last_pass(test_id) }})
    )
{%- endmacro %}

{#- on-run-end: when each test marked cg_rebuilt_partitions passed (this invocation's start), and whether it read the
    whole table. -#}
{% macro cg_record_passed_tests(results) -%}
    {%- set passed = [] -%}
    {%- for result in results -%}
        {%- if result.node.resource_type == 'test' and result.status == 'pass'
              and result.node.config.get('where') == 'cg_rebuilt_partitions' -%}
            {%- set model_name = graph.nodes[result.node.attached_node].alias -%}
            {%- do passed.append("select '" ~ result.node.unique_id ~ "', " ~ cg_run_started_at() ~ ", "
                                 ~ cg_reads_whole_table(result.node.unique_id, model_name)) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- if passed -%}
    insert into {{ cg_publish_log_schema() }}.passed_tests (test_id, passed_at, read_whole)
    {{ passed | join('\n    union all ') }}
    {%- else -%}
    select 1
    {%- endif -%}
{%- endmacro %}
