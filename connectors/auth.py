"""OAuth 2 refresh-token flow: fetch an access token, refresh it before it expires or after a 401."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import requests

from connectors.errors import AuthenticationError, SourceUnavailable
from connectors.redact import redact, register_secret

#: Refresh this long before the advertised expiry, so no request goes out with a dying token.
EXPIRY_MARGIN_SECONDS = 60


@dataclass
class OAuthRefreshToken:
    """Access tokens from a refresh token; ``token_response`` keeps the last response (Salesforce's
    ``instance_url`` lives there). Sources without ``expires_in`` are refreshed on 401 only."""

    token_url: str
    client_id: str
    client_secret: str
    refresh_token: str
    timeout: float = 30.0
    token_response: dict = field(default_factory=dict, repr=False)
    refreshes: int = 0
    _access_token: str | None = field(default=None, repr=False)
    _expires_at: float = field(default=float("inf"), repr=False)

    def __post_init__(self) -> None:
        for secret in (self.client_secret, self.refresh_token):
            register_secret(secret)

    def access_token(self) -> str:
        """A valid access token, refreshed first when it is missing or about to expire."""
        if self._access_token is None or time.monotonic() >= self._expires_at:
            self.refresh()
        return self._access_token

    def invalidate(self) -> None:
        """Forget the current token (after a 401) so the next call refreshes."""
        self._access_token = None

    def refresh(self) -> None:
        """Exchange the refresh token for a new access token."""
        form = {
            "grant_type": "refresh_token",
            "client_id": self.client_id,
            "client_secret": self.client_secret,
            "refresh_token": self.refresh_token,
        }
        try:
            response = requests.post(self.token_url, data=form, timeout=self.timeout)
        except requests.RequestException as exc:
            raise SourceUnavailable(redact(f"token endpoint {self.token_url} unreachable: {exc}")) from None
        if response.status_code >= 500:
            raise SourceUnavailable(f"token endpoint {self.token_url} answered HTTP {response.status_code}")
        if response.status_code != 200:
            raise AuthenticationError(
                redact(f"token refresh at {self.token_url} refused "
                       f"(HTTP {response.status_code}): {response.text[:300]}")
            )
        body = response.json()
        self._access_token = body["access_token"]
        register_secret(self._access_token)
        if body.get("refresh_token"):
            self.refresh_token = body["refresh_token"]
            register_secret(self.refresh_token)
        expires_in = body.get("expires_in")
        self._expires_at = (
            time.monotonic() + float(expires_in) - EXPIRY_MARGIN_SECONDS if expires_in else float("inf")
        )
        self.token_response = body
        self.refreshes += 1
