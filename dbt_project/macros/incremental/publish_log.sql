{#-
    The publish log: what each build of a mart changed, so that publishing can copy only that (see
    pipelines/lib/publish.py) instead of the whole marts every night.

    publish_log.mart_builds: one row per build of a mart (model = its table name), written by a pre-hook before the
    build touches the table. kind 'scoped' is an incremental build by cg_replace_scope, which changes only the
    partitions it names; every other build ('full': a first build, a full refresh, another strategy) may have
    changed anything. publish_log.mart_build_scopes: the partition keys (cast to text) a scoped build replaced and,
    for a model with cg_window_column, one row with a null key and the first day of the window it rebuilt.

    Each build is logged before it changes the table, so a build that fails midway leaves a log naming more than
    changed (publishing then copies a little more), never less. Plain SQL: the same on DuckDB and PostgreSQL.

    publish_log.passed_tests: when each grain test that checks only the rebuilt partitions last passed
    (macros/tests/rebuilt_partitions.sql).
-#}

{% macro cg_publish_log_schema() -%}
    publish_log
{%- endmacro %}

{#- on-run-start: the log's tables, created once before any model runs (models log in parallel threads). -#}
{% macro cg_create_publish_log() -%}
    create schema if not exists {{ cg_publish_log_schema() }};
    create table if not exists {{ cg_publish_log_schema() }}.mart_builds (
        model varchar, invocation_id varchar, built_at timestamp with time zone, kind varchar,
        scope_column varchar, window_column varchar
    );
    create table if not exists {{ cg_publish_log_schema() }}.mart_build_scopes (
        model varchar, invocation_id varchar, scope_key varchar, replace_from date
    );
    create table if not exists {{ cg_publish_log_schema() }}.passed_tests (
        test_id varchar, passed_at timestamp with time zone, read_whole boolean
    )
{%- endmacro %}

{#- on-run-end: forget builds older than var publish_log_days (publishing copies a table whole when the build its
    snapshot holds is no longer in the log). -#}
{% macro cg_prune_publish_log() -%}
    {%- set oldest = cg_add_days(cg_run_started_at(), -(var('publish_log_days', 35) | int)) -%}
    delete from {{ cg_publish_log_schema() }}.mart_build_scopes
    where invocation_id in (
        select invocation_id from {{ cg_publish_log_schema() }}.mart_builds where built_at < {{ oldest }}
    );
    delete from {{ cg_publish_log_schema() }}.mart_builds where built_at < {{ oldest }};
    delete from {{ cg_publish_log_schema() }}.passed_tests where passed_at < {{ oldest }}
{%- endmacro %}

{#- Whether `relation` is a published mart (its builds are logged). -#}
{% macro cg_is_published(relation) -%}
    {{ return(relation.schema == var('published_schema', 'marts')) }}
{%- endmacro %}

{#- Pre-hook of every mart (dbt_project.yml): log this build before it runs. -#}
{% macro cg_log_mart_build() -%}
    {%- set scoped = is_incremental() and config.get('incremental_strategy') == 'cg_replace_scope' -%}
    {%- set window_column = config.get('cg_window_column') if scoped else none -%}
    insert into {{ cg_publish_log_schema() }}.mart_builds
        (model, invocation_id, built_at, kind, scope_column, window_column)
    values (
        '{{ this.identifier }}', '{{ invocation_id }}', {{ cg_run_started_at() }}, '{{ "scoped" if scoped else "full" }}',
        {{ "'" ~ config.get('cg_scope_key') ~ "'" if scoped else "null" }},
        {{ "'" ~ window_column ~ "'" if window_column else "null" }}
    )
{%- endmacro %}

{#- Inside cg_replace_scope, before it changes `target`: log the partitions it replaces or adds to. -#}
{% macro cg_log_build_scopes(target, source, key, window_column) -%}
    insert into {{ cg_publish_log_schema() }}.mart_build_scopes (model, invocation_id, scope_key, replace_from)
    select '{{ target.identifier }}', '{{ invocation_id }}', scope_key, cast(null as date) from (
        select cast(cg_scope_key as varchar) as scope_key from {{ source }} where cg_scope_key is not null
        union
        select cast({{ key }} as varchar) from {{ source }} where {{ key }} is not null
    ) as scopes
    {%- if window_column %}
    union all
    select '{{ target.identifier }}', '{{ invocation_id }}', null, min(cg_replace_from) from {{ source }}
    {%- endif %}
{%- endmacro %}
