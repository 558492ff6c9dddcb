"""The Salesforce objects Common Ground syncs, declared as data."""

from connectors.schema import Field, Stream


def _fields(*specs: tuple[str, str, str]) -> tuple[Field, ...]:
    return tuple(Field(column, source, type_) for column, source, type_ in specs)


ACCOUNT = Stream(
    name="account",
    primary_key="id",
    cursor="SystemModstamp",
    lookback_seconds=0,
    options={"object": "Account"},
    fields=_fields(
        ("id", "Id", "string"),
        ("name", "Name", "string"),
        ("type", "Type", "string"),
        ("industry", "Industry", "string"),
        ("annual_revenue", "AnnualRevenue", "decimal"),
        ("currency_iso_code", "CurrencyIsoCode", "string"),
        ("number_of_employees", "NumberOfEmployees", "int"),
        ("website", "Website", "string"),
        ("billing_city", "BillingCity", "string"),
        ("billing_country", "BillingCountry", "string"),
        ("owner_id", "OwnerId", "string"),
        ("parent_id", "ParentId", "string"),
        ("master_record_id", "MasterRecordId", "string"),
        ("is_deleted", "IsDeleted", "bool"),
        ("created_date", "CreatedDate", "timestamp"),
        ("last_modified_date", "LastModifiedDate", "timestamp"),
        ("system_modstamp", "SystemModstamp", "timestamp"),
    ),
)

#: Every stream, in load order.
STREAMS: tuple[Stream, ...] = (ACCOUNT,)
