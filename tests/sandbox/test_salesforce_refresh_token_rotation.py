"""The Salesforce emulator's refresh-token rotation: off by default (grants answer no refresh token and the one used
keeps working); on, each grant answers a new refresh token and revokes the one it used, which a later grant is
refused with 400 ``invalid_grant``, as a connected app with rotation enabled does."""

import pytest
import requests

from sandbox import auth
from sandbox.launcher import running_sandbox
from tests.conftest import write_dataset

CONTROL = "/_sandbox/salesforce/refresh-token-rotation"
REFUSED = {"error": "invalid_grant", "error_description": "expired access/refresh token"}


@pytest.fixture
def salesforce(tmp_path):
    """A sandbox of its own per test: rotation revokes the sandbox's refresh token for good."""
    with running_sandbox(dataset=write_dataset(tmp_path, {})) as running:
        yield running


def _grant(url: str, refresh_token: str = auth.REFRESH_TOKEN, **overrides) -> requests.Response:
    form = {"grant_type": "refresh_token", "client_id": auth.CLIENT_ID, "client_secret": auth.CLIENT_SECRET,
            "refresh_token": refresh_token, **overrides}
    return requests.post(f"{url}/services/oauth2/token", data=form, timeout=10)


def _limits(url: str, grant: dict) -> requests.Response:
    return requests.get(f"{grant['instance_url']}/services/data/v60.0/limits", timeout=10,
                        headers={"Authorization": f"Bearer {grant['access_token']}"})


def test_without_rotation_a_grant_answers_no_refresh_token_and_the_token_keeps_working(salesforce):
    assert requests.get(f"{salesforce.url}{CONTROL}", timeout=10).json() == {"enabled": False}
    for _ in range(2):
        grant = _grant(salesforce.url)
        assert grant.status_code == 200 and "refresh_token" not in grant.json()


def test_with_rotation_each_grant_answers_a_new_refresh_token_and_revokes_the_one_it_used(salesforce):
    assert salesforce.set_salesforce_refresh_token_rotation(True) == {"enabled": True}
    first = _grant(salesforce.url)
    assert first.status_code == 200
    rotated = first.json()["refresh_token"]
    assert rotated != auth.REFRESH_TOKEN and _limits(salesforce.url, first.json()).status_code == 200

    refused = _grant(salesforce.url)  # the token the first grant used
    assert (refused.status_code, refused.json()) == (400, REFUSED)

    second = _grant(salesforce.url, rotated)
    assert second.status_code == 200 and second.json()["refresh_token"] not in {rotated, auth.REFRESH_TOKEN}
    refused_again = _grant(salesforce.url, rotated)
    assert (refused_again.status_code, refused_again.json()) == (400, REFUSED)


def test_a_grant_refused_for_its_client_does_not_use_up_the_refresh_token(salesforce):
    salesforce.set_salesforce_refresh_token_rotation(True)
    assert _grant(salesforce.url, client_secret="not-the-secret").json() == REFUSED
    assert _grant(salesforce.url).status_code == 200


def test_rotation_turned_off_leaves_the_newest_token_working_and_the_revoked_ones_revoked(salesforce):
    salesforce.set_salesforce_refresh_token_rotation(True)
    rotated = _grant(salesforce.url).json()["refresh_token"]
    assert salesforce.set_salesforce_refresh_token_rotation(False) == {"enabled": False}
    for _ in range(2):
        grant = _grant(salesforce.url, rotated)
        assert grant.status_code == 200 and "refresh_token" not in grant.json()
    assert _grant(salesforce.url).json() == REFUSED


@pytest.mark.parametrize("body", ['{"enabled": "yes"}', "{}", "[true]", "{"])
def test_the_control_refuses_a_setting_that_is_not_one(salesforce, body):
    response = requests.post(f"{salesforce.url}{CONTROL}", data=body, timeout=10)
    assert response.status_code == 400 and "error" in response.json()
    assert requests.get(f"{salesforce.url}{CONTROL}", timeout=10).json() == {"enabled": False}
