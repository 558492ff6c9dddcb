"""Keep secrets out of logs and exception text.

Every credential a connector is given is registered here; :func:`redact` replaces each
occurrence (and the forms it takes inside URLs, JSON and Python reprs) with ``***``, and
:class:`RedactingFilter` does the same for every log record of the ``connectors`` loggers.
"""

from __future__ import annotations

import json
import logging
import threading
from urllib.parse import quote, quote_plus

MASK = "***"
_MIN_SECRET_LENGTH = 4
_secrets: set[str] = set()
_lock = threading.Lock()


def register_secret(value: str | None) -> None:
    """Remember a secret (token, client secret, refresh token) so it is masked from now on.

    Also masked: the secret without surrounding whitespace, URL-encoded, and escaped as JSON and as a Python
    repr shows it: a token read from a file ending in a line break appears as ``TOKEN\\n`` in an error's text.
    """
    if not value:
        return
    forms = {value, value.strip(), quote(value, safe=""), quote_plus(value), json.dumps(value)[1:-1],
             repr(value)[1:-1]}
    with _lock:
        _secrets.update(form for form in forms if len(form) >= _MIN_SECRET_LENGTH)


def redact(text: object) -> str:
    """`text` as a string with every registered secret masked."""
    result = str(text)
    for secret in sorted(_secrets, key=len, reverse=True):
        if secret in result:
            result = result.replace(secret, MASK)
    return result


def excerpt(text: object, limit: int) -> str:
    """The first `limit` characters of `text` with every registered secret masked: masked before it is cut, so a
    secret the cut would split is masked whole."""
    return redact(text)[:limit]


class RedactingFilter(logging.Filter):
    """A logging filter that masks registered secrets in the rendered message."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = redact(record.getMessage())
        record.args = ()
        return True


def get_logger(name: str) -> logging.Logger:
    """The logger `name` with secret masking installed (filters are not inherited, so each gets one)."""
    logger = logging.getLogger(name)
    if not any(isinstance(f, RedactingFilter) for f in logger.filters):
        logger.addFilter(RedactingFilter())
    return logger
