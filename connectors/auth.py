"""OAuth 2 refresh-token flow: fetch an access token, refresh it before it expires or after a 401."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import requests

from connectors.errors import AuthenticationError, SourceUnavailable
from connectors.redact import excerpt, redact, register_secret
from connectors.token_store import RefreshTokenStore

log = logging.getLogger(__name__)

#: Refresh this long before the advertised expiry, so no request goes out with a dying token.
EXPIRY_MARGIN_SECONDS = 60


@dataclass
class CachedAccessToken:
    """The access token a grant gave, and when to renew it: `EXPIRY_MARGIN_SECONDS` before the expiry the grant
    advertised (``expires_in``); without one, only after the source refuses it (:meth:`forget`)."""

    value: str | None = field(default=None, repr=False)
    renew_at: float = float("inf")

    def current(self) -> str | None:
        """The token while it is not due for renewal, else None."""
        return self.value if self.value is not None and time.monotonic() < self.renew_at else None

    def keep(self, grant: dict) -> None:
        """Keep the ``access_token`` of `grant` (a token endpoint's JSON answer), registered as a secret."""
        self.value = grant["access_token"]
        register_secret(self.value)
        expires_in = grant.get("expires_in")
        self.renew_at = time.monotonic() + float(expires_in) - EXPIRY_MARGIN_SECONDS if expires_in else float("inf")

    def forget(self) -> None:
        """Drop the token (the source refused it), so the next use renews it."""
        self.value = None


def request_grant(method: str, url: str, what: str, timeout: float, **request) -> dict:
    """The JSON answer of a token endpoint, `what` naming the call in errors ("token refresh", "token exchange").

    Unreachable, or a 5xx: :class:`SourceUnavailable` (worth a retry later); any other refusal:
    :class:`AuthenticationError` (someone has to fix the credentials). Secrets are redacted from both.
    """
    try:
        response = requests.request(method, url, timeout=timeout, **request)
    except requests.RequestException as exc:
        raise SourceUnavailable(redact(f"{what} at {url} unreachable: {exc}")) from None
    if response.status_code >= 500:
        raise SourceUnavailable(f"{what} at {url} answered HTTP {response.status_code}")
    if response.status_code != 200:
        raise AuthenticationError(redact(f"{what} at {url} refused (HTTP {response.status_code}): "
                                         f"{excerpt(response.text, 300)}"))
    return response.json()


@dataclass
class OAuthRefreshToken:
    """Access tokens from a refresh token; ``token_response`` keeps the last response (Salesforce's
    ``instance_url`` lives there). Sources without ``expires_in`` are refreshed on 401 only.

    ``refresh_token_expires_at`` is when the refresh token itself stops working (UTC), from the
    ``refresh_token_expires_in`` seconds of the latest grant that carried it (LinkedIn's do); None while no grant did.

    With a `token_store`, a grant that answers a refresh token other than the one it used (rotation: the used one is
    revoked) has it saved there before anything else, and the flow starts from the newest token stored for the
    configured `refresh_token`, so the next run is not refused.
    """

    token_url: str
    client_id: str
    client_secret: str
    refresh_token: str
    timeout: float = 30.0
    token_response: dict = field(default_factory=dict, repr=False)
    refreshes: int = 0
    refresh_token_expires_at: datetime | None = None
    token_store: RefreshTokenStore | None = field(default=None, repr=False)
    #: The refresh token the flow was configured with (`refresh_token` is the one the next grant uses).
    configured_refresh_token: str = field(default="", init=False, repr=False)
    _token: CachedAccessToken = field(default_factory=CachedAccessToken, repr=False)

    def __post_init__(self) -> None:
        for secret in (self.client_secret, self.refresh_token):
            register_secret(secret)
        self.configured_refresh_token = self.refresh_token
        if self.token_store is not None:
            self.refresh_token = self.token_store.latest(self.configured_refresh_token)

    def access_token(self) -> str:
        """A valid access token, refreshed first when it is missing or about to expire."""
        if self._token.current() is None:
            self.refresh()
        return self._token.value

    def invalidate(self) -> None:
        """Forget the current token (after a 401) so the next call refreshes."""
        self._token.forget()

    def refresh(self) -> None:
        """Exchange the refresh token for a new access token."""
        form = {
            "grant_type": "refresh_token",
            "client_id": self.client_id,
            "client_secret": self.client_secret,
            "refresh_token": self.refresh_token,
        }
        body = request_grant("POST", self.token_url, "token refresh", self.timeout, data=form)
        self._token.keep(body)
        if body.get("refresh_token"):
            self._keep_refresh_token(body["refresh_token"])
        self.token_response = body
        self.refreshes += 1
        self._note_refresh_token_expiry(body)

    def _keep_refresh_token(self, answered: str) -> None:
        """Use the refresh token a grant answered from now on; one other than the token used is saved in the
        `token_store` (the source rotated it and revoked the used one).

        A token that cannot be saved is an :class:`AuthenticationError` naming the store's file: the used token is
        revoked, so the next run would be refused; better to say why tonight.
        """
        register_secret(answered)
        used, self.refresh_token = self.refresh_token, answered
        if self.token_store is None or answered == used:
            return
        try:
            self.token_store.save(self.configured_refresh_token, answered)
        except OSError as exc:
            raise AuthenticationError(redact(
                f"token refresh at {self.token_url}: the rotated refresh token could not be saved to "
                f"{self.token_store.path} ({exc}); the one used is revoked: once the store can be written, "
                "authorize the app again and configure its new refresh token")) from None

    def _note_refresh_token_expiry(self, grant: dict) -> None:
        """Keep when the refresh token expires, from the grant's ``refresh_token_expires_in`` (seconds from now).

        A grant without it leaves the last known expiry; one that is not a number is logged and ignored: the
        expiry only feeds a warning, and the access token the grant brought is good.
        """
        seconds = grant.get("refresh_token_expires_in")
        if seconds is None:
            return
        try:
            self.refresh_token_expires_at = datetime.now(UTC) + timedelta(seconds=float(seconds))
        except (TypeError, ValueError, OverflowError):
            log.warning("token refresh at %s: refresh_token_expires_in is not a number of seconds (%r); "
                        "the refresh token's expiry stays unknown", self.token_url, str(seconds)[:40])
