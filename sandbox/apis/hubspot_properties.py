"""Property definitions of the emulated HubSpot portal, as ``GET /crm/v3/properties/{objectType}`` lists them.

The portal's properties are the ones its records carry: the standard properties the generator
writes, described with HubSpot's own types (``string``, ``number``, ``datetime``, ``date``,
``bool``, ``enumeration``), plus any property found in the data, typed from its values. A
property added through the sandbox's records API therefore appears here on the next request.
Every object also has the properties a list returns by default, even when no record sets them.

Where the reference is silent the emulator chooses (unverified against the real API): labels are
the name in title case, ``groupName`` is ``<object>information``, and an enumeration's options are
the distinct values of the first records that set it.
"""

from __future__ import annotations

import re
from typing import Any

from sandbox.apis.hubspot_search import DEFAULT_PROPERTIES, properties_of

#: (HubSpot type, field type) of the standard properties the generator writes.
_STRING = ("string", "text")
_NUMBER = ("number", "number")
_DATETIME = ("datetime", "date")
_BOOL = ("bool", "booleancheckbox")
_SELECT = ("enumeration", "select")
_RADIO = ("enumeration", "radio")
_CHECKBOXES = ("enumeration", "checkbox")
STANDARD_TYPES: dict[str, tuple[str, str]] = {
    "hs_object_id": _NUMBER, "createdate": _DATETIME, "lastmodifieddate": _DATETIME,
    "hs_lastmodifieddate": _DATETIME, "closedate": _DATETIME, "amount": _NUMBER, "annualrevenue": _NUMBER,
    "numberofemployees": _NUMBER, "hubspotscore": _NUMBER, "hs_deal_stage_probability": _NUMBER,
    "associatedcompanyid": _NUMBER, "hs_is_closed": _BOOL, "hs_is_closed_won": _BOOL,
    "lifecyclestage": _RADIO, "hs_lead_status": _RADIO, "hubspot_owner_id": _SELECT, "industry": _SELECT,
    "dealstage": _RADIO, "pipeline": _SELECT, "dealtype": _RADIO, "deal_currency_code": _SELECT,
    "hs_analytics_source": _SELECT, "hs_merged_object_ids": _CHECKBOXES,
    **{f"hs_lifecyclestage_{stage}_date": _DATETIME for stage in (
        "subscriber", "lead", "marketingqualifiedlead", "salesqualifiedlead", "opportunity", "customer",
        "evangelist", "other")},
}
#: Deals' calculated "date entered <stage>" properties, one per stage id (``hs_v2_date_entered_closedwon``).
DATE_ENTERED_PREFIX = "hs_v2_date_entered_"
#: Number properties HubSpot shows with the portal's currency symbol.
MONEY = {"amount", "annualrevenue"}
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_DATETIME_TEXT = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?$")
_NUMBER_TEXT = re.compile(r"^-?\d+(?:\.\d+)?$")
_SAMPLE = 50  # values read to type a property the emulator does not know
_OPTIONS = 100  # enumeration options listed at most
_CREATED = "2019-08-06T02:41:52.006Z"
_GROUPS = {"contacts": "contactinformation", "companies": "companyinformation", "deals": "dealinformation"}


def property_definitions(object_type: str, records: list[dict]) -> list[dict]:
    """Every property of `object_type` the records carry (and the default ones), defined as the API lists them."""
    samples: dict[str, list[Any]] = {name: [] for name in DEFAULT_PROPERTIES[object_type]}
    for record in records:
        for name, value in properties_of(record).items():
            values = samples.setdefault(name, [])
            if value is not None and value != "" and len(values) < _SAMPLE:
                values.append(value)
    ordered = sorted(samples.items())
    return [_definition(object_type, name, values, order) for order, (name, values) in enumerate(ordered)]


def _definition(object_type: str, name: str, values: list[Any], order: int) -> dict:
    calculated = name.startswith(DATE_ENTERED_PREFIX)
    kind, field_type = STANDARD_TYPES.get(name) or (_DATETIME if calculated else _inferred(values))
    definition = {
        "name": name, "label": name.replace("_", " ").title(), "type": kind, "fieldType": field_type,
        "description": "", "groupName": _GROUPS[object_type],
        "options": _options(values) if kind == "enumeration" else [], "displayOrder": order,
        "calculated": calculated, "externalOptions": False, "hasUniqueValue": name == "hs_object_id", "hidden": False,
        "hubspotDefined": name in STANDARD_TYPES or name in DEFAULT_PROPERTIES[object_type] or calculated,
        "modificationMetadata": {"archivable": not calculated,
                                 "readOnlyDefinition": name in STANDARD_TYPES or calculated,
                                 "readOnlyValue": name in {"hs_object_id", "createdate"} or calculated},
        "formField": kind != "datetime", "dataSensitivity": "non_sensitive",
        "createdAt": _CREATED, "updatedAt": _CREATED, "archived": False,
    }
    if kind == "number":
        definition["showCurrencySymbol"] = name in MONEY
        definition["numberDisplayHint"] = "currency" if name in MONEY else "unformatted"
    return definition


def _inferred(values: list[Any]) -> tuple[str, str]:
    """The type a property's values suggest: bool, number, date, datetime, else a single-line string."""
    if not values:
        return _STRING
    if all(isinstance(v, bool) or (isinstance(v, str) and v.lower() in {"true", "false"}) for v in values):
        return _BOOL
    if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
        return _NUMBER
    if all(isinstance(v, str) for v in values):
        if all(_NUMBER_TEXT.match(v) for v in values):
            return _NUMBER
        if all(_DATE.match(v) for v in values):
            return ("date", "date")
        if all(_DATETIME_TEXT.match(v) for v in values):
            return _DATETIME
    return _STRING


def _options(values: list[Any]) -> list[dict]:
    distinct = sorted({str(part) for v in values for part in str(v).split(";") if part})[:_OPTIONS]
    return [{"label": value, "value": value, "displayOrder": order, "hidden": False}
            for order, value in enumerate(distinct)]
