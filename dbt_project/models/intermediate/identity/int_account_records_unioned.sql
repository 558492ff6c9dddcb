{#-
    Every company record of every CRM (Salesforce accounts, HubSpot companies), deleted and merged
    ones included, in one shape with its matching keys:
    - domain_key: registrable domain of the website / domain (never a personal e-mail domain, nor a platform's
      such as linkedin.com, whose pages are not the company's own site);
    - name_key: normalized company name (normalize_company_name);
    - country_code: ISO code of the free-text country;
    - merged_into_record_key: the record a source-side merge folded this one into;
    - synced_record_key: the Salesforce account a HubSpot company says it is synced with.
    node_id is an integer handle for the connected-components passes only (not stable).
-#}
with salesforce_accounts as (
    select * from {{ ref('stg_salesforce__accounts') }}
),

hubspot_companies as (
    select * from {{ ref('stg_hubspot__companies') }}
),

salesforce_users as (
    select * from {{ ref('stg_salesforce__users') }}
),

hubspot_owners as (
    select * from {{ ref('stg_hubspot__owners') }}
),

unioned as materialized (
    select
        'salesforce' as source_system,
        'salesforce' as source_family,
        accounts.salesforce_account_id as source_record_id,
        'salesforce:' || accounts.salesforce_account_id as record_key,
        accounts.account_name,
        accounts.website_domain,
        accounts.country as country_raw,
        accounts.industry,
        accounts.employee_count,
        accounts.annual_revenue,
        accounts.annual_revenue_currency,
        users.user_name as owner_name,
        users.email as owner_email,
        case when lower(accounts.account_type) like 'customer%' then 'customer' end as lifecycle_stage,
        accounts.account_type,
        accounts.salesforce_account_id,
        cast(null as varchar) as hubspot_company_id,
        accounts.salesforce_parent_account_id,
        case when accounts.salesforce_master_account_id is not null
            then 'salesforce:' || accounts.salesforce_master_account_id end as merged_into_record_key,
        cast(null as varchar) as synced_record_key,
        accounts.is_deleted,
        accounts.is_merged,
        accounts.created_at,
        accounts.modified_at
    from salesforce_accounts as accounts
    left join salesforce_users as users on users.salesforce_user_id = accounts.salesforce_owner_id

    union all

    select
        'hubspot' as source_system,
        'hubspot' as source_family,
        companies.hubspot_company_id as source_record_id,
        'hubspot:' || companies.hubspot_company_id as record_key,
        companies.company_name as account_name,
        companies.website_domain,
        companies.country as country_raw,
        companies.industry,
        companies.employee_count,
        companies.annual_revenue,
        companies.annual_revenue_currency,
        owners.owner_name,
        owners.email as owner_email,
        companies.lifecycle_stage,
        cast(null as varchar) as account_type,
        companies.salesforce_account_id,
        companies.hubspot_company_id,
        cast(null as varchar) as salesforce_parent_account_id,
        case when companies.merged_into_hubspot_company_id is not null
            then 'hubspot:' || companies.merged_into_hubspot_company_id end as merged_into_record_key,
        case when companies.salesforce_account_id is not null
            then 'salesforce:' || companies.salesforce_account_id end as synced_record_key,
        companies.is_deleted,
        companies.is_merged_away as is_merged,
        companies.created_at,
        companies.modified_at
    from hubspot_companies as companies
    left join hubspot_owners as owners on owners.hubspot_owner_id = companies.hubspot_owner_id
)

select
    unioned.*,
    case when not {{ is_personal_email_domain('unioned.website_domain') }}
        and not {{ is_platform_domain('unioned.website_domain') }} then unioned.website_domain end as domain_key,
    {{ normalize_company_name('unioned.account_name') }} as name_key,
    {{ cg_country_code('unioned.country_raw') }} as country_code,
    row_number() over (order by unioned.record_key) as node_id
from unioned
