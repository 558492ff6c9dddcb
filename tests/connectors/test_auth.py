"""Access tokens: renewed before the expiry their grant advertised, not only after a 401, and token endpoints'
refusals reported without the secrets. The refresh flow runs against the sandbox's HubSpot token endpoint."""

from __future__ import annotations

import socket

import pytest

from connectors import auth as token_flow
from connectors.auth import EXPIRY_MARGIN_SECONDS, CachedAccessToken, OAuthRefreshToken
from connectors.errors import AuthenticationError, SourceUnavailable
from connectors.hubspot.client import HubSpotClient
from sandbox import auth
from sandbox.launcher import running_sandbox
from tests.conftest import write_dataset

#: Seconds the sandbox's tokens live: the client renews them EXPIRY_MARGIN_SECONDS earlier, 2 s after the grant.
TOKEN_TTL = EXPIRY_MARGIN_SECONDS + 2


class Clock:
    """A stand-in for `time.monotonic` in connectors.auth, moved by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch) -> Clock:
    stand_in = Clock()
    monkeypatch.setattr(token_flow.time, "monotonic", stand_in)
    return stand_in


@pytest.fixture(scope="module")
def hubspot(tmp_path_factory):
    folder = write_dataset(tmp_path_factory.mktemp("dataset"), {})
    with running_sandbox(dataset=folder, extra_args=("--token-ttl", str(TOKEN_TTL))) as running:
        yield running


def _refresh_flow(url: str, **overrides) -> OAuthRefreshToken:
    settings = {"client_id": auth.CLIENT_ID, "client_secret": auth.CLIENT_SECRET,
                "refresh_token": auth.REFRESH_TOKEN, **overrides}
    return OAuthRefreshToken(token_url=f"{url}/oauth/2026-03/token", timeout=10, **settings)


def test_a_token_is_due_for_renewal_a_margin_before_the_expiry_its_grant_advertised(clock):
    token = CachedAccessToken()
    token.keep({"access_token": "first", "expires_in": 3600})
    clock.now += 3600 - EXPIRY_MARGIN_SECONDS - 1
    assert token.current() == "first"
    clock.now += 1
    assert token.current() is None


def test_a_token_whose_grant_advertised_no_expiry_lasts_until_it_is_forgotten(clock):
    token = CachedAccessToken()
    token.keep({"access_token": "lasting"})
    clock.now += 10**9
    assert token.current() == "lasting"
    token.forget()
    assert token.current() is None


def test_the_refresh_flow_renews_before_the_token_expires_without_waiting_for_a_401(hubspot, clock):
    flow = _refresh_flow(hubspot.url)
    first = flow.access_token()
    assert flow.access_token() == first and flow.refreshes == 1
    clock.now += TOKEN_TTL - EXPIRY_MARGIN_SECONDS  # still valid at the sandbox for another minute
    second = flow.access_token()
    assert second != first and flow.refreshes == 2


def test_a_refused_refresh_is_an_authentication_error_that_names_the_endpoint_and_not_the_secrets(hubspot):
    flow = _refresh_flow(hubspot.url, refresh_token="not-the-refresh-token-" + "x" * 20)
    refused = r"token refresh at .*/oauth/2026-03/token refused \(HTTP 400\)"
    with pytest.raises(AuthenticationError, match=refused) as err:
        flow.access_token()
    assert flow.refresh_token not in str(err.value) and auth.CLIENT_SECRET not in str(err.value)


def test_an_unreachable_token_endpoint_is_a_source_unavailable_error_without_the_secrets():
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]  # nothing listens once the socket is closed
    flow = _refresh_flow(f"http://127.0.0.1:{port}")
    with pytest.raises(SourceUnavailable, match="token refresh at .* unreachable") as err:
        flow.access_token()
    assert auth.REFRESH_TOKEN not in str(err.value) and auth.CLIENT_SECRET not in str(err.value)


def test_the_hubspot_client_refreshes_through_the_2026_03_oauth_api_not_the_deprecated_v1(hubspot):
    hubspot.inject(api="hubspot", kind="server_error", path_contains="/oauth/v1/", times=100)
    try:
        client = HubSpotClient(base_url=hubspot.url, client_id=auth.CLIENT_ID, client_secret=auth.CLIENT_SECRET,
                               refresh_token=auth.REFRESH_TOKEN)
        assert client.auth.access_token()
        assert client.auth.refreshes == 1
    finally:
        hubspot.clear_faults()
