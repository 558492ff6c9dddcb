{#-
    Connected components over match edges by iterative min-label propagation with pointer jumping,
    unrolled into a fixed number of passes (var identity_label_passes, default 4): each pass gives
    every node the smallest label among itself and its neighbours, then the label of that label.
    A chain of n records converges in about log2(n) passes; clusters here are small (scale S converges in 2), so 4 passes
    leave a wide margin, and the generic test `components_converged` fails the build if any edge
    still joins two labels (then raise the var).

    Only the nodes with an edge go through the passes; the others are their own component.
    `nodes_sql` selects (node_id integer, unique), `edges_sql` selects (node_a, node_b) integers; the macro
    renders CTEs ending in `{{ prefix }}_labels` (node_id, component_id), component_id being the
    smallest node_id of the component. Plain standard SQL (DuckDB and PostgreSQL).
-#}
{% macro connected_components_ctes(nodes_sql, edges_sql, prefix='cc') -%}
    {%- set passes = var('identity_label_passes', 4) | int -%}
{{ prefix }}_edges as materialized (
    select node_a as node_from, node_b as node_to from ({{ edges_sql }}) as e where node_a <> node_b
    union
    select node_b as node_from, node_a as node_to from ({{ edges_sql }}) as e where node_a <> node_b
),
{#- only nodes with an edge take part in the passes (a node without one is its own component) -#}
{{ prefix }}_pass_0 as materialized (
    select node_id, node_id as label from ({{ nodes_sql }}) as n
    where node_id in (select node_from from {{ prefix }}_edges)
),
{%- for pass_number in range(1, passes + 1) %}
{{ prefix }}_pass_{{ pass_number }}_min as materialized (
    select current_label.node_id,
        least(current_label.label, coalesce(min(neighbour_label.label), current_label.label)) as label
    from {{ prefix }}_pass_{{ pass_number - 1 }} as current_label
    left join {{ prefix }}_edges as edge on edge.node_from = current_label.node_id
    left join {{ prefix }}_pass_{{ pass_number - 1 }} as neighbour_label on neighbour_label.node_id = edge.node_to
    group by current_label.node_id, current_label.label
),
{{ prefix }}_pass_{{ pass_number }} as materialized (
    select node_label.node_id, least(node_label.label, label_label.label) as label
    from {{ prefix }}_pass_{{ pass_number }}_min as node_label
    inner join {{ prefix }}_pass_{{ pass_number }}_min as label_label on label_label.node_id = node_label.label
),
{%- endfor %}
{{ prefix }}_labels as (
    select nodes.node_id, coalesce(linked.label, nodes.node_id) as component_id
    from ({{ nodes_sql }}) as nodes
    left join {{ prefix }}_pass_{{ passes }} as linked on linked.node_id = nodes.node_id
)
{%- endmacro %}
