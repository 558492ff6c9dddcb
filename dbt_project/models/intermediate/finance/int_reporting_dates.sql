{#-
    One row: the as-of date of this build, the "today" of pipeline_daily and of durations that are
    still running. Var as_of_date when set, else the reporting-time-zone date of the latest raw CRM
    load, so rebuilding the same raw data gives the same marts.
-#}
with loads as (
    select max(loaded_at) as loaded_at from {{ ref('stg_salesforce__opportunities') }}
    union all
    select max(loaded_at) from {{ ref('stg_hubspot__deals') }}
    union all
    select max(loaded_at) from {{ ref('stg_salesforce__accounts') }}
)

select
    {% if var('as_of_date', none) %}
    max(cast('{{ var("as_of_date") }}' as date)) as as_of_date
    {% else %}
    coalesce(max({{ cg_reporting_date('loaded_at') }}), cast('2000-01-01' as date)) as as_of_date
    {% endif %}
from loads
