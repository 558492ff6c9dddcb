{#-
    One row per real-world company. For now every Salesforce account is its own company;
    identity resolution across Salesforce and HubSpot arrives with the intermediate layer.
-#}
with salesforce_accounts as (
    select * from {{ ref('stg_salesforce__accounts') }}
),

final as (
    select
        {{ surrogate_key(["'salesforce'", 'salesforce_account_id']) }} as account_id,
        account_name,
        website_domain as primary_domain,
        industry,
        employee_count,
        annual_revenue,
        annual_revenue_currency,
        country,
        cast(null as {{ dbt.type_string() }}) as owner_name,
        salesforce_account_id,
        cast(null as {{ dbt.type_string() }}) as hubspot_company_id,
        case when account_type ilike '%customer%' then 'customer' else 'prospect' end as lifecycle_stage,
        coalesce(account_type ilike '%customer%', false) as is_customer,
        cast(null as {{ dbt.type_timestamp() }}) as first_closed_won_at,
        created_at,
        is_deleted,
        'salesforce_only' as match_rule,
        1.0 as match_confidence
    from salesforce_accounts
)

select * from final
