{#-
    PostgreSQL: the planner statistics of a table just built. A table made by `create table as` (or filled by an
    incremental build) has none until autovacuum analyzes it, up to a minute or more later, and the models built on
    it meanwhile are planned blind: at scale M, int_opportunities_unioned then joined each of 75,000 HubSpot deals
    to a scan of a million stage changes (stopped after 12 minutes) where, planned with statistics, it takes 7 s. A post-hook
    of every table and incremental model (dbt_project.yml); nothing on DuckDB, which plans without them.
-#}
{% macro cg_analyze_on_postgres() -%}
    {%- if target.type == 'postgres' and model.config.materialized in ['table', 'incremental'] -%}
        analyze {{ this }}
    {%- endif -%}
{%- endmacro %}
