{#-
    Helpers of the revenue marts (attribution, channel performance, funnel, retention, alignment, shared
    metrics). Portable SQL for DuckDB and PostgreSQL; dispatched where the dialects differ.
-#}

{#-
    The funnel stages in order, each with the prospects column holding the first time a person entered it.
    The one definition of what a lead, an MQL, an SQL, an opportunity and a customer are: prospect_funnel
    reads these columns, and every count of the funnel, the channel report and the shared metrics comes from it.
-#}
{% macro cg_funnel_stages() -%}
    {{ return([
        {'name': 'lead', 'plural': 'leads', 'column': 'became_lead_at'},
        {'name': 'mql', 'plural': 'mqls', 'column': 'became_mql_at'},
        {'name': 'sql', 'plural': 'sqls', 'column': 'became_sql_at'},
        {'name': 'opportunity', 'plural': 'opportunities', 'column': 'became_opportunity_at'},
        {'name': 'customer', 'plural': 'customers', 'column': 'became_customer_at'},
    ]) }}
{%- endmacro %}

{#- The first day of the month of a date (or timestamp), as a date. -#}
{% macro cg_month(date_expression) -%}
    cast(date_trunc('month', cast({{ date_expression }} as date)) as date)
{%- endmacro %}

{#- `date_expression` plus `months` (an integer expression) calendar months, as a date. -#}
{% macro cg_add_months(date_expression, months) -%}
    cast(cast({{ date_expression }} as date) + cast({{ months }} as integer) * interval '1 month' as date)
{%- endmacro %}

{#- Whole calendar months from the month of `start_date` to the month of `end_date`. -#}
{% macro cg_months_between(start_date, end_date) -%}
    cast(
        (extract(year from cast({{ end_date }} as date)) - extract(year from cast({{ start_date }} as date))) * 12
        + extract(month from cast({{ end_date }} as date)) - extract(month from cast({{ start_date }} as date))
    as integer)
{%- endmacro %}

{#- numerator / denominator as a double, null when the denominator is 0 or null (never integer division). -#}
{% macro cg_divide(numerator, denominator) -%}
    (cast({{ numerator }} as double precision) / nullif(cast({{ denominator }} as double precision), 0))
{%- endmacro %}

{#- Aggregate: the median of `expression` (ordered-set aggregate, the same in DuckDB and PostgreSQL). -#}
{% macro cg_median(expression, condition=none) -%}
    percentile_cont(0.5) within group (order by {{ expression }}){% if condition %} filter (where {{ condition }}){% endif %}
{%- endmacro %}

{#- Days (fractional) from timestamp `earlier` to timestamp `later`. -#}
{% macro cg_days_elapsed(earlier, later) -%}
    (({{ cg_epoch(later) }} - {{ cg_epoch(earlier) }}) / 86400.0)
{%- endmacro %}

{#-
    A money amount in the reporting currency kept to 6 decimals, so sums of credited shares add up to the cent; 38
    digits hold any amount (numeric(18, 2), up to 10^16): 18 would stop at 10^12, USD 40 million in dong or rupiah.
-#}
{% macro cg_money_share(expression) -%}
    cast({{ expression }} as numeric(38, 6))
{%- endmacro %}

{#- The attribution models, in the order attribution builds them. -#}
{% macro cg_attribution_models() -%}
    {{ return(['first_touch', 'last_touch', 'linear', 'position_based', 'time_decay']) }}
{%- endmacro %}

{#- The var attribution_default_model, refused unless it names one of the models (a misspelt one would leave every
    deal 'unattributed'). -#}
{% macro cg_attribution_default_model() -%}
    {%- set default_model = var('attribution_default_model', 'position_based') -%}
    {%- if default_model not in cg_attribution_models() -%}
        {{ exceptions.raise_compiler_error("var attribution_default_model is '" ~ default_model
                                           ~ "': it must be one of " ~ cg_attribution_models() | join(', ')) }}
    {%- endif -%}
    {{ return(default_model) }}
{%- endmacro %}

{#- The marketing channel of paid media on an ad platform (when its campaign names none). -#}
{% macro cg_platform_channel(platform_expression) -%}
    case {{ platform_expression }}
        when 'google_ads' then 'paid_search'
        when 'microsoft_ads' then 'paid_search'
        when 'meta_ads' then 'paid_social'
        when 'linkedin_ads' then 'paid_social'
        else 'paid_other'
    end
{%- endmacro %}

{#- The channel of a CRM lead source (Salesforce LeadSource or HubSpot analytics source; seed channel_mapping). -#}
{% macro cg_lead_source_channel(lead_source_expression) -%}
    coalesce(
        {{ cg_channel('salesforce_lead_source', lead_source_expression) }},
        {{ cg_channel('hubspot_analytics_source', lead_source_expression) }},
        'unknown'
    )
{%- endmacro %}

{#- The time of this dbt invocation as a timestamp with time zone literal (the same in every model of a run). -#}
{% macro cg_run_started_at() -%}
    cast('{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S.%f") }}+00:00' as timestamp with time zone)
{%- endmacro %}

{#-
    The daily ad performance: ref('ad_performance_daily') once that model exists and the var
    ad_performance_daily_enabled is true; else the table the var ad_performance_daily_relation names
    ('schema.table' with the contract's columns: spend loaded outside dbt, or a test's hand-written rows);
    else an empty relation with the contract columns, so the revenue marts build (with no spend) before
    the ad-platform transform lands.
-#}
{% macro cg_ad_performance_daily() -%}
    {%- if var('ad_performance_daily_enabled', false) -%}
    {{ ref('ad_performance_daily') }}
    {%- elif var('ad_performance_daily_relation', none) -%}
    {{ var('ad_performance_daily_relation') }}
    {%- else -%}
    (
        select
            cast(null as date) as date_day,
            cast(null as date) as reporting_date_day,
            cast(null as {{ dbt.type_string() }}) as platform,
            cast(null as {{ dbt.type_string() }}) as ad_account_id,
            cast(null as {{ dbt.type_string() }}) as platform_campaign_id,
            cast(null as {{ dbt.type_string() }}) as ad_group_id,
            cast(null as {{ dbt.type_string() }}) as campaign_id,
            cast(null as {{ dbt.type_string() }}) as campaign_name,
            cast(null as bigint) as impressions,
            cast(null as bigint) as clicks,
            cast(null as numeric(18, 2)) as spend,
            cast(null as {{ dbt.type_string() }}) as currency_code,
            cast(null as numeric(18, 2)) as spend_reporting,
            cast(null as double precision) as platform_conversions,
            cast(null as numeric(18, 2)) as platform_conversion_value_reporting
        where 1 = 0
    )
    {%- endif -%}
{%- endmacro %}

{#-
    The touches attribution credits, with the ad platform of each touch (touchpoints.platform): one definition for
    the model attribution and for the copy of its input that its incremental runs compare against.
-#}
{% macro cg_attribution_touches() -%}
    select
        touches.touchpoint_id,
        touches.prospect_id,
        touches.account_id,
        touches.occurred_at,
        touches.touchpoint_type,
        touches.channel,
        touches.campaign_id,
        touches.platform
    from {{ ref('touchpoints') }} as touches
{%- endmacro %}

{#-
    The results of the default attribution model (var attribution_default_model), every deal in full: one row per
    credited touch of a deal (its channel, platform and campaign, the credit and the credited pipeline, won revenue
    and new customer), and one row per deal without a credited touch, counted in full (credit 1) under channel
    'unattributed'. The one definition of attributed opportunities, pipeline, revenue and new customers:
    sem_attributed_results (the semantic layer, so shared_metrics_daily) and channel_performance_monthly both read
    it, so per channel they agree and over all channels they add up to every deal.
-#}
{% macro cg_default_attribution_results() -%}
    {%- set default_model = cg_attribution_default_model() -%}
    select
        opportunity_id,
        touchpoint_id,
        channel,
        platform,
        campaign_id,
        credit,
        attributed_pipeline_reporting,
        attributed_revenue_reporting,
        cast(attributed_new_customers as double precision) as attributed_new_customers,
        opportunity_created_date,
        opportunity_closed_date,
        is_won
    from {{ ref('attribution') }}
    where attribution_model = '{{ default_model }}'

    union all

    select
        deals.opportunity_id,
        cast(null as {{ dbt.type_string() }}),
        'unattributed',
        cast(null as {{ dbt.type_string() }}),
        cast(null as {{ dbt.type_string() }}),
        cast(1 as double precision),
        {{ cg_money_share('deals.amount_reporting') }},
        {{ cg_money_share('deals.won_amount_reporting') }},
        cast(case when deals.is_new_customer then 1 else 0 end as double precision),
        deals.created_date,
        deals.closed_date,
        deals.is_won
    from {{ ref('sem_opportunities') }} as deals
    where not exists (
        select 1 from {{ ref('attribution') }} as credits
        where credits.opportunity_id = deals.opportunity_id and credits.attribution_model = '{{ default_model }}'
    )
{%- endmacro %}
