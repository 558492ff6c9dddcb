"""Column names: the source's field names in snake_case, as the raw-layer contract asks."""

import re

_BOUNDARY = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")


def snake_case(name: str) -> str:
    """``SystemModstamp`` → ``system_modstamp``, ``hs_lastmodifieddate`` stays, ``Foo__c`` → ``foo__c``."""
    return _BOUNDARY.sub("_", name.replace(".", "__")).lower()
