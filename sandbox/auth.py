"""Access tokens the sandbox hands out, per API, with a lifetime and a way to expire them early."""

from __future__ import annotations

import secrets
import threading
import time
from urllib.parse import parse_qs

#: Credentials the sandbox accepts. `connectors` are configured with these by `sandbox.launcher`.
CLIENT_ID = "sandbox-client-id"
CLIENT_SECRET = "sandbox-client-secret"
REFRESH_TOKEN = "sandbox-refresh-token"


class TokenStore:
    """Issues opaque bearer tokens per API and says whether a presented token is still valid."""

    def __init__(self, ttl_seconds: float) -> None:
        self.ttl_seconds = ttl_seconds
        self._expiry: dict[str, tuple[str, float]] = {}
        self._lock = threading.Lock()
        self.issued = 0

    def issue(self, api: str, prefix: str = "") -> str:
        """A new token for `api`, valid for the store's lifetime."""
        token = prefix + secrets.token_urlsafe(24)
        with self._lock:
            self._expiry[token] = (api, time.monotonic() + self.ttl_seconds)
            self.issued += 1
        return token

    def is_valid(self, api: str, token: str | None) -> bool:
        """True when `token` was issued for `api` and has not expired."""
        if not token:
            return False
        entry = self._expiry.get(token)
        return entry is not None and entry[0] == api and entry[1] > time.monotonic()

    def expire_all(self, api: str) -> None:
        """Expire every token of `api` at once, as a session timeout mid-sync would."""
        with self._lock:
            for token, (owner, _) in list(self._expiry.items()):
                if owner == api:
                    self._expiry[token] = (owner, 0.0)


def client_matches(form: dict) -> bool:
    """True when an OAuth request carries the sandbox's client id and secret."""
    return form.get("client_id") == CLIENT_ID and form.get("client_secret") == CLIENT_SECRET


def credentials_match(form: dict) -> bool:
    """True when an OAuth refresh request carries the sandbox's client and refresh token."""
    return client_matches(form) and form.get("refresh_token") == REFRESH_TOKEN


def bearer_token(headers) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header, or None."""
    value = headers.get("authorization", "")
    scheme, _, token = value.partition(" ")
    return token.strip() if scheme.lower() == "bearer" else None


async def form_fields(request) -> dict[str, str]:
    """The fields of an ``application/x-www-form-urlencoded`` body (no multipart dependency needed)."""
    return {key: values[-1] for key, values in parse_qs((await request.body()).decode()).items()}
