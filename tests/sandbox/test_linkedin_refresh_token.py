"""The LinkedIn emulator's refresh token expires at an instant of the sandbox clock: each refresh answers the seconds
left (an advance of the clock shortens them), a refresh past it is refused with 400 ``invalid_grant``, and
``POST /_sandbox/linkedin_ads/refresh-token`` sets the seconds left."""

import pytest
import requests

from sandbox import auth
from tests.ads_fixtures import restoring_linkedin_refresh_token, running_ads_sandbox

DAY = 86_400
CONTROL = "/_sandbox/linkedin_ads/refresh-token"


@pytest.fixture(scope="module")
def linkedin(tmp_path_factory):
    with running_ads_sandbox(tmp_path_factory, records={}) as running:
        yield running


@pytest.fixture
def sandbox(linkedin):
    """The module's sandbox, its refresh token given its default lifetime back after the test."""
    yield from restoring_linkedin_refresh_token(linkedin)


def _refresh(url: str) -> requests.Response:
    form = {"grant_type": "refresh_token", "client_id": auth.CLIENT_ID, "client_secret": auth.CLIENT_SECRET,
            "refresh_token": auth.REFRESH_TOKEN}
    return requests.post(f"{url}/oauth/v2/accessToken", data=form, timeout=10)


def test_the_seconds_left_fall_by_a_day_when_the_sandbox_clock_advances_a_day(sandbox):
    before = _refresh(sandbox.url).json()["refresh_token_expires_in"]
    sandbox.advance(days=1)
    after = _refresh(sandbox.url).json()["refresh_token_expires_in"]
    assert before - after == DAY and after > 0


def test_the_admin_endpoint_sets_the_seconds_left(sandbox):
    assert sandbox.set_linkedin_refresh_token_expiry(5 * DAY)["expires_in"] == 5 * DAY
    grant = _refresh(sandbox.url)
    assert grant.status_code == 200 and grant.json()["refresh_token_expires_in"] == 5 * DAY
    assert requests.get(f"{sandbox.url}{CONTROL}", timeout=10).json()["expires_in"] == 5 * DAY


def test_a_refresh_past_the_expiry_is_refused_with_invalid_grant(sandbox):
    sandbox.set_linkedin_refresh_token_expiry(3600)
    assert _refresh(sandbox.url).status_code == 200
    sandbox.advance(days=1)
    refused = _refresh(sandbox.url)
    assert refused.status_code == 400 and refused.json()["error"] == "invalid_grant"
    assert "access_token" not in refused.json()


@pytest.mark.parametrize("body", [{"expires_in": -1}, {"expires_in": 1.5}, {"expires_in": "86400"},
                                  {"expires_in": True}, {}, [86400]])
def test_a_bad_admin_body_is_a_400_naming_the_field(sandbox, body):
    answer = requests.post(f"{sandbox.url}{CONTROL}", json=body, timeout=10)
    assert answer.status_code == 400 and "expires_in must be a whole number" in answer.json()["error"]
    assert _refresh(sandbox.url).json()["refresh_token_expires_in"] > 5 * DAY  # left as it was


def test_a_body_that_is_not_json_is_a_400(sandbox):
    answer = requests.post(f"{sandbox.url}{CONTROL}", data="expires_in=5", timeout=10)
    assert answer.status_code == 400 and "not JSON" in answer.json()["error"]
