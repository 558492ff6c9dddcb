{#- HubSpot conventions. -#}

{#-
    (merged_id, survivor_id) for the records of `relation` (keyed by `id_column`) that another
    record lists in its hs_merged_object_ids ("a;b"): the merged-away records a survivor absorbed.
    The lists are split into one row per id and joined on equality: a text match of every record
    against every list (LIKE) costs records x survivors and took seconds per query at scale M.
-#}
{% macro cg_hubspot_merged_into(relation, id_column) -%}
    select listed.merged_id, min(listed.survivor_id) as survivor_id
    from (
        select
            {{ id_column }} as survivor_id,
            {{ cg_hubspot_merged_ids('merged_object_ids') }} as merged_id
        from {{ relation }}
        where merged_object_ids is not null
    ) as listed
    inner join {{ relation }} as record on record.{{ id_column }} = listed.merged_id
    where listed.survivor_id <> listed.merged_id
    group by listed.merged_id
{%- endmacro %}

{#- One row per id of a HubSpot hs_merged_object_ids list ("a; b") in `column` (a set-returning expression). -#}
{% macro cg_hubspot_merged_ids(column) -%}
    {{ cg_split_to_rows("replace(" ~ column ~ ", ' ', '')", ';') }}
{%- endmacro %}

{#- A readable label from a HubSpot internal enumeration value ("COMPUTER_SOFTWARE" -> "Computer software"). -#}
{% macro cg_hubspot_label(expression) -%}
    case when {{ expression }} is not null then
        upper(substr(replace(lower({{ expression }}), '_', ' '), 1, 1)) || substr(replace(lower({{ expression }}), '_', ' '), 2)
    end
{%- endmacro %}
