{#- One row per HubSpot marketing e-mail event (SENT, DELIVERED, OPEN, CLICK, BOUNCE, ...). -#}
{%- set relation = source('hubspot', 'email_events') -%}
{%- set columns = cg_source_columns(relation) -%}

with source as (
    select * from {{ cg_source_relation(relation, columns) }}
),

renamed as (
    select
        {{ cg_column(columns, 'id', 'varchar') }} as hubspot_email_event_id,
        upper({{ cg_column(columns, 'type', 'varchar') }}) as event_type,
        {{ cg_column(columns, 'created', 'timestamp with time zone') }} as occurred_at,
        {{ cg_column(columns, 'recipient', 'varchar') }} as recipient_raw,
        {{ normalize_email(cg_column(columns, 'recipient', 'varchar')) }} as recipient_email,
        cast({{ cg_column(columns, 'email_campaign_id', 'bigint') }} as varchar) as hubspot_email_campaign_id,
        cast({{ cg_column(columns, 'portal_id', 'bigint') }} as varchar) as hubspot_portal_id,
        {{ cg_column(columns, 'app_name', 'varchar') }} as app_name,
        {{ cg_column(columns, '_loaded_at', 'timestamp with time zone') }} as loaded_at
    from source
)

select * from renamed
