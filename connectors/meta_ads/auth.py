"""Meta's token flow: no refresh grant; a long-lived token comes from ``fb_exchange_token``.

The configured token is exchanged for a long-lived access token before the first request. When
Meta refuses the access token mid-sync (code 190) the client exchanges once more; if the
configured token itself is no longer accepted, that is an :class:`AuthenticationError`:
someone has to issue a new one.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import requests

from connectors.auth import EXPIRY_MARGIN_SECONDS
from connectors.errors import AuthenticationError, SourceUnavailable
from connectors.redact import get_logger, redact, register_secret

# Meta's exchange is a GET with the app secret and the token in the query string, which urllib3 logs
# at DEBUG level: its logger gets the redacting filter too.
get_logger("urllib3.connectionpool")


@dataclass
class MetaTokenExchange:
    """Long-lived access tokens from `user_token` through ``GET /oauth/access_token?grant_type=fb_exchange_token``."""

    exchange_url: str
    app_id: str
    app_secret: str
    user_token: str
    timeout: float = 30.0
    refreshes: int = 0
    _access_token: str | None = field(default=None, repr=False)
    _expires_at: float = field(default=float("inf"), repr=False)

    def __post_init__(self) -> None:
        for secret in (self.app_secret, self.user_token):
            register_secret(secret)

    def access_token(self) -> str:
        """A valid access token, exchanged first when there is none or it is about to expire."""
        if self._access_token is None or time.monotonic() >= self._expires_at:
            self.refresh()
        return self._access_token

    def invalidate(self) -> None:
        """Forget the current token (Meta refused it) so the next call exchanges again."""
        self._access_token = None

    def refresh(self) -> None:
        """Exchange the configured token for a long-lived access token."""
        params = {"grant_type": "fb_exchange_token", "client_id": self.app_id, "client_secret": self.app_secret,
                  "fb_exchange_token": self.user_token}
        try:
            response = requests.get(self.exchange_url, params=params, timeout=self.timeout)
        except requests.RequestException as exc:
            raise SourceUnavailable(redact(f"token exchange at {self.exchange_url} unreachable: {exc}")) from None
        if response.status_code >= 500:
            raise SourceUnavailable(f"token exchange at {self.exchange_url} answered HTTP {response.status_code}")
        if response.status_code != 200:
            raise AuthenticationError(redact(f"token exchange at {self.exchange_url} refused "
                                             f"(HTTP {response.status_code}): {response.text[:300]}"))
        body = response.json()
        self._access_token = body["access_token"]
        register_secret(self._access_token)
        expires_in = body.get("expires_in")
        self._expires_at = (
            time.monotonic() + float(expires_in) - EXPIRY_MARGIN_SECONDS if expires_in else float("inf")
        )
        self.refreshes += 1
