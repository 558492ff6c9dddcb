{#-
    The funnel per monthly cohort (the month a person became a lead, reporting time zone) and original
    channel (unknown when neither CRM names one): how many of the cohort reached each stage so far, how
    many of those skipped a stage (inferred: no system recorded it, the next stage's time stands in),
    stage-to-stage conversion rates and the median days between stages (skipped stages left out).
    Counts come from prospect_funnel (the shared stage definitions), so they are monotone:
    leads >= mqls >= sqls >= opportunities >= customers. Only what had happened by the as-of date counts
    (int_reporting_dates): a stage reached later is not reached yet, so a rebuild with an earlier as-of
    date shows the funnel as it stood then.
-#}
{%- set stages = cg_funnel_stages() -%}

with people as (
    select * from {{ ref('prospect_funnel') }}
),

as_of as (
    select as_of_date from {{ ref('int_reporting_dates') }}
),

{#- each person as of the as-of date: a stage entered after it is not reached yet (stage times never decrease) -#}
people_as_of as (
    select
        people.cohort_month,
        people.channel,
        {%- for stage in stages %}
        case when people.{{ stage.name }}_date <= as_of.as_of_date then people.{{ stage.column }} end
            as {{ stage.column }},
        {%- endfor %}
        {%- for stage in stages[1:-1] %}
        people.is_{{ stage.name }}_skipped and people.{{ stage.name }}_date <= as_of.as_of_date
            as is_{{ stage.name }}_skipped,
        {%- endfor %}
        {%- for stage in stages[:-1] %}
        {%- set next_stage = stages[loop.index] %}
        case when people.{{ next_stage.name }}_date <= as_of.as_of_date
            then people.days_{{ stage.name }}_to_{{ next_stage.name }} end
            as days_{{ stage.name }}_to_{{ next_stage.name }}{% if not loop.last %},{% endif %}
        {%- endfor %}
    from people
    cross join as_of
    where people.lead_date <= as_of.as_of_date
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
    from people_as_of as people
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
