{#-
    Fails with the match edges whose two records ended in different clusters: the label propagation
    of connected_components_ctes needs more passes (raise var identity_label_passes).
-#}
{% test components_converged(model, edges, record_key_column='record_key', cluster_column='cluster_id') %}
select edge.record_key_a, edge.record_key_b
from {{ edges }} as edge
inner join {{ model }} as record_a on record_a.{{ record_key_column }} = edge.record_key_a
inner join {{ model }} as record_b on record_b.{{ record_key_column }} = edge.record_key_b
where record_a.{{ cluster_column }} <> record_b.{{ cluster_column }}
{% endtest %}
