"""Meta's token flow: no refresh grant; a long-lived token comes from ``fb_exchange_token``.

The configured token is exchanged for a long-lived access token before the first request. When
Meta refuses the access token mid-sync (code 190) the client exchanges once more; if the
configured token itself is no longer accepted, that is an :class:`AuthenticationError`:
someone has to issue a new one.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from connectors.auth import CachedAccessToken, request_grant
from connectors.redact import get_logger, register_secret

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
    _token: CachedAccessToken = field(default_factory=CachedAccessToken, repr=False)

    def __post_init__(self) -> None:
        for secret in (self.app_secret, self.user_token):
            register_secret(secret)

    def access_token(self) -> str:
        """A valid access token, exchanged first when there is none or it is about to expire."""
        if self._token.current() is None:
            self.refresh()
        return self._token.value

    def invalidate(self) -> None:
        """Forget the current token (Meta refused it) so the next call exchanges again."""
        self._token.forget()

    def refresh(self) -> None:
        """Exchange the configured token for a long-lived access token."""
        params = {"grant_type": "fb_exchange_token", "client_id": self.app_id, "client_secret": self.app_secret,
                  "fb_exchange_token": self.user_token}
        self._token.keep(request_grant("GET", self.exchange_url, "token exchange", self.timeout, params=params))
        self.refreshes += 1
