"""The subset of SOQL the Salesforce emulator understands, parsed into a :class:`Query`.

Supported: ``SELECT f1, f2 FROM Object [WHERE cond AND cond ...] [ORDER BY field [ASC|DESC]]
[LIMIT n]`` and ``SELECT COUNT() FROM Object [WHERE ...]``, where a condition is ``field <op> literal``
with ``= != < <= > >=`` and literals as Salesforce writes them: unquoted datetimes with a zone
(``2024-05-01T00:00:00Z``, ``2024-05-01T00:00:00.000+0000``), dates, quoted strings, numbers,
``true``/``false``/``null``.
A quoted datetime is rejected as the real API does.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

_QUERY = re.compile(
    r"^\s*SELECT\s+(?P<fields>.+?)\s+FROM\s+(?P<object>\w+)"
    r"(?:\s+WHERE\s+(?P<where>.+?))?"
    r"(?:\s+ORDER\s+BY\s+(?P<order>\w+)(?:\s+(?P<direction>ASC|DESC))?)?"
    r"(?:\s+LIMIT\s+(?P<limit>\d+))?\s*$",
    re.IGNORECASE | re.DOTALL,
)
_CONDITION = re.compile(r"^\s*(?P<field>\w+)\s*(?P<op>>=|<=|!=|=|<|>)\s*(?P<value>.+?)\s*$", re.DOTALL)
_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2})$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class SoqlError(ValueError):
    """A query the real API would refuse; carries Salesforce's error code."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass
class Condition:
    """``field op value``; datetime values are normalised to Salesforce's fixed-width UTC form."""

    field: str
    op: str
    value: object

    def matches(self, record: dict) -> bool:
        """True when the record satisfies the condition (nulls never compare, as in SOQL)."""
        actual = record.get(self.field)
        if self.op == "=":
            return actual == self.value
        if self.op == "!=":
            return actual != self.value
        if actual is None or self.value is None:
            return False
        if self.op == ">=":
            return actual >= self.value
        if self.op == ">":
            return actual > self.value
        if self.op == "<=":
            return actual <= self.value
        return actual < self.value


@dataclass
class Query:
    """A parsed SOQL statement."""

    fields: list[str]
    object: str
    conditions: list[Condition]
    order_by: str | None
    descending: bool
    limit: int | None
    count: bool = False  # ``SELECT COUNT()``: only the number of matching records is returned


def parse(soql: str) -> Query:
    """Parse a SOQL statement, raising :class:`SoqlError` with the code the real API would send."""
    match = _QUERY.match(soql)
    if not match:
        raise SoqlError("MALFORMED_QUERY", f"unexpected token in query:\n{soql}\n^")
    fields = [name.strip() for name in match["fields"].split(",")]
    count = [name.upper() for name in fields] == ["COUNT()"]
    if count:
        fields = []
    elif not all(re.fullmatch(r"\w+", name) for name in fields):
        raise SoqlError("MALFORMED_QUERY", f"unexpected token in field list: {match['fields']}")
    conditions = []
    if match["where"]:
        for part in re.split(r"\s+AND\s+", match["where"], flags=re.IGNORECASE):
            condition = _CONDITION.match(part)
            if not condition:
                raise SoqlError("MALFORMED_QUERY", f"unexpected token in WHERE clause:\n{part}\n^")
            conditions.append(
                Condition(condition["field"], condition["op"], _literal(condition["value"]))
            )
    return Query(
        fields=fields,
        object=match["object"],
        conditions=conditions,
        order_by=match["order"],
        descending=(match["direction"] or "ASC").upper() == "DESC",
        limit=int(match["limit"]) if match["limit"] else None,
        count=count,
    )


def _literal(text: str) -> object:
    if text.startswith("'") and text.endswith("'"):
        inner = text[1:-1]
        if _DATETIME.match(inner):
            raise SoqlError(
                "INVALID_FIELD", f"value of filter criterion must be of type dateTime and should not be enclosed "
                f"in quotes: {text}"
            )
        return inner.replace("\\'", "'")
    if _DATETIME.match(text):
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
        return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}+0000"
    if _DATE.match(text):
        return text
    lowered = text.lower()
    if lowered in {"true", "false"}:
        return lowered == "true"
    if lowered == "null":
        return None
    try:
        return float(text) if "." in text else int(text)
    except ValueError:
        raise SoqlError("MALFORMED_QUERY", f"unexpected token: {text}") from None
