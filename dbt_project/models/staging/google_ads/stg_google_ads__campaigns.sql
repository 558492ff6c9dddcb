{#-
    One row per Google Ads campaign, removed ones flagged (status REMOVED), with the UTM campaign key read
    from its name ("2026Q2_WEBINAR_DATAOPS | Search | NA" -> 2026q2_webinar_dataops).

    The flight's days, in the customer's time zone: API v23+ sends start_date_time / end_date_time as
    "yyyy-MM-dd HH:mm:ss" text (the date is its first ten characters), and no end_date_time for a campaign
    without an end. Rows loaded before v23 carry the dates start_date / end_date instead. Either way an end on
    2037-12-30 or later is Google's "no end" and becomes null. A row with a start_date_time is read from the new
    columns only; a text that does not start with a yyyy-MM-dd date gives null (raw_google_ads' suite flags it)
    rather than failing the build.
-#}
{%- set relation = source('google_ads', 'campaigns') -%}
{%- set columns = cg_source_columns(relation) -%}
{%- set start_date_time = cg_column(columns, 'start_date_time', 'varchar') -%}
{%- set end_date_time = cg_column(columns, 'end_date_time', 'varchar') -%}
{%- set old_end_date = cg_column(columns, 'end_date', 'date') -%}
{%- set end_day = 'case when ' ~ start_date_time ~ ' is not null then ' ~ cg_date_of_text(end_date_time)
                  ~ ' else ' ~ old_end_date ~ ' end' -%}

with source as (
    select * from {{ cg_source_relation(relation, columns) }}
)

select
    {{ cg_column(columns, 'campaign_id', 'varchar') }} as platform_campaign_id,
    {{ cg_column(columns, 'customer_id', 'varchar') }} as ad_account_id,
    {{ cg_column(columns, 'name', 'varchar') }} as campaign_name,
    {{ cg_utm_key_from_name(cg_column(columns, 'name', 'varchar')) }} as utm_campaign,
    upper({{ cg_column(columns, 'status', 'varchar') }}) as campaign_status,
    upper({{ cg_column(columns, 'serving_status', 'varchar') }}) as serving_status,
    upper({{ cg_column(columns, 'advertising_channel_type', 'varchar') }}) as campaign_type,
    {{ cg_column(columns, 'bidding_strategy_type', 'varchar') }} as bidding_strategy_type,
    case
        when {{ start_date_time }} is not null then {{ cg_date_of_text(start_date_time) }}
        else {{ cg_column(columns, 'start_date', 'date') }}
    end as start_date,
    case when {{ end_day }} < cast('2037-12-30' as date) then {{ end_day }} end as end_date,
    (coalesce(upper({{ cg_column(columns, 'status', 'varchar') }}) = 'REMOVED', false) or {{ cg_is_vanished(columns) }})
        as is_deleted,
    {{ cg_column(columns, '_loaded_at', 'timestamp with time zone') }} as loaded_at
from source
