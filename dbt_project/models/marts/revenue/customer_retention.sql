{#-
    Logo retention per customer cohort: customers grouped by the month of their account's first won deal
    (reporting time zone), followed month by month up to the as-of month.

    Without billing data, a customer counts as retained in a month while a won deal covers it: every won
    deal (new business, renewal or expansion) covers its close month and the var customer_term_months
    (default 12) - 1 months after; an open renewal deal keeps the customer retained from its creation
    month while it is being negotiated, and once won, from the same month. So a customer churns when its
    term runs out with no renewal won or pending, and comes back if it wins a deal again. renewal_amount_reporting: the won renewal deals of the
    cohort closed in the period month, in the reporting currency.

    Deals are taken as they stood on the as-of date (int_reporting_dates): one created after it is left out,
    and one closed after it was still open, so a rebuild with an earlier as-of date shows retention as it
    stood then.
-#}
{%- set term_months = var('customer_term_months', 12) | int -%}

with as_of as (
    select as_of_date, {{ cg_month('as_of_date') }} as as_of_month from {{ ref('int_reporting_dates') }}
),

{#- the deals as they stood on the as-of date: a deal closed after it was still open -#}
deals_as_of as (
    select
        deals.account_id,
        deals.opportunity_type,
        deals.created_date,
        case when deals.closed_date <= as_of.as_of_date then deals.closed_date end as closed_date,
        deals.is_won,
        deals.is_new_customer,
        deals.won_amount_reporting
    from {{ ref('sem_opportunities') }} as deals
    cross join as_of
    where deals.account_id is not null and deals.created_date <= as_of.as_of_date
),

opportunities as (
    select
        account_id,
        opportunity_type,
        created_date,
        closed_date,
        closed_date is not null as is_closed,
        is_won and closed_date is not null as is_won,
        {#- an account whose first won deal closed after the as-of date was no customer yet -#}
        is_new_customer and closed_date is not null as is_new_customer,
        won_amount_reporting
    from deals_as_of
),

customers as (
    select account_id, {{ cg_month('closed_date') }} as cohort_month
    from opportunities
    where is_new_customer
),

months as (
    select date_day as period_month
    from {{ ref('metricflow_time_spine') }}
    where extract(day from date_day) = 1
),

cohort_periods as (
    select customers.account_id, customers.cohort_month, months.period_month
    from customers
    cross join as_of
    inner join months on months.period_month >= customers.cohort_month and months.period_month <= as_of.as_of_month
),

{#- the months each account is covered: by a won deal's term, or by a renewal still open -#}
coverage as (
    select
        account_id,
        {#- a renewal won late covers the months it was open too, as it did while open: winning it never churns -#}
        case
            when opportunity_type = 'renewal' and created_date < closed_date then {{ cg_month('created_date') }}
            else {{ cg_month('closed_date') }}
        end as covered_from,
        {{ cg_add_months(cg_month('closed_date'), term_months - 1) }} as covered_to
    from opportunities
    where is_won and closed_date is not null

    union all

    select
        opportunities.account_id,
        {{ cg_month('opportunities.created_date') }} as covered_from,
        as_of.as_of_month as covered_to
    from opportunities
    cross join as_of
    where opportunities.opportunity_type = 'renewal' and not opportunities.is_closed
),

retained as (
    select distinct cohort_periods.account_id, cohort_periods.period_month
    from cohort_periods
    inner join coverage
        on coverage.account_id = cohort_periods.account_id
        and cohort_periods.period_month between coverage.covered_from and coverage.covered_to
),

renewals as (
    select
        customers.cohort_month,
        {{ cg_month('opportunities.closed_date') }} as period_month,
        count(*) as renewals_won,
        sum(opportunities.won_amount_reporting) as renewal_amount_reporting
    from opportunities
    inner join customers on customers.account_id = opportunities.account_id
    where opportunities.opportunity_type = 'renewal' and opportunities.is_won
    group by 1, 2
),

counted as (
    select
        cohort_periods.cohort_month,
        cohort_periods.period_month,
        count(*) as customers_at_start,
        count(retained.account_id) as customers_retained
    from cohort_periods
    left join retained
        on retained.account_id = cohort_periods.account_id and retained.period_month = cohort_periods.period_month
    group by 1, 2
)

select
    counted.cohort_month,
    counted.period_month,
    {{ cg_months_between('counted.cohort_month', 'counted.period_month') }} as period_number,
    counted.customers_at_start,
    counted.customers_retained,
    counted.customers_at_start - counted.customers_retained as customers_churned,
    {{ cg_divide('counted.customers_retained', 'counted.customers_at_start') }} as logo_retention_rate,
    coalesce(renewals.renewals_won, 0) as renewals_won,
    {{ cg_money('coalesce(renewals.renewal_amount_reporting, 0)') }} as renewal_amount_reporting,
    '{{ var("reporting_currency", "USD") | upper }}' as reporting_currency
from counted
left join renewals
    on renewals.cohort_month = counted.cohort_month and renewals.period_month = counted.period_month
