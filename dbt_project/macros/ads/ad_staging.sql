{#-
    Column lists shared by the ad-platform staging models of one platform (the campaign-level and the
    ad-group-level streams carry the same fields), so each list is written once. `columns` is the
    relation's columns from cg_source_columns; missing optional columns become typed nulls.
-#}

{#- Google Ads daily metrics: delivery, exact cost in the customer's currency (micros / 1e6), conversions. -#}
{% macro cg_google_ads_metric_columns(columns) -%}
    upper({{ cg_column(columns, 'currency_code', 'varchar') }}) as currency_code,
    {{ cg_column(columns, 'account_time_zone', 'varchar') }} as account_time_zone,
    coalesce({{ cg_column(columns, 'impressions', 'bigint') }}, 0) as impressions,
    coalesce({{ cg_column(columns, 'clicks', 'bigint') }}, 0) as clicks,
    coalesce(
        {{ cg_column(columns, 'cost', 'numeric(38, 9)') }},
        cast({{ cg_column(columns, 'cost_micros', 'bigint') }} / 1000000.0 as numeric(38, 9)),
        0
    ) as spend,
    coalesce({{ cg_column(columns, 'conversions', 'numeric(38, 9)') }}, 0) as platform_conversions,
    coalesce({{ cg_column(columns, 'conversions_value', 'numeric(38, 9)') }}, 0) as platform_conversion_value,
    {{ cg_column(columns, '_loaded_at', 'timestamp with time zone') }} as loaded_at
{%- endmacro %}

{#-
    Meta daily insights: delivery, spend in the account's currency, and platform_conversions /
    platform_conversion_value summed from the actions / action_values JSON for the action types in var
    meta_ads_conversion_action_types (default the website pixel lead; types must not overlap).
-#}
{% macro cg_meta_ads_insight_columns(columns) -%}
    {%- set action_types = var('meta_ads_conversion_action_types', ['offsite_conversion.fb_pixel_lead']) -%}
    upper({{ cg_column(columns, 'currency_code', 'varchar') }}) as currency_code,
    {{ cg_column(columns, 'account_time_zone', 'varchar') }} as account_time_zone,
    coalesce({{ cg_column(columns, 'impressions', 'bigint') }}, 0) as impressions,
    {{ cg_column(columns, 'reach', 'bigint') }} as reach,
    coalesce({{ cg_column(columns, 'clicks', 'bigint') }}, 0) as clicks,
    {{ cg_column(columns, 'inline_link_clicks', 'bigint') }} as inline_link_clicks,
    coalesce({{ cg_column(columns, 'spend', 'numeric(38, 9)') }}, 0) as spend,
    {{ cg_column(columns, 'actions', 'varchar') }} as actions_json,
    {{ cg_column(columns, 'action_values', 'varchar') }} as action_values_json,
    {{ cg_meta_action_total(cg_column(columns, 'actions', 'varchar'), action_types) }} as platform_conversions,
    {{ cg_meta_action_total(cg_column(columns, 'action_values', 'varchar'), action_types) }}
        as platform_conversion_value,
    coalesce({{ cg_column(columns, 'leads', 'numeric(38, 9)') }}, 0) as leads,
    coalesce({{ cg_column(columns, 'website_leads', 'numeric(38, 9)') }}, 0) as website_leads,
    coalesce({{ cg_column(columns, 'link_clicks', 'numeric(38, 9)') }}, 0) as link_clicks,
    coalesce({{ cg_column(columns, 'purchases', 'numeric(38, 9)') }}, 0) as purchases,
    {{ cg_column(columns, '_loaded_at', 'timestamp with time zone') }} as loaded_at
{%- endmacro %}

{#-
    Meta campaigns and ad sets: statuses (effective_status, falling back to status, names the state; DELETED
    and ARCHIVED count as deleted), budgets in the currency's minor unit as Meta writes them, times.
    `status_name` is the name of the status column (campaign_status / ad_group_status).
-#}
{% macro cg_meta_ads_object_columns(columns, status_name) -%}
    {%- set status = "upper(coalesce(" ~ cg_column(columns, 'effective_status', 'varchar') ~ ", "
                     ~ cg_column(columns, 'status', 'varchar') ~ "))" -%}
    upper({{ cg_column(columns, 'status', 'varchar') }}) as configured_status,
    {{ status }} as {{ status_name }},
    {{ cg_column(columns, 'daily_budget', 'bigint') }} as daily_budget_minor_units,
    {{ cg_column(columns, 'lifetime_budget', 'bigint') }} as lifetime_budget_minor_units,
    {{ cg_column(columns, 'bid_strategy', 'varchar') }} as bid_strategy,
    {{ cg_column(columns, 'start_time', 'timestamp with time zone') }} as start_at,
    {{ cg_column(columns, 'created_time', 'timestamp with time zone') }} as created_at,
    {{ cg_column(columns, 'updated_time', 'timestamp with time zone') }} as modified_at,
    (coalesce({{ status }} in ('DELETED', 'ARCHIVED'), false) or {{ cg_is_vanished(columns) }}) as is_deleted,
    {{ cg_column(columns, '_loaded_at', 'timestamp with time zone') }} as loaded_at
{%- endmacro %}
