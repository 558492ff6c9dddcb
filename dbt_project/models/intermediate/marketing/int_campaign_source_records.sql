{#-
    Every source campaign with the unified campaign it belongs to (campaign_key): campaigns that
    carry the same UTM key (lower-case) are one campaign, the others stay one campaign each.
    Sources: the CRM campaigns (int_crm_campaigns: Salesforce campaigns, HubSpot marketing e-mails) and
    the ad-platform campaigns (int_ad_campaigns: Google Ads, Meta, LinkedIn; UTM key read from their
    names), so a CRM campaign and the platform campaigns running it share one campaign_id, and a
    campaign that runs only on an ad platform is a campaign of its own.
    A Salesforce campaign without a UTM key that stores an ad platform's campaign id in its name (a number of
    six digits or more, e.g. "Google Ads 21085985229") joins that platform campaign's unified campaign.
    platform: the ad platform running the source campaign: its own for an ad-platform campaign, the platform of
    the campaign a CRM campaign names by id (when the ids it names are all on one platform), else null. A
    touch of such a CRM campaign counts under that platform even when its unified campaign runs on several.
    A table: marts and tests read it several times a night.
-#}
{{ config(materialized='table') }}

with crm_campaigns as (
    select * from {{ ref('int_crm_campaigns') }}
),

ad_campaigns as (
    select * from {{ ref('int_ad_campaigns') }}
),

unioned as (
    select * from crm_campaigns
    union all
    select * from ad_campaigns
),

own_keys as (
    select
        unioned.*,
        case when utm_campaign is not null then 'utm:' || lower(utm_campaign)
            else source_system || ':' || source_campaign_id end as own_key
    from unioned
),

{#- The whole numbers of six digits or more in the names of Salesforce campaigns without a UTM key. Not in the
    names of HubSpot marketing e-mails: int_crm_campaigns makes those up from the e-mail's own id, which may equal
    an ad campaign's id by chance. -#}
crm_name_numbers as (
    select source_system, source_campaign_id, name_number
    from (
        select
            source_system,
            source_campaign_id,
            {{ cg_split_to_rows("trim(regexp_replace(campaign_name, '[^0-9]+', ' ', 'g'))", ' ') }} as name_number
        from crm_campaigns
        where utm_campaign is null and source_system = 'salesforce'
    ) as numbers
    where length(name_number) >= 6
),

{#- CRM campaigns whose name holds an ad campaign's (numeric) id. An equality join on the numbers: comparing
    every CRM name with every ad campaign id grew with the product of the two (seconds at scale M). -#}
id_matches as (
    select
        crm.source_system,
        crm.source_campaign_id,
        min(case when ads.utm_campaign is not null then 'utm:' || lower(ads.utm_campaign)
            else ads.source_system || ':' || ads.source_campaign_id end) as matched_key,
        {{ cg_sole_platform('ads.source_system') }} as matched_platform
    from crm_name_numbers as crm
    inner join ad_campaigns as ads on ads.source_campaign_id = crm.name_number
    group by crm.source_system, crm.source_campaign_id
),

keyed as (
    select
        own_keys.*,
        coalesce(id_matches.matched_key, own_keys.own_key) as campaign_key,
        coalesce(own_keys.platform, id_matches.matched_platform) as running_platform
    from own_keys
    left join id_matches
        on id_matches.source_system = own_keys.source_system
        and id_matches.source_campaign_id = own_keys.source_campaign_id
)

select
    {%- for column in ['source_system', 'source_campaign_id', 'campaign_name', 'utm_campaign', 'channel', 'platform',
                       'campaign_type', 'campaign_status', 'start_date', 'end_date', 'budgeted_cost', 'actual_cost',
                       'currency_code', 'is_deleted', 'created_at'] %}
    {{ 'running_platform as platform' if column == 'platform' else column }},
    {%- endfor %}
    campaign_key,
    {{ surrogate_key(["'campaign'", "campaign_key"]) }} as campaign_id
from keyed
