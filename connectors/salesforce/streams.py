"""The Salesforce objects Common Ground syncs, declared as data.

Each object lists its fields with their types (string unless said otherwise); columns are the
field names in snake_case. Every object syncs through ``queryAll`` on ``SystemModstamp``, so
deleted and merged records arrive flagged ``is_deleted``. ``User`` has no ``IsDeleted``:
users are deactivated (``IsActive``), never deleted.
"""

from connectors.naming import snake_case
from connectors.schema import Field, Stream

_AUDIT = {"CreatedDate": "timestamp", "LastModifiedDate": "timestamp", "SystemModstamp": "timestamp"}


def salesforce_stream(object_name: str, fields: dict[str, str], deletable: bool = True,
                      audit: dict[str, str] = _AUDIT) -> Stream:
    """A stream over one Salesforce object, incremental on ``SystemModstamp``."""
    typed = {"Id": "string", **({"IsDeleted": "bool"} if deletable else {}), **fields, **audit}
    return Stream(
        name=snake_case(object_name),
        primary_key="id",
        cursor="SystemModstamp",
        cursor_ordered=True,  # queries sort on the cursor: ORDER BY SystemModstamp ASC (client.soql)
        # A transaction stamps its records when it starts and commits later: a record may appear after the cursor
        # passed its stamp. Five minutes are read again every run (as Airbyte's LOOKBACK_SECONDS); the merge on Id
        # keeps one row of each.
        lookback_seconds=300,
        fields=tuple(Field(snake_case(name), name, type_) for name, type_ in typed.items()),
        options={"object": object_name, **({"deleted_flag": "is_deleted"} if deletable else {})},
    )


USER = salesforce_stream("User", {
    "Username": "string", "Name": "string", "FirstName": "string", "LastName": "string", "Email": "string",
    "IsActive": "bool", "UserType": "string", "ProfileId": "string", "UserRoleId": "string", "ManagerId": "string",
    "LastLoginDate": "timestamp",
}, deletable=False)

ACCOUNT = salesforce_stream("Account", {
    "MasterRecordId": "string", "Name": "string", "Type": "string", "ParentId": "string",
    "BillingStreet": "string", "BillingCity": "string", "BillingState": "string", "BillingPostalCode": "string",
    "BillingCountry": "string", "Website": "string", "Industry": "string", "AnnualRevenue": "decimal",
    "NumberOfEmployees": "int", "CurrencyIsoCode": "string", "OwnerId": "string",
})

CONTACT = salesforce_stream("Contact", {
    "MasterRecordId": "string", "AccountId": "string", "FirstName": "string", "LastName": "string", "Name": "string",
    "Title": "string", "Email": "string", "Phone": "string", "LeadSource": "string", "MailingCity": "string",
    "MailingCountry": "string", "OwnerId": "string", "CurrencyIsoCode": "string", "HasOptedOutOfEmail": "bool",
})

LEAD = salesforce_stream("Lead", {
    "MasterRecordId": "string", "FirstName": "string", "LastName": "string", "Name": "string", "Title": "string",
    "Company": "string", "Email": "string", "Phone": "string", "Status": "string", "LeadSource": "string",
    "Industry": "string", "Country": "string", "NumberOfEmployees": "int", "IsConverted": "bool",
    "ConvertedDate": "date", "ConvertedAccountId": "string", "ConvertedContactId": "string",
    "ConvertedOpportunityId": "string", "OwnerId": "string", "CurrencyIsoCode": "string",
})

OPPORTUNITY = salesforce_stream("Opportunity", {
    "AccountId": "string", "Name": "string", "StageName": "string", "Amount": "decimal", "Probability": "decimal",
    "ExpectedRevenue": "decimal", "CloseDate": "date", "IsClosed": "bool", "IsWon": "bool",
    "ForecastCategoryName": "string", "Type": "string", "LeadSource": "string", "CampaignId": "string",
    "OwnerId": "string", "CurrencyIsoCode": "string",
})

OPPORTUNITY_HISTORY = salesforce_stream("OpportunityHistory", {
    "OpportunityId": "string", "StageName": "string", "Amount": "decimal", "ExpectedRevenue": "decimal",
    "CloseDate": "date", "Probability": "decimal", "ForecastCategory": "string", "PrevAmount": "decimal",
    "PrevCloseDate": "date", "CreatedById": "string",
}, audit={"CreatedDate": "timestamp", "SystemModstamp": "timestamp"})  # history rows are never modified

CAMPAIGN = salesforce_stream("Campaign", {
    "Name": "string", "ParentId": "string", "Type": "string", "Status": "string", "StartDate": "date",
    "EndDate": "date", "BudgetedCost": "decimal", "ActualCost": "decimal", "ExpectedRevenue": "decimal",
    "IsActive": "bool", "NumberOfLeads": "int", "NumberOfContacts": "int", "NumberOfResponses": "int",
    "NumberOfOpportunities": "int", "NumberOfWonOpportunities": "int", "AmountAllOpportunities": "decimal",
    "AmountWonOpportunities": "decimal", "CurrencyIsoCode": "string", "OwnerId": "string",
})

CAMPAIGN_MEMBER = salesforce_stream("CampaignMember", {
    "CampaignId": "string", "LeadId": "string", "ContactId": "string", "Status": "string", "HasResponded": "bool",
    "FirstRespondedDate": "date",
})

#: Every stream, in load order.
STREAMS: tuple[Stream, ...] = (
    USER, ACCOUNT, CONTACT, LEAD, OPPORTUNITY, OPPORTUNITY_HISTORY, CAMPAIGN, CAMPAIGN_MEMBER,
)
