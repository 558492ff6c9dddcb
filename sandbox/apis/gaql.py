"""The subset of GAQL (Google Ads Query Language) the Google Ads emulator understands.

``SELECT f1, f2 FROM resource [WHERE cond AND cond ...] [ORDER BY f [ASC|DESC], ...] [LIMIT n]
[PARAMETERS name = value]`` where a condition is ``field op value`` with ``= != > >= < <=``,
``[NOT] IN (v, ...)``, ``BETWEEN v AND v``, ``DURING LAST_30_DAYS``, ``[NOT] LIKE 'pattern'``
and ``IS [NOT] NULL``. Values are quoted strings (``'2024-05-01'``), numbers or bare enum
constants (``ENABLED``). Keywords are case-insensitive; field names are not.

Errors carry the ``queryError`` code the real API reports (``UNRECOGNIZED_FIELD`` is raised by
the emulator, which knows the fields; the parser raises the syntax ones).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<string>'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")
      | (?P<number>-?\d+(?:\.\d+)?)(?![\w.-])
      | (?P<op>>=|<=|!=|=|<|>|\(|\)|,)
      | (?P<word>[A-Za-z_][\w.]*)
      | (?P<open>['"])
      | (?P<bad>\S)
    )""",
    re.VERBOSE,
)


class GaqlError(ValueError):
    """A query the real API refuses; `code` is its ``queryError`` value."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass
class Condition:
    """``field op values``; `values` holds one value, two for BETWEEN, several for IN, none for IS NULL."""

    field: str
    op: str
    values: tuple = ()

    def __post_init__(self) -> None:
        # Literals are converted once: most are dates or enums that never parse as numbers.
        self._literals = tuple((value, _number(value)) for value in self.values)

    def matches(self, actual) -> bool:
        """True when a row's value of `field` satisfies the condition."""
        op = self.op
        if op == "IS NULL":
            return actual is None
        if op == "IS NOT NULL":
            return actual is not None
        literals = self._literals
        if op == "IN":
            return any(_equal(actual, literal) for literal in literals)
        if op == "NOT IN":
            return not any(_equal(actual, literal) for literal in literals)
        if op in {"LIKE", "NOT LIKE"}:
            found = actual is not None and _like(self.values[0]).fullmatch(str(actual)) is not None
            return found if op == "LIKE" else not found
        if op == "=":
            return _equal(actual, literals[0])
        if op == "!=":
            return not _equal(actual, literals[0])
        if actual is None:
            return False
        if op == "BETWEEN":
            return _compare(actual, literals[0]) >= 0 and _compare(actual, literals[1]) <= 0
        result = _compare(actual, literals[0])
        return {">": result > 0, ">=": result >= 0, "<": result < 0, "<=": result <= 0}[op]


@dataclass
class Query:
    """A parsed GAQL statement."""

    fields: list[str]
    resource: str
    conditions: list[Condition] = field(default_factory=list)
    order_by: list[tuple[str, bool]] = field(default_factory=list)  # (field, descending)
    limit: int | None = None

    def referenced(self) -> list[str]:
        """Every field the query names, in SELECT, WHERE and ORDER BY."""
        return self.fields + [c.field for c in self.conditions] + [name for name, _ in self.order_by]


def parse(text: str) -> Query:
    """Parse a GAQL statement, raising :class:`GaqlError` the way the API words syntax errors."""
    return _Parser(_tokenize(text or "")).query()


def _tokenize(text: str) -> list[tuple[str, str]]:
    tokens = []
    for match in _TOKEN.finditer(text):
        kind = match.lastgroup
        if kind is None:
            continue
        if kind == "open":
            raise GaqlError(
                "STRING_NOT_TERMINATED", f"Error in query: string not terminated at {match.group().strip()}."
            )
        if kind == "bad":
            raise GaqlError("BAD_SYMBOL", f"Error in query: unexpected symbol {match.group(kind)!r}.")
        tokens.append((kind, match.group(kind)))
    return tokens


class _Parser:
    def __init__(self, tokens: list[tuple[str, str]]) -> None:
        self.tokens = tokens
        self.position = 0

    def query(self) -> Query:
        self._keyword("SELECT", "EXPECTED_SELECT")
        fields = [self._field()]
        while self._accept_op(","):
            fields.append(self._field())
        self._keyword("FROM", "EXPECTED_FROM")
        resource = self._field()
        query = Query(fields=fields, resource=resource)
        if self._accept_word("WHERE"):
            query.conditions.append(self._condition())
            while self._accept_word("AND"):
                query.conditions.append(self._condition())
        if self._accept_word("ORDER"):
            self._keyword("BY", "EXPECTED_BY")
            query.order_by.append(self._ordering())
            while self._accept_op(","):
                query.order_by.append(self._ordering())
        if self._accept_word("LIMIT"):
            kind, value = self._next()
            if kind != "number" or not value.isdigit() or int(value) < 1:
                raise GaqlError("BAD_LIMIT_VALUE", f"Error in query: invalid LIMIT value {value}.")
            query.limit = int(value)
        if self._accept_word("PARAMETERS"):
            self.position = len(self.tokens)
        if self.position < len(self.tokens):
            raise GaqlError(
                "UNEXPECTED_INPUT", f"Error in query: unexpected input {self.tokens[self.position][1]}."
            )
        return query

    def _condition(self) -> Condition:
        name = self._field()
        kind, value = self._next()
        word = value.upper() if kind == "word" else None
        if kind == "op" and value in {"=", "!=", ">", ">=", "<", "<="}:
            return Condition(name, value, (self._value(),))
        if word == "BETWEEN":
            low = self._value()
            self._keyword("AND", "EXPECTED_AND")
            return Condition(name, "BETWEEN", (low, self._value()))
        if word == "IN":
            return Condition(name, "IN", self._list())
        if word == "DURING":
            kind, constant = self._next()
            if kind != "word":
                raise GaqlError(
                    "INVALID_VALUE_WITH_DURING_OPERATOR", f"Error in query: invalid DURING value {constant}."
                )
            return Condition(name, "DURING", (constant.upper(),))
        if word in {"LIKE", "NOT", "IS"}:
            return self._word_condition(name, word)
        raise GaqlError("BAD_OPERATOR", f"Error in query: invalid operator {value}.")

    def _word_condition(self, name: str, word: str) -> Condition:
        if word == "LIKE":
            return Condition(name, "LIKE", (self._value(),))
        if word == "IS":
            negated = self._accept_word("NOT")
            self._keyword("NULL", "BAD_OPERATOR")
            return Condition(name, "IS NOT NULL" if negated else "IS NULL")
        if self._accept_word("IN"):
            return Condition(name, "NOT IN", self._list())
        self._keyword("LIKE", "BAD_OPERATOR")
        return Condition(name, "NOT LIKE", (self._value(),))

    def _list(self) -> tuple:
        if not self._accept_op("("):
            raise GaqlError("EXPECTED_LIST", "Error in query: expected a list of values in parentheses.")
        values = [self._value()]
        while self._accept_op(","):
            values.append(self._value())
        if not self._accept_op(")"):
            raise GaqlError("EXPECTED_LIST", "Error in query: expected ')' to close the list.")
        return tuple(values)

    def _ordering(self) -> tuple[str, bool]:
        name = self._field()
        if self._accept_word("DESC"):
            return name, True
        self._accept_word("ASC")
        return name, False

    def _value(self):
        kind, value = self._next()
        if kind == "string":
            return re.sub(r"\\(.)", r"\1", value[1:-1])
        if kind == "number":
            return Decimal(value)
        if kind == "word":
            return value
        raise GaqlError("UNEXPECTED_INPUT", f"Error in query: unexpected input {value}.")

    def _field(self) -> str:
        kind, value = self._next()
        if kind != "word":
            raise GaqlError("UNEXPECTED_INPUT", f"Error in query: unexpected input {value}.")
        return value

    def _keyword(self, keyword: str, code: str) -> None:
        if not self._accept_word(keyword):
            found = self.tokens[self.position][1] if self.position < len(self.tokens) else "end of query"
            raise GaqlError(code, f"Error in query: expected {keyword}, found {found}.")

    def _accept_word(self, keyword: str) -> bool:
        if self.position < len(self.tokens):
            kind, value = self.tokens[self.position]
            if kind == "word" and value.upper() == keyword:
                self.position += 1
                return True
        return False

    def _accept_op(self, op: str) -> bool:
        if self.position < len(self.tokens) and self.tokens[self.position] == ("op", op):
            self.position += 1
            return True
        return False

    def _next(self) -> tuple[str, str]:
        if self.position >= len(self.tokens):
            raise GaqlError("UNEXPECTED_END_OF_QUERY", "Error in query: unexpected end of query.")
        token = self.tokens[self.position]
        self.position += 1
        return token


def _number(value) -> Decimal | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, Decimal):
        return value
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None


def _compare(actual, literal: tuple) -> int:
    """-1, 0 or 1; numerically when both sides are numbers, else as strings. `literal` is (value, number)."""
    value, right = literal
    left = _number(actual) if right is not None else None
    if left is None or right is None:
        left, right = str(actual), str(value)
    return (left > right) - (left < right)


def _equal(actual, literal: tuple) -> bool:
    if actual is None:
        return False
    if isinstance(actual, bool):
        return str(literal[0]).upper() == str(actual).upper()
    return _compare(actual, literal) == 0


def _like(pattern) -> re.Pattern:
    """A GAQL LIKE pattern (``%`` any run, ``_`` one character, ``[%]`` a literal) as a regex."""
    parts, text, index = [], str(pattern), 0
    while index < len(text):
        char = text[index]
        if char == "[" and index + 2 < len(text) and text[index + 2] == "]":
            parts.append(re.escape(text[index + 1]))
            index += 3
            continue
        parts.append(".*" if char == "%" else "." if char == "_" else re.escape(char))
        index += 1
    return re.compile("".join(parts), re.DOTALL)
