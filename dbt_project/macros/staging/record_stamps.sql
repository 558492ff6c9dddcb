{#-
    The bookkeeping columns CRM staging models share (deletion and merge flags, created / modified / loaded
    times), written once. `columns` is the relation's columns from cg_source_columns.
-#}

{#-
    Salesforce: is_deleted (IsDeleted, or the loader's _vanished_at: the record is gone from the source, hard-deleted
    or purged from the recycle bin), is_merged when `merged` (MasterRecordId set), created_at, modified_at
    (SystemModstamp, else LastModifiedDate) and loaded_at.
-#}
{% macro cg_salesforce_record_stamps(columns, merged=true) -%}
    (coalesce({{ cg_column(columns, 'is_deleted', 'boolean') }}, false) or {{ cg_is_vanished(columns) }}) as is_deleted,
    {%- if merged %}
    {{ cg_column(columns, 'master_record_id', 'varchar') }} is not null as is_merged,
    {%- endif %}
    {{ cg_column(columns, 'created_date', 'timestamp with time zone') }} as created_at,
    coalesce(
        {{ cg_column(columns, 'system_modstamp', 'timestamp with time zone') }},
        {{ cg_column(columns, 'last_modified_date', 'timestamp with time zone') }}
    ) as modified_at,
    {{ cg_column(columns, '_loaded_at', 'timestamp with time zone') }} as loaded_at
{%- endmacro %}

{#-
    HubSpot CRM objects: is_archived (archived), is_vanished (the loader's _vanished_at: gone from every listing, a
    GDPR delete or a merge), deleted_at (archived_at) when `deleted_at`, created_at (createdate, else the object's
    createdAt), modified_at (`modified_property`, else updatedAt), loaded_at. is_deleted needs the merges of the
    whole table (a record merged away vanishes too): cg_hubspot_select_with_merges derives it.
-#}
{% macro cg_hubspot_record_stamps(columns, modified_property='hs_lastmodifieddate', deleted_at=true) -%}
    {{ cg_hubspot_is_archived(columns) }} as is_archived,
    {{ cg_is_vanished(columns) }} as is_vanished,
    {%- if deleted_at %}
    {{ cg_column(columns, 'archived_at', 'timestamp with time zone') }} as deleted_at,
    {%- endif %}
    coalesce(
        {{ cg_column(columns, 'createdate', 'timestamp with time zone') }},
        {{ cg_column(columns, 'created_at', 'timestamp with time zone') }}
    ) as created_at,
    coalesce(
        {{ cg_column(columns, modified_property, 'timestamp with time zone') }},
        {{ cg_column(columns, 'updated_at', 'timestamp with time zone') }}
    ) as modified_at,
    {{ cg_column(columns, '_loaded_at', 'timestamp with time zone') }} as loaded_at
{%- endmacro %}

{#- Whether the loader flagged the row _vanished_at: its record left the source's listings (a hard delete, a
    record a full refresh no longer reads: a cancelled ad account's campaigns, a deleted owner). -#}
{% macro cg_is_vanished(columns) -%}
    {{ cg_column(columns, '_vanished_at', 'timestamp with time zone') }} is not null
{%- endmacro %}

{#- HubSpot's archived flag and the hs_merged_object_ids list of a CRM object (with cg_is_vanished above), as
    the staging models and cg_hubspot_merge_keys both read them. -#}
{% macro cg_hubspot_is_archived(columns) -%}
    coalesce({{ cg_column(columns, 'archived', 'boolean') }}, false)
{%- endmacro %}

{% macro cg_hubspot_merged_object_ids(columns) -%}
    nullif(trim({{ cg_column(columns, 'hs_merged_object_ids', 'varchar') }}), '')
{%- endmacro %}

{#-
    What the merge logic of a HubSpot staging model reads of each record, straight from its CTE `source` (the raw
    table, columns `columns`): the id (as `id_column`), merged_object_ids, is_archived and is_vanished. Not from the
    model's renamed CTE: a recursive CTE over that one had DuckDB compute every renamed column of every record (its
    regular expressions included) for each read of the view, about 0.7 s a read at scale M.
-#}
{% macro cg_hubspot_merge_keys(columns, id_column, source='source') -%}
    select
        {{ cg_column(columns, 'id', 'varchar') }} as {{ id_column }},
        {{ cg_hubspot_merged_object_ids(columns) }} as merged_object_ids,
        {{ cg_hubspot_is_archived(columns) }} as is_archived,
        {{ cg_is_vanished(columns) }} as is_vanished
    from {{ source }}
{%- endmacro %}

{#-
    The end of a HubSpot staging model: the CTEs merge_keys (cg_hubspot_merge_keys, from the model's CTE `source`
    and its `columns`), merged_into and absorbed_by_live, and the final select of every row of `relation` (keyed by
    `id_column`, e.g. hubspot_company_id) with is_merged_away and merged_into_<id_column>, the survivor that absorbed
    it (hs_merged_object_ids, see cg_hubspot_merged_into), and is_deleted: archived, or vanished from the source
    (is_vanished of cg_hubspot_record_stamps) unless a live record absorbed it (a merge being no delete, see
    cg_hubspot_absorbed_by_live): merged into a survivor that was deleted in turn, it is deleted with it.
-#}
{% macro cg_hubspot_select_with_merges(relation, id_column, columns) -%}
merge_keys as (
    {{ cg_hubspot_merge_keys(columns, id_column) }}
),

merged_into as (
    {{ cg_hubspot_merged_into('merge_keys', id_column) }}
),

absorbed_by_live as (
    {{ cg_hubspot_absorbed_by_live('merge_keys', id_column) }}
)

select
    {{ relation }}.*,
    merged_into.survivor_id is not null as is_merged_away,
    merged_into.survivor_id as merged_into_{{ id_column }},
    {{ relation }}.is_archived or ({{ relation }}.is_vanished and absorbed_by_live.merged_id is null) as is_deleted
from {{ relation }}
left join merged_into on merged_into.merged_id = {{ relation }}.{{ id_column }}
left join absorbed_by_live on absorbed_by_live.merged_id = {{ relation }}.{{ id_column }}
{%- endmacro %}
