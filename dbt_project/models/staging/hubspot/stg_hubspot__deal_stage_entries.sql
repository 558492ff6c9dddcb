{#-
    One row per HubSpot deal and stage it has entered, with the moment it last entered it: HubSpot's calculated
    `hs_v2_date_entered_<stage id>` deal properties, else the older `hs_date_entered_<stage id>`
    (cg_hubspot_date_entered_columns). The connector syncs every property the portal defines, so each is a column of
    the raw deals; a portal without them, or a deal that has none set, gives no rows. The stage is named by its
    column key (cg_hubspot_stage_column_key); int_opportunity_stage_changes finds the stage by it.
-#}
{%- set relation = source('hubspot', 'deals') -%}
{%- set columns = cg_source_columns(relation) -%}
{%- set entered = cg_hubspot_date_entered_columns(columns) -%}

{%- if entered | length == 0 %}
select
    cast(null as varchar) as hubspot_deal_id,
    cast(null as varchar) as stage_column_key,
    cast(null as timestamp with time zone) as entered_at
where 1 = 0
{%- else %}
with deals as (
    select * from {{ relation }}
)

select
    {{ cg_column(columns, 'id', 'varchar') }} as hubspot_deal_id,
    entries.stage_column_key,
    entries.entered_at
from deals
cross join lateral (
    values
    {%- for key, sources in entered | dictsort %}
        ({{ cg_binary_text("'" ~ key ~ "'") }},
            coalesce(
                {%- for source_column in sources %}
                cast(deals.{{ source_column }} as timestamp with time zone){{ ',' if not loop.last }}
                {%- endfor %}
            )){{ ',' if not loop.last }}
    {%- endfor %}
) as entries (stage_column_key, entered_at)
where entries.entered_at is not null
{%- endif %}
