{#-
    Helpers of the ad-platform models (staging google_ads / meta_ads / linkedin_ads, ad_performance_daily) and of
    the touches that name an ad platform (touchpoints).
    Portable SQL for DuckDB and PostgreSQL; dispatched where the dialects differ.
-#}

{#-
    The sum of the "value" of the elements of a Meta `actions` / `action_values` JSON array
    ([{"action_type": "lead", "value": "3"}, ...]) whose action_type is one of `action_types`, as an exact
    decimal; 0 when none is there. List only action types that do not overlap (Meta's "lead" already counts
    "offsite_conversion.fb_pixel_lead"), or a conversion is counted twice.
-#}
{% macro cg_meta_action_total(expression, action_types) -%}
    {{ return(adapter.dispatch('cg_meta_action_total', 'common_ground')(expression, action_types)) }}
{%- endmacro %}

{% macro default__cg_meta_action_total(expression, action_types) -%}
    coalesce(list_sum(list_transform(
        list_filter(
            from_json({{ expression }}, '[{"action_type": "VARCHAR", "value": "VARCHAR"}]'),
            lambda action: action.action_type in ({{ cg_quoted_list(action_types) }})
        ),
        lambda action: cast(action.value as numeric(38, 9))
    )), 0)
{%- endmacro %}

{% macro postgres__cg_meta_action_total(expression, action_types) -%}
    coalesce((
        select sum(cast(action ->> 'value' as numeric(38, 9)))
        from jsonb_array_elements(cast({{ expression }} as jsonb)) as action
        where action ->> 'action_type' in ({{ cg_quoted_list(action_types) }})
    ), 0)
{%- endmacro %}

{#- A Jinja list of strings as a SQL list of literals: ['a', 'b'] -> 'a', 'b' (an impossible value when empty). -#}
{% macro cg_quoted_list(values) -%}
    {%- if values | length == 0 -%}
        cast(null as {{ dbt.type_string() }})
    {%- else -%}
        {%- for value in values -%}'{{ value | replace("'", "''") }}'{% if not loop.last %}, {% endif %}{%- endfor -%}
    {%- endif -%}
{%- endmacro %}

{#-
    The instant (timestamp with time zone) a calendar date begins in the IANA time zone held by
    `time_zone_expression` (a column: every ad account has its own), e.g. 2026-01-10 in America/New_York
    -> 2026-01-10 05:00 UTC.
-#}
{% macro cg_local_day_start(date_expression, time_zone_expression) -%}
    {{ return(adapter.dispatch('cg_local_day_start', 'common_ground')(date_expression, time_zone_expression)) }}
{%- endmacro %}

{% macro default__cg_local_day_start(date_expression, time_zone_expression) -%}
    timezone({{ time_zone_expression }}, cast({{ date_expression }} as timestamp))
{%- endmacro %}

{% macro postgres__cg_local_day_start(date_expression, time_zone_expression) -%}
    (cast({{ date_expression }} as timestamp) at time zone {{ time_zone_expression }})
{%- endmacro %}

{#-
    Incremental models keyed by a day column: the first day an incremental run rebuilds, as a SQL date
    literal: the newest day already in the model minus var incremental_lookback_days (the days the
    platforms restate), or earlier when `sources` (the model's inputs, with the day column and loaded_at) hold rows
    loaded since the model's newest loaded_at for an older day: a newly connected account's history, or a
    connector re-reading more days than the var. none when the run is not incremental (first run,
    --full-refresh) or the model is empty, so everything is built. Queried while the model is compiled,
    before its pre-hook deletes the window, and again (same answer) when the pre-hook is rendered.
-#}
{% macro cg_lookback_start(day_column, sources) -%}
    {%- if not execute or not is_incremental() -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set query -%}
        with built as (
            select max({{ day_column }}) - {{ var('incremental_lookback_days', 28) | int }} as window_start,
                max(loaded_at) as loaded_at
            from {{ this }}
        ),
        loaded_since as (
            select min({{ day_column }}) as oldest_day
            from (
                {%- for source in sources %}
                select {{ day_column }}, loaded_at from {{ source }}
                {%- if not loop.last %} union all {% endif %}
                {%- endfor %}
            ) as source_rows
            where loaded_at > (select loaded_at from built)
        )
        select case when loaded_since.oldest_day < built.window_start then loaded_since.oldest_day
                    else built.window_start end
        from built cross join loaded_since
    {%- endset -%}
    {%- set result = run_query(query) -%}
    {%- set start = result.columns[0].values()[0] if result and result.rows | length > 0 else none -%}
    {%- if start is none -%}
        {{ return(none) }}
    {%- endif -%}
    {{ return("cast('" ~ (start | string)[:10] ~ "' as date)") }}
{%- endmacro %}

{#-
    Pre-hook of an incremental model keyed by a day: delete the days it rebuilds (see cg_lookback_start), so
    rows the platform no longer reports for a restated day go too; the model then appends the rebuilt days.
-#}
{% macro cg_delete_lookback_window(day_column, sources) -%}
    {%- set start = cg_lookback_start(day_column, sources) -%}
    {%- if start is none -%}
        select 1 as nothing_to_delete
    {%- else -%}
        delete from {{ this }} where {{ day_column }} >= {{ start }}
    {%- endif -%}
{%- endmacro %}

{#- A LinkedIn id from a URN or a plain id ('urn:li:sponsoredAccount:507' -> '507'). -#}
{% macro cg_linkedin_id(expression) -%}
    regexp_replace({{ expression }}, '^urn:li:[A-Za-z]+:', '')
{%- endmacro %}

{#- The daily metric relations ad_performance_daily is built from (each with date_day and loaded_at). -#}
{% macro cg_ad_metric_relations() -%}
    {{ return([
        ref('stg_google_ads__campaign_daily_metrics'), ref('stg_google_ads__ad_group_daily_metrics'),
        ref('stg_meta_ads__campaign_daily_insights'), ref('stg_meta_ads__adset_daily_insights'),
        ref('stg_linkedin_ads__campaign_daily_analytics'),
    ]) }}
{%- endmacro %}

{#-
    The channels (seed channel_mapping) no ad platform's spend runs in: a touch in one of them never came through
    an ad, whatever its utm_source says (an organic LinkedIn post tagged utm_source=linkedin, a newsletter link).
-#}
{% macro cg_channels_without_ads() -%}
    {{ return(['organic_search', 'organic_social', 'email', 'direct', 'referral']) }}
{%- endmacro %}

{#-
    The ad platform a touch's utm_source (lower-case) names: google_ads, meta_ads or linkedin_ads; null for any
    other source (e-mail, partners, organic referrers) and for none.
-#}
{% macro cg_utm_source_platform(utm_source_expression) -%}
    case
        when {{ utm_source_expression }} in ('google', 'adwords', 'googleads', 'google_ads') then 'google_ads'
        when {{ utm_source_expression }} in ('facebook', 'fb', 'instagram', 'ig', 'meta', 'meta_ads') then 'meta_ads'
        when {{ utm_source_expression }} in ('linkedin', 'lnkd', 'linkedin_ads') then 'linkedin_ads'
    end
{%- endmacro %}

{#-
    The ad platform of a group of campaign records (an aggregate over `platform_expression`): the platform they
    run on when it is one, `when_several` (a SQL expression, null by default) when they run on several, null
    when none of them runs on an ad platform. The one rule behind campaigns.platform, a CRM campaign naming ad
    campaigns by id, and a touch that counts under its unified campaign's platform.
-#}
{% macro cg_sole_platform(platform_expression, when_several='null') -%}
    case when count(distinct {{ platform_expression }}) > 1 then {{ when_several }}
        else min({{ platform_expression }}) end
{%- endmacro %}

{#-
    Post-hook of ad_performance_daily: the stored rows of a platform campaign whose unified campaign changed (its
    UTM key moved it to another one) or was renamed take the current mapping (int_campaign_source_records), so days
    older than the rebuilt window never point at a campaign that is gone. One update, of the differing rows only;
    nothing to do on a full build. The build is logged 'full' (not cg_replace_scope), so publishing copies the
    table whole and the snapshot gets these rows too.
-#}
{% macro cg_remap_ad_campaigns(campaign_records) -%}
    {%- if not is_incremental() -%}
        select 1 as nothing_to_remap
    {%- else -%}
        update {{ this }} as performance
        set campaign_id = records.campaign_id, campaign_name = records.campaign_name,
            utm_campaign = records.utm_campaign
        from {{ campaign_records }} as records
        where records.source_system = performance.platform
            and records.source_campaign_id = performance.platform_campaign_id
            and (records.campaign_id is distinct from performance.campaign_id
                 or records.campaign_name is distinct from performance.campaign_name
                 or records.utm_campaign is distinct from performance.utm_campaign)
    {%- endif -%}
{%- endmacro %}
