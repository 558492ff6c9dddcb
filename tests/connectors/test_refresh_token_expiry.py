"""When the refresh token itself expires: `OAuthRefreshToken` keeps it from a grant's ``refresh_token_expires_in``
(LinkedIn's token endpoint in the sandbox, over HTTP), and the LinkedIn client exposes it."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import pytest

from connectors import auth as token_flow
from connectors.auth import OAuthRefreshToken
from sandbox import auth
from sandbox.apis.linkedin_ads import REFRESH_TOKEN_SECONDS
from tests.ads_fixtures import linkedin_client, restoring_linkedin_refresh_token, running_ads_sandbox

DAY = 86_400
ONE_ACCOUNT = {("linkedin_ads", "ad_accounts"): [
    {"id": 508812345, "name": "Acme EMEA", "currency": "EUR", "status": "ACTIVE", "type": "BUSINESS"}]}


@pytest.fixture(scope="module")
def linkedin(tmp_path_factory):
    with running_ads_sandbox(tmp_path_factory, records=ONE_ACCOUNT) as running:
        yield running


@pytest.fixture
def sandbox(linkedin):
    """The module's sandbox, its refresh token given its default lifetime back after the test."""
    yield from restoring_linkedin_refresh_token(linkedin)


def _flow(url: str, token_path: str = "/oauth/v2/accessToken") -> OAuthRefreshToken:
    return OAuthRefreshToken(token_url=f"{url}{token_path}", client_id=auth.CLIENT_ID,
                             client_secret=auth.CLIENT_SECRET, refresh_token=auth.REFRESH_TOKEN, timeout=10)


def _between(value: datetime | None, seconds: int, before: datetime, after: datetime) -> bool:
    """`value` is `seconds` after a moment of the grant, taken between `before` and `after`."""
    return value is not None and before + timedelta(seconds=seconds) <= value <= after + timedelta(seconds=seconds)


def test_the_expiry_is_unknown_until_a_grant_says_it(sandbox):
    assert _flow(sandbox.url).refresh_token_expires_at is None


def test_a_grant_with_refresh_token_expires_in_sets_when_the_refresh_token_expires(sandbox):
    flow = _flow(sandbox.url)
    before = datetime.now(UTC)
    flow.access_token()
    assert _between(flow.refresh_token_expires_at, REFRESH_TOKEN_SECONDS, before, datetime.now(UTC))
    assert flow.refresh_token_expires_at.tzinfo is not None

    sandbox.set_linkedin_refresh_token_expiry(5 * DAY)
    before = datetime.now(UTC)
    flow.refresh()
    assert _between(flow.refresh_token_expires_at, 5 * DAY, before, datetime.now(UTC))


def test_the_linkedin_client_exposes_the_expiry_once_it_has_refreshed(sandbox):
    sandbox.set_linkedin_refresh_token_expiry(9 * DAY)
    client = linkedin_client(sandbox.url)
    assert client.credentials_expire_at() is None
    before = datetime.now(UTC)
    assert list(client.accounts()) == ["508812345"]
    assert _between(client.credentials_expire_at(), 9 * DAY, before, datetime.now(UTC))


def test_a_grant_without_it_keeps_the_last_expiry_and_a_malformed_one_is_logged_and_ignored(monkeypatch, caplog):
    grants = iter([{"access_token": "one", "refresh_token_expires_in": 3 * DAY}, {"access_token": "two"},
                   {"access_token": "three", "refresh_token_expires_in": "soon"}])
    monkeypatch.setattr(token_flow, "request_grant", lambda *args, **kwargs: next(grants))
    flow = OAuthRefreshToken(token_url="http://127.0.0.1:9/token", client_id="id", client_secret="secret-value-1",
                             refresh_token="refresh-value-1")
    flow.refresh()
    known = flow.refresh_token_expires_at
    assert known is not None
    flow.refresh()
    assert flow.refresh_token_expires_at == known
    with caplog.at_level(logging.WARNING, logger="connectors.auth"):
        flow.refresh()
    assert flow.refresh_token_expires_at == known
    assert "refresh_token_expires_in is not a number of seconds" in caplog.text
