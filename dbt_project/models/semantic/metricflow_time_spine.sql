{{ config(materialized='table', schema='semantic') }}
{#- The time spine of the semantic layer: one row per day, 2000-01-01 to 2030-12-31 (the calendar of the currency rates). -#}
select date_day
from ({{ cg_date_series("cast('2000-01-01' as date)", "cast('2030-12-31' as date)") }}) as days
