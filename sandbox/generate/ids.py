"""Source-system identifiers: Salesforce 18-character ids, numeric ids, UUIDs."""

from __future__ import annotations

import random

_BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_BASE62_VALUE = {char: value for value, char in enumerate(_BASE62)}
_CHECKSUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"
_CHUNK = 62**5
_ORG_POD = "Hp"

#: Key prefixes of the Salesforce objects the sandbox serves (plus queues and profiles).
SF_PREFIX = {
    "Account": "001", "Contact": "003", "Lead": "00Q", "Opportunity": "006",
    "OpportunityHistory": "008", "Campaign": "701", "CampaignMember": "00v", "User": "005",
    "Queue": "00G", "Profile": "00e", "UserRole": "00E",
}


def _checksum_char(chunk: str) -> str:
    flags = 0
    for position, char in enumerate(chunk):
        if "A" <= char <= "Z":
            flags |= 1 << position
    return _CHECKSUM[flags]


_PAIRS = [a + b for a in _BASE62 for b in _BASE62]
_PAIR_FLAGS = [("A" <= pair[0] <= "Z") | ("A" <= pair[1] <= "Z") << 1 for pair in _PAIRS]
_SINGLE_FLAGS = [int("A" <= char <= "Z") for char in _BASE62]


def _chunk(value: int) -> tuple[str, str]:
    """Five base-62 digits of ``value`` and their case-safety character."""
    head, rest = divmod(value, 3844 * 3844)
    middle, tail = divmod(rest, 3844)
    flags = _SINGLE_FLAGS[head] | _PAIR_FLAGS[middle] << 1 | _PAIR_FLAGS[tail] << 3
    return _BASE62[head] + _PAIRS[middle] + _PAIRS[tail], _CHECKSUM[flags]


_HEADS: dict[str, tuple[str, str]] = {}
_HIGH_CACHE: dict[int, tuple[str, str]] = {}


def salesforce_id(prefix: str, counter: int) -> str:
    """The 18-character id (15-character id plus case-safety suffix) of a record number."""
    high, low = divmod(counter, _CHUNK)
    head = _HEADS.get(prefix)
    if head is None:
        text = prefix + _ORG_POD
        head = _HEADS[prefix] = (text, _checksum_char(text))
    middle = _HIGH_CACHE.get(high)
    if middle is None:
        middle = _HIGH_CACHE[high] = _chunk(high)
    low_text, low_check = _chunk(low)
    return head[0] + middle[0] + low_text + head[1] + middle[1] + low_check


def salesforce_counter(record_id: str) -> int:
    """The record number encoded in a generated 18-character id (inverse of :func:`salesforce_id`)."""
    value = 0
    for char in record_id[5:15]:
        value = value * 62 + _BASE62_VALUE[char]
    return value


def is_salesforce_id(text: str, prefix: str) -> bool:
    """True when ``text`` is an 18-character id with the given key prefix and a valid suffix."""
    if not isinstance(text, str) or len(text) != 18 or not text.startswith(prefix):
        return False
    return all(_checksum_char(text[i:i + 5]) == text[15 + i // 5] for i in (0, 5, 10))


class Sequence:
    """Increasing record numbers with random gaps, like a database sequence shared by many writers."""

    def __init__(self, rng: random.Random, start: int, max_gap: int = 1) -> None:
        self._rng = rng
        self._next = start
        self._max_gap = max_gap

    def take(self) -> int:
        """The next number."""
        value = self._next
        if self._max_gap > 1:
            self._next += 1 + int(self._rng.random() * self._max_gap)
        else:
            self._next += 1
        return value


class SalesforceIds:
    """Id factory for one Salesforce object: sequential record numbers (random gaps) as 18-char ids."""

    def __init__(self, rng: random.Random, obj: str, start: int) -> None:
        self.prefix = SF_PREFIX[obj]
        self._rand = rng.random
        self._next = start
        self._high = -1
        self._head = self._checks = ""

    def take(self) -> str:
        """The next id (same result as :func:`salesforce_id` of the next record number)."""
        counter = self._next
        self._next = counter + 1 + int(self._rand() * 7)
        high, low = divmod(counter, _CHUNK)
        if high != self._high:
            self._high = high
            middle, middle_check = _chunk(high)
            head = self.prefix + _ORG_POD
            self._head = head + middle
            self._checks = _checksum_char(head) + middle_check
        first, rest = divmod(low, 3844 * 3844)
        second, third = divmod(rest, 3844)
        flags = _SINGLE_FLAGS[first] | _PAIR_FLAGS[second] << 1 | _PAIR_FLAGS[third] << 3
        return self._head + _BASE62[first] + _PAIRS[second] + _PAIRS[third] + self._checks + _CHECKSUM[flags]


def uuid_string(rng: random.Random) -> str:
    """A version-4-shaped UUID string drawn from ``rng`` (deterministic, unlike :func:`uuid.uuid4`)."""
    bits = rng.getrandbits(128)
    text = f"{bits:032x}"
    return f"{text[:8]}-{text[8:12]}-4{text[13:16]}-{'89ab'[bits & 3]}{text[17:20]}-{text[20:]}"
