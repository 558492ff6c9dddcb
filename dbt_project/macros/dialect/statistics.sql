{#-
    PostgreSQL: the planner statistics of a table just built. A table made by `create table as` (or filled by an
    incremental build) has none until autovacuum analyzes it, a minute or more later, and the models built on it
    meanwhile are planned blind. Measured at scale M (`python -m benchmarks.transform_build --scale S --factor 50
    --warehouse postgres`): int_opportunities_unioned joined each of 75,000 HubSpot deals to a scan of a million
    stage changes (stopped after 12 minutes) where, planned with statistics, it took 9.5 s. A post-hook of every
    model (dbt_project.yml); nothing on DuckDB, which plans without them, nor for views.
-#}
{% macro cg_analyze_on_postgres() -%}
    {%- if target.type == 'postgres' and model.config.materialized in ['table', 'incremental'] -%}
        analyze {{ this }}
    {%- endif -%}
{%- endmacro %}
