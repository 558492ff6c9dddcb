{#- HubSpot conventions. -#}

{#-
    (merged_id, survivor_id) for the records of `relation` (keyed by `id_column`) that another
    record lists in its hs_merged_object_ids ("a;b"): the merged-away records a survivor absorbed.
    Matching is on ';'-delimited text, so no dialect-specific array functions are needed; the join
    only meets the few records that carry merged ids.
-#}
{% macro cg_hubspot_merged_into(relation, id_column) -%}
    select record.{{ id_column }} as merged_id, min(survivor.{{ id_column }}) as survivor_id
    from {{ relation }} as record
    inner join {{ relation }} as survivor
        on survivor.merged_object_ids is not null
        and ';' || replace(survivor.merged_object_ids, ' ', '') || ';' like '%;' || record.{{ id_column }} || ';%'
        and survivor.{{ id_column }} <> record.{{ id_column }}
    group by record.{{ id_column }}
{%- endmacro %}

{#- A readable label from a HubSpot internal enumeration value ("COMPUTER_SOFTWARE" -> "Computer software"). -#}
{% macro cg_hubspot_label(expression) -%}
    case when {{ expression }} is not null then
        upper(substr(replace(lower({{ expression }}), '_', ' '), 1, 1)) || substr(replace(lower({{ expression }}), '_', ' '), 2)
    end
{%- endmacro %}
