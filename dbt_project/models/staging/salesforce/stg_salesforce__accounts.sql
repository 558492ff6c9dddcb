with source as (
    select * from {{ source('salesforce', 'account') }}
),

renamed as (
    select
        id as salesforce_account_id,
        name as account_name,
        type as account_type,
        industry,
        annual_revenue,
        currency_iso_code as annual_revenue_currency,
        number_of_employees as employee_count,
        website,
        {{ normalize_domain('website') }} as website_domain,
        billing_city,
        billing_country as country,
        owner_id as salesforce_owner_id,
        parent_id as salesforce_parent_account_id,
        master_record_id as salesforce_master_account_id,
        coalesce(is_deleted, false) as is_deleted,
        created_date as created_at,
        system_modstamp as modified_at,
        _loaded_at as loaded_at
    from source
)

select * from renamed
