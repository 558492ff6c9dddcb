{{ config(materialized='table') }}
{#-
    One row per day and currency of the calendar, 2000-01-01 to 2030-12-31, with the rate to the reporting
    currency (var reporting_currency): each seed rate holds until the next one (days before the
    first rate take the first one), so weekly, monthly or daily seeds all work. Converting:
    amount_reporting = amount * rate_to_reporting of the amount's currency on the chosen day; a day outside
    the calendar has no row, so a model converting at arbitrary dates (a deal's close date) clamps them to
    the calendar's first and last day.
-#}
{%- set first_day = "cast('2000-01-01' as date)" %}
{%- set last_day = "cast('2030-12-31' as date)" %}
with seed_rates as (
    select cast(date as date) as rate_date, upper(currency_code) as currency_code, cast(rate_to_usd as double precision) as rate_to_usd
    from {{ ref('currency_rates_daily') }}
    where rate_to_usd > 0
),

validity as (
    select
        currency_code,
        rate_to_usd,
        case when row_number() over (partition by currency_code order by rate_date) = 1
            then least(rate_date, {{ first_day }}) else rate_date end as valid_from,
        coalesce(lead(rate_date) over (partition by currency_code order by rate_date), cast('2100-01-01' as date)) as valid_to
    from seed_rates
),

days as (
    {{ cg_date_series(first_day, last_day) }}
),

daily as (
    select days.date_day, validity.currency_code, validity.rate_to_usd
    from days
    inner join validity on days.date_day >= validity.valid_from and days.date_day < validity.valid_to
),

reporting as (
    select date_day, rate_to_usd as reporting_rate_to_usd
    from daily
    where currency_code = '{{ var("reporting_currency", "USD") | upper }}'
)

select
    daily.date_day,
    daily.currency_code,
    daily.rate_to_usd,
    '{{ var("reporting_currency", "USD") | upper }}' as reporting_currency,
    daily.rate_to_usd / reporting.reporting_rate_to_usd as rate_to_reporting
from daily
inner join reporting on reporting.date_day = daily.date_day
