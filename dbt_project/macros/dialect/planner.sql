{#-
    PostgreSQL: plan the model's query without nested loops (for its transaction only: a pre-hook runs inside it).
    For a model that joins grouped CTEs, whose sizes PostgreSQL cannot estimate (it takes 200 rows): it joins them
    in nested loops, fine for 200 rows and endless for 100,000. Measured at scale M (`python -m
    benchmarks.transform_build --scale S --factor 50 --warehouse postgres --incremental`): the incremental build of
    prospects, its 18,649 changed people matched to 160,000 account domains three times over, stopped after 11
    minutes; planned without nested loops, 7.6 s (and its full build 7.1 s against 7.0 s). Nothing on DuckDB.
-#}
{% macro cg_postgres_without_nested_loops() -%}
    {%- if target.type == 'postgres' -%}
        set local enable_nestloop = off
    {%- endif -%}
{%- endmacro %}
