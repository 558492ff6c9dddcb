{#- HubSpot conventions. -#}

{#-
    (merged_id, survivor_id) for the records of `relation` (keyed by `id_column`) that another
    record lists in its hs_merged_object_ids ("a;b"): the merged-away records a survivor absorbed.
    The lists are split into one row per id and joined on equality: a text match of every record
    against every list (LIKE) costs records x survivors and took seconds per query at scale M.
-#}
{% macro cg_hubspot_merged_into(relation, id_column) -%}
    select listed.merged_id, min(listed.survivor_id) as survivor_id
    from ({{ cg_hubspot_merge_lists(relation, id_column) }}) as listed
    inner join {{ relation }} as record on record.{{ id_column }} = listed.merged_id
    where listed.survivor_id <> listed.merged_id
    group by listed.merged_id
{%- endmacro %}

{#-
    The ids (merged_id) of the records of `relation` (keyed by `id_column`, with is_archived and is_vanished) that a
    live record absorbed: a record neither archived nor gone from the listings lists it in its hs_merged_object_ids,
    or lists a record that absorbed it in turn (a chain of merges, followed to its end whether or not the last
    survivor also lists the first loser: unverified what HubSpot keeps there). A record merged into a survivor that
    was deleted later is not among them: the person or company it was part of is gone. Only the records that
    vanished are followed, since only their is_deleted asks (a record still listed is archived or live on its own),
    so a night without vanished records follows none. The union (not union all) stops the recursion on a cycle of
    lists.
-#}
{% macro cg_hubspot_absorbed_by_live(relation, id_column) -%}
    select distinct absorbed.merged_id
    from (
        with recursive listed as (
            {{ cg_hubspot_merge_lists(relation, id_column) }}
        ),

        reached (merged_id, survivor_id) as (
            select listed.merged_id, listed.survivor_id
            from listed
            inner join {{ relation }} as vanished on vanished.{{ id_column }} = listed.merged_id
            where vanished.is_vanished and listed.merged_id <> listed.survivor_id
            union
            select reached.merged_id, listed.survivor_id
            from reached
            inner join listed on listed.merged_id = reached.survivor_id
        )

        select reached.merged_id
        from reached
        inner join {{ relation }} as survivor on survivor.{{ id_column }} = reached.survivor_id
        where not survivor.is_archived and not survivor.is_vanished
    ) as absorbed
{%- endmacro %}

{#- (survivor_id, merged_id): one row per id each record of `relation` lists in its hs_merged_object_ids. -#}
{% macro cg_hubspot_merge_lists(relation, id_column) -%}
    select
        {{ id_column }} as survivor_id,
        {{ cg_hubspot_merged_ids('merged_object_ids') }} as merged_id
    from {{ relation }}
    where merged_object_ids is not null
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

{#-
    The deal properties that say when a deal last entered a stage, one per stage id: HubSpot's calculated
    `hs_v2_date_entered_<stage id>`, and the older `hs_date_entered_<stage id>` it replaced. Returns a mapping of
    the stage's column key (the part after the prefix, see cg_hubspot_stage_column_key) to the raw columns that
    hold it among `columns`, the v2 one first. `hs_v2_date_entered_current_stage` names no stage and is left out.
-#}
{% macro cg_hubspot_date_entered_columns(columns) -%}
    {%- set entered = {} -%}
    {%- for prefix in ['hs_v2_date_entered_', 'hs_date_entered_'] -%}
        {%- for column in columns or [] -%}
            {%- if column.startswith(prefix) and column != 'hs_v2_date_entered_current_stage' -%}
                {%- do entered.setdefault(column[prefix | length:], []).append(column) -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endfor -%}
    {{ return(entered) }}
{%- endmacro %}

{#-
    A HubSpot stage id as the loader names it inside a column (`hs_v2_date_entered_<key>`): the property name in
    snake_case (connectors.naming.snake_case: `closedWon` -> `closed_won`), then as dlt's naming writes it
    (connectors.naming.warehouse_name: `+ - * @ |` -> `x _ x a l`, any other character but ASCII letters, digits
    and `_` -> `_`, trailing `_` -> `x`, runs of `_` as one), computed on the whole column name, whose prefix a
    leading `_` of the key runs into. Not mirrored (such a stage's entries go unmatched and its deals keep an
    estimated entry): ids holding `.` or `__` (dlt's path separator) or starting with `_`, and column names past 63
    characters or colliding with another, which the loader shortens or hashes. HubSpot's own ids are lower-case
    words in the default pipeline and numbers in the others, which come through unchanged.
-#}
{% macro cg_hubspot_stage_column_key(expression) -%}
    {%- set prefix = 'hs_v2_date_entered_' -%}
    {%- set split_cases -%}
        lower(regexp_replace(regexp_replace('{{ prefix }}' || {{ expression }},
            '([a-z0-9])([A-Z])', '\1_\2', 'g'), '([A-Z])([A-Z][a-z])', '\1_\2', 'g'))
    {%- endset -%}
    {%- set allowed = "regexp_replace(translate(" ~ split_cases ~ ", '+-*@|', 'x_xal'), '[^a-z0-9_]+', '_', 'g')" -%}
    {%- set trailing_as_x = "rtrim(" ~ allowed ~ ", '_') || repeat('x', length(" ~ allowed ~ ") - length(rtrim(" ~ allowed ~ ", '_')))" -%}
    substr(regexp_replace({{ trailing_as_x }}, '_+', '_', 'g'), {{ prefix | length + 1 }})
{%- endmacro %}
