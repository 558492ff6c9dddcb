{#-
    One row per Meta campaign, deleted and archived ones flagged (effective_status DELETED / ARCHIVED), with
    the UTM campaign key read from its name ("2026q2_webinar_dataops – Leads – US" -> 2026q2_webinar_dataops).
    Budgets stay integers in the currency's minor unit, as Meta writes them.
-#}
{%- set relation = source('meta_ads', 'campaigns') -%}
{%- set columns = cg_source_columns(relation) -%}

with source as (
    select * from {{ cg_source_relation(relation, columns) }}
)

select
    {{ cg_column(columns, 'id', 'varchar') }} as platform_campaign_id,
    {{ cg_column(columns, 'account_id', 'varchar') }} as ad_account_id,
    {{ cg_column(columns, 'name', 'varchar') }} as campaign_name,
    {{ cg_utm_key_from_name(cg_column(columns, 'name', 'varchar')) }} as utm_campaign,
    {{ cg_column(columns, 'objective', 'varchar') }} as campaign_type,
    {{ cg_column(columns, 'buying_type', 'varchar') }} as buying_type,
    {{ cg_column(columns, 'stop_time', 'timestamp with time zone') }} as stop_at,
    {{ cg_meta_ads_object_columns(columns, 'campaign_status') }}
from source
