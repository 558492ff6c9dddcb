{#- One row per HubSpot form submission; e-mail and names read from the submitted values, UTMs from the page URL. -#}
{%- set relation = source('hubspot', 'form_submissions') -%}
{%- set columns = cg_source_columns(relation) -%}
{%- set page_url = cg_column(columns, 'page_url', 'varchar') -%}
{%- set submitted = cg_column(columns, 'values', 'varchar') -%}

with source as (
    select * from {{ cg_source_relation(relation, columns) }}
),

renamed as (
    select
        {{ cg_column(columns, 'conversion_id', 'varchar') }} as hubspot_form_submission_id,
        {{ cg_column(columns, 'form_guid', 'varchar') }} as hubspot_form_id,
        {{ cg_column(columns, 'submitted_at', 'timestamp with time zone') }} as submitted_at,
        {{ page_url }} as page_url,
        {{ cg_json_name_value(submitted, 'email') }} as email_raw,
        {{ normalize_email(cg_json_name_value(submitted, 'email')) }} as email,
        {{ cg_json_name_value(submitted, 'firstname') }} as first_name,
        {{ cg_json_name_value(submitted, 'lastname') }} as last_name,
        {{ cg_json_name_value(submitted, 'company') }} as company_name,
        {{ cg_url_parameter(page_url, 'utm_source') }} as utm_source,
        {{ cg_url_parameter(page_url, 'utm_medium') }} as utm_medium,
        {{ cg_url_parameter(page_url, 'utm_campaign') }} as utm_campaign,
        {{ cg_url_parameter(page_url, 'utm_content') }} as utm_content,
        {{ cg_url_parameter(page_url, 'utm_term') }} as utm_term,
        {{ cg_column(columns, '_loaded_at', 'timestamp with time zone') }} as loaded_at
    from source
)

select * from renamed
