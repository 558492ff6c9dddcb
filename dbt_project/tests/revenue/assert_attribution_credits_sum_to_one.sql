{#- Fails with every deal and attribution model whose credits do not sum to 1. -#}
select opportunity_id, attribution_model, sum(credit) as credit_total
from {{ ref('attribution') }}
group by opportunity_id, attribution_model
having abs(sum(credit) - 1) > 0.000001
