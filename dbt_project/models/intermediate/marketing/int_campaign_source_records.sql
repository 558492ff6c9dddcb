{#-
    Every source campaign with the unified campaign it belongs to (campaign_key): campaigns that
    carry the same UTM key (lower-case) are one campaign, the others stay one campaign each.

    Seam for the ad platforms: union their campaigns here in the same columns (source_system =
    google_ads / meta_ads / linkedin_ads, source_campaign_id, utm_campaign parsed from the tracking
    template / URL tags, platform = the ad platform, channel from utm_medium via the seed
    channel_mapping) and the campaigns mart unifies them with the CRM campaigns on the UTM key.
-#}
with crm_campaigns as (
    select * from {{ ref('int_crm_campaigns') }}
),

unioned as (
    select * from crm_campaigns
    {#- union all select * from {{ ref('int_ad_campaigns') }}   -- ad-platform campaigns go here -#}
)

select
    unioned.*,
    case when utm_campaign is not null then 'utm:' || lower(utm_campaign)
        else source_system || ':' || source_campaign_id end as campaign_key,
    {{ surrogate_key(["'campaign'", "case when utm_campaign is not null then 'utm:' || lower(utm_campaign)"
        ~ " else source_system || ':' || source_campaign_id end"]) }} as campaign_id
from unioned
