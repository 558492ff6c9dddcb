"""The HubSpot objects Common Ground syncs, declared as data.

CRM objects keep HubSpot's property names as columns; every property arrives as a string and
is typed here. ``modified_property`` is the property incremental search filters on: contacts
use ``lastmodifieddate``, companies and deals ``hs_lastmodifieddate``. ``associations`` name the
object types whose ids are attached to each record (from the v4 associations API), the one labelled ``Primary``
first, then the others by number.
"""

from connectors.schema import Field, Stream

#: Why the marketing streams' keys are not reconciled (``keys_not_reconciled``, read by the loader): append-only and
#: huge, their API lists no keys cheaply, and listing every event or submission would cost more than the reads.
_APPEND_ONLY = "append-only events, too many to list every key of"


def _crm_stream(object_type: str, modified_property: str, properties: dict[str, str],
                associations: tuple[str, ...] = ()) -> Stream:
    fields = [Field("id", "id"), Field("archived", "archived", "bool"), Field("archived_at", "archivedAt", "timestamp"),
              Field("created_at", "createdAt", "timestamp"), Field("updated_at", "updatedAt", "timestamp")]
    fields += [Field(name, f"properties.{name}", type_) for name, type_ in properties.items()]
    fields += [Field(f"associated_{to}_ids", f"_associations.{to}", "json") for to in associations]
    return Stream(
        name=object_type,
        primary_key="id",
        cursor=f"properties.{modified_property}",
        lookback_seconds=300,  # the search index lags recent writes by a few minutes
        fields=tuple(fields),
        options={"kind": "crm_object", "object_type": object_type, "modified_property": modified_property,
                 "associations": associations, "deleted_flag": "archived"},
    )


COMPANIES = _crm_stream("companies", "hs_lastmodifieddate", {
    "name": "string", "domain": "string", "website": "string", "industry": "string", "numberofemployees": "int",
    "annualrevenue": "decimal", "city": "string", "country": "string", "hubspot_owner_id": "string",
    "lifecyclestage": "string", "salesforceaccountid": "string", "hs_merged_object_ids": "string",
    "createdate": "timestamp", "hs_lastmodifieddate": "timestamp",
})

_LIFECYCLE_STAGES = ("subscriber", "lead", "marketingqualifiedlead", "salesqualifiedlead", "opportunity", "customer",
                     "evangelist", "other")

CONTACTS = _crm_stream("contacts", "lastmodifieddate", {
    "email": "string", "firstname": "string", "lastname": "string", "jobtitle": "string", "company": "string",
    "country": "string", "associatedcompanyid": "string", "lifecyclestage": "string", "hs_lead_status": "string",
    "hubspot_owner_id": "string", "hs_analytics_source": "string", "hs_analytics_source_data_1": "string",
    "hs_analytics_source_data_2": "string", "hs_analytics_first_url": "string", "utm_source": "string",
    "utm_medium": "string", "utm_campaign": "string", "salesforcecontactid": "string", "salesforceleadid": "string",
    "hs_merged_object_ids": "string",
    **{f"hs_lifecyclestage_{stage}_date": "timestamp" for stage in _LIFECYCLE_STAGES},
    "createdate": "timestamp", "lastmodifieddate": "timestamp",
}, associations=("companies",))

DEALS = _crm_stream("deals", "hs_lastmodifieddate", {
    "dealname": "string", "amount": "decimal", "deal_currency_code": "string", "dealstage": "string",
    "pipeline": "string", "closedate": "timestamp", "dealtype": "string", "hubspot_owner_id": "string",
    "hs_is_closed": "bool", "hs_is_closed_won": "bool", "hs_deal_stage_probability": "decimal",
    "hs_analytics_source": "string", "hs_merged_object_ids": "string", "createdate": "timestamp",
    "hs_lastmodifieddate": "timestamp",
}, associations=("companies", "contacts"))

OWNERS = Stream(
    name="owners",
    primary_key="id",
    fields=(Field("id", "id"), Field("email", "email"), Field("first_name", "firstName"),
            Field("last_name", "lastName"), Field("user_id", "userId", "int"), Field("archived", "archived", "bool"),
            Field("created_at", "createdAt", "timestamp"), Field("updated_at", "updatedAt", "timestamp")),
    options={"kind": "owners"},
)

DEAL_PIPELINE_STAGES = Stream(
    name="deal_pipeline_stages",
    primary_key="stage_key",
    fields=(Field("stage_key", "stage_key"), Field("pipeline_id", "pipeline.id"),
            Field("pipeline_label", "pipeline.label"), Field("pipeline_display_order", "pipeline.displayOrder", "int"),
            Field("stage_id", "id"), Field("stage_label", "label"), Field("display_order", "displayOrder", "int"),
            Field("probability", "metadata.probability", "decimal"), Field("is_closed", "metadata.isClosed", "bool"),
            Field("archived", "archived", "bool")),
    options={"kind": "deal_pipeline_stages"},
)

EMAIL_EVENTS = Stream(
    name="email_events",
    primary_key="id",
    cursor="created",
    fields=(Field("id", "id"), Field("created", "created", "timestamp"), Field("type", "type"),
            Field("recipient", "recipient"), Field("email_campaign_id", "emailCampaignId", "int"),
            Field("portal_id", "portalId", "int"), Field("app_id", "appId", "int"), Field("app_name", "appName")),
    options={"kind": "email_events", "keys_not_reconciled": _APPEND_ONLY},
)

FORM_SUBMISSIONS = Stream(
    name="form_submissions",
    primary_key="conversion_id",
    cursor="submittedAt",
    fields=(Field("conversion_id", "conversionId"), Field("form_guid", "formGuid"),
            Field("submitted_at", "submittedAt", "timestamp"), Field("page_url", "pageUrl"),
            Field("values", "values", "json")),
    options={"kind": "form_submissions", "keys_not_reconciled": _APPEND_ONLY},
)

#: Every stream, in load order.
STREAMS: tuple[Stream, ...] = (OWNERS, DEAL_PIPELINE_STAGES, COMPANIES, CONTACTS, DEALS, EMAIL_EVENTS, FORM_SUBMISSIONS)
