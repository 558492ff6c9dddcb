{#-
    shared_metrics_daily is generated from the semantic layer's own definitions (graph.semantic_models and
    graph.metrics of this project), so the table BI tools read and what MetricFlow answers cannot drift
    apart. Supported, and checked here (a compile error otherwise):
    - measures: agg sum, count, count_distinct, average, min, max or sum_boolean of an `expr` (or the measure's
      name as the column), no measure filters; the measure's agg_time_dimension (or the semantic model's
      default) is a time dimension holding a date in the reporting time zone;
    - metrics: simple (one measure, no filter) or ratio (numerator / denominator simple metrics, no filters);
    - the channel a row counts under: the semantic model's entity named `channel` ('all' without one).
    The model calling it must declare every semantic model's model with a `-- depends_on: {{ ref(...) }}` line.
-#}

{#- The semantic models and metrics of this project, checked; returns {'measures': {...}, 'metrics': [...]}. -#}
{% macro cg_semantic_definitions() -%}
    {%- set measures = {} -%}
    {%- for semantic_model in graph.semantic_models.values() | sort(attribute='name')
        if semantic_model.package_name == project_name -%}
        {%- set dimensions = {} -%}
        {%- for dimension in semantic_model.dimensions -%}
            {%- do dimensions.update({dimension.name: dimension}) -%}
        {%- endfor -%}
        {%- set channel_expr = namespace(value="'all'") -%}
        {%- for entity in semantic_model.entities if entity.name == 'channel' -%}
            {%- set channel_expr.value = entity.expr or entity.name -%}
        {%- endfor -%}
        {%- for measure in semantic_model.measures -%}
            {%- set time_name = measure.agg_time_dimension or semantic_model.defaults.agg_time_dimension -%}
            {%- set time_dimension = dimensions.get(time_name) -%}
            {%- if time_dimension is none or time_dimension.type != 'time' -%}
                {{ exceptions.raise_compiler_error('measure ' ~ measure.name ~ ': no time dimension ' ~ time_name) }}
            {%- endif -%}
            {%- do measures.update({measure.name: {
                'relation': ref(semantic_model.refs[0].name),
                'agg': measure.agg,
                'expr': measure.expr or measure.name,
                'time': time_dimension.expr or time_dimension.name,
                'grain': time_dimension.type_params.time_granularity,
                'channel': channel_expr.value,
                'semantic_model': semantic_model.name,
            }}) -%}
        {%- endfor -%}
    {%- endfor -%}
    {%- set metrics = [] -%}
    {%- for metric in graph.metrics.values() | sort(attribute='name') if metric.package_name == project_name -%}
        {%- do metrics.append(metric) -%}
    {%- endfor -%}
    {{ return({'measures': measures, 'metrics': metrics}) }}
{%- endmacro %}

{#- The aggregate of a measure (its agg over its expr). -#}
{% macro cg_measure_aggregate(measure) -%}
    {%- set aggregates = {
        'sum': 'sum(' ~ measure.expr ~ ')',
        'count': 'count(' ~ measure.expr ~ ')',
        'count_distinct': 'count(distinct ' ~ measure.expr ~ ')',
        'average': 'avg(' ~ measure.expr ~ ')',
        'min': 'min(' ~ measure.expr ~ ')',
        'max': 'max(' ~ measure.expr ~ ')',
        'sum_boolean': 'sum(case when ' ~ measure.expr ~ ' then 1 else 0 end)',
    } -%}
    {%- if measure.agg not in aggregates -%}
        {{ exceptions.raise_compiler_error('shared metrics: unsupported agg ' ~ measure.agg) }}
    {%- endif -%}
    {{ aggregates[measure.agg] }}
{%- endmacro %}

{#- The measure of a simple metric (a metric input without filter), checked. -#}
{% macro cg_simple_metric_measure(definitions, metric_name) -%}
    {%- set found = namespace(metric=none) -%}
    {%- for metric in definitions.metrics if metric.name == metric_name -%}
        {%- set found.metric = metric -%}
    {%- endfor -%}
    {%- set metric = found.metric -%}
    {%- if metric is none or metric.type != 'simple' or metric.type_params.measure.filter or metric.filter -%}
        {{ exceptions.raise_compiler_error('shared metrics: ' ~ metric_name ~ ' must be a simple metric without filter') }}
    {%- endif -%}
    {%- set measure = definitions.measures.get(metric.type_params.measure.name) -%}
    {%- if measure is none -%}
        {{ exceptions.raise_compiler_error('shared metrics: no measure ' ~ metric.type_params.measure.name) }}
    {%- endif -%}
    {{ return(measure) }}
{%- endmacro %}

{#- select date_day, channel, value: a simple metric per day (or month) and channel where it is not null. -#}
{% macro cg_simple_metric_sql(measure) -%}
    select
        cast({{ measure.time }} as date) as date_day,
        cast({{ measure.channel }} as {{ dbt.type_string() }}) as channel,
        cast({{ cg_measure_aggregate(measure) }} as double precision) as value
    from {{ measure.relation }}
    where {{ measure.time }} is not null
    group by 1, 2
    having {{ cg_measure_aggregate(measure) }} is not null
{%- endmacro %}

{#-
    The union of every metric of the semantic layer per day and channel (shared_metrics_daily's rows).
    A ratio has a row where its numerator or its denominator is not 0, the side without data counting 0, and a
    null value where the denominator is 0: summing numerator and denominator over a period and dividing must see
    every day (spend on a day without MQLs still counts in the month's cost per MQL).
-#}
{% macro cg_shared_metrics_sql() -%}
    {%- if not execute -%}
        {{ return('select 1 as placeholder') }}
    {%- endif -%}
    {%- set definitions = cg_semantic_definitions() -%}
    {%- for metric in definitions.metrics %}
    {%- set meta = metric.config.meta or metric.meta or {} %}
    {%- if metric.type == 'simple' %}
    {%- set measure = cg_simple_metric_measure(definitions, metric.name) %}
    select
        simple_metric.date_day,
        '{{ metric.name }}' as metric_name,
        simple_metric.channel,
        simple_metric.value,
        cast(null as double precision) as numerator,
        cast(null as double precision) as denominator,
        'simple' as metric_type,
        cast(null as {{ dbt.type_string() }}) as numerator_metric,
        cast(null as {{ dbt.type_string() }}) as denominator_metric,
        '{{ measure.grain }}' as grain,
        '{{ meta.get("unit", "") }}' as unit,
        '{{ measure.semantic_model }}' as semantic_model
    from ({{ cg_simple_metric_sql(measure) }}) as simple_metric
    {%- elif metric.type == 'ratio' %}
    {%- if metric.type_params.numerator.filter or metric.type_params.denominator.filter or metric.filter %}
        {{ exceptions.raise_compiler_error('shared metrics: ratio ' ~ metric.name ~ ' has a filter') }}
    {%- endif %}
    {%- set numerator = cg_simple_metric_measure(definitions, metric.type_params.numerator.name) %}
    {%- set denominator = cg_simple_metric_measure(definitions, metric.type_params.denominator.name) %}
    select
        coalesce(numerator.date_day, denominator.date_day) as date_day,
        '{{ metric.name }}' as metric_name,
        coalesce(numerator.channel, denominator.channel) as channel,
        {{ cg_divide('coalesce(numerator.value, 0)', 'coalesce(denominator.value, 0)') }} as value,
        coalesce(numerator.value, 0) as numerator,
        coalesce(denominator.value, 0) as denominator,
        'ratio' as metric_type,
        '{{ metric.type_params.numerator.name }}' as numerator_metric,
        '{{ metric.type_params.denominator.name }}' as denominator_metric,
        '{{ numerator.grain }}' as grain,
        '{{ meta.get("unit", "") }}' as unit,
        cast(null as {{ dbt.type_string() }}) as semantic_model
    from ({{ cg_simple_metric_sql(numerator) }}) as numerator
    full outer join ({{ cg_simple_metric_sql(denominator) }}) as denominator
        on denominator.date_day = numerator.date_day and denominator.channel = numerator.channel
    where coalesce(numerator.value, 0) <> 0 or coalesce(denominator.value, 0) <> 0
    {%- else %}
        {{ exceptions.raise_compiler_error('shared metrics: ' ~ metric.name ~ ' is ' ~ metric.type ~ ', not simple or ratio') }}
    {%- endif %}
    {% if not loop.last %}union all{% endif %}
    {%- endfor %}
{%- endmacro %}
