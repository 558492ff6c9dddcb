{#-
    The funnel per monthly cohort (the month a person became a lead, reporting time zone) and original
    channel (unknown when neither CRM names one): how many of the cohort reached each stage so far, how
    many of those skipped a stage (inferred: no system recorded it, the next stage's time stands in),
    stage-to-stage conversion rates and the median days between stages (skipped stages left out).
    Counts come from prospect_funnel (the shared stage definitions), so they are monotone:
    leads >= mqls >= sqls >= opportunities >= customers.
-#}
{%- set stages = cg_funnel_stages() -%}

with people as (
    select * from {{ ref('prospect_funnel') }}
),

as_of as (
    select as_of_date from {{ ref('int_reporting_dates') }}
),

aggregated as (
    select
        people.cohort_month,
        people.channel as original_channel,
        {%- for stage in stages %}
        count(people.{{ stage.column }}) as {{ stage.plural }},
        {%- endfor %}
        {%- for stage in stages[1:-1] %}
        sum(case when people.is_{{ stage.name }}_skipped then 1 else 0 end) as {{ stage.plural }}_skipped,
        {%- endfor %}
        {%- for stage in stages %}
        min(people.{{ stage.column }}) as first_{{ stage.name }}_at,
        {%- endfor %}
        {%- for stage in stages[:-1] %}
        {%- set next_stage = stages[loop.index] %}
        {{ cg_median('people.days_' ~ stage.name ~ '_to_' ~ next_stage.name) }}
            as median_days_{{ stage.name }}_to_{{ next_stage.name }}{% if not loop.last %},{% endif %}
        {%- endfor %}
    from people
    cross join as_of
    where people.cohort_month <= as_of.as_of_date
    group by people.cohort_month, people.channel
)

select
    cohort_month,
    original_channel,
    {%- for stage in stages %}
    {{ stage.plural }},
    {%- endfor %}
    {%- for stage in stages[1:-1] %}
    {{ stage.plural }}_skipped,
    {%- endfor %}
    {%- for stage in stages[:-1] %}
    {%- set next_stage = stages[loop.index] %}
    {{ cg_divide(next_stage.plural, stage.plural) }} as {{ stage.name }}_to_{{ next_stage.name }}_rate,
    {%- endfor %}
    {{ cg_divide('customers', 'leads') }} as lead_to_customer_rate,
    {%- for stage in stages %}
    first_{{ stage.name }}_at,
    {%- endfor %}
    {%- for stage in stages[:-1] %}
    {%- set next_stage = stages[loop.index] %}
    median_days_{{ stage.name }}_to_{{ next_stage.name }}{% if not loop.last %},{% endif %}
    {%- endfor %}
from aggregated
