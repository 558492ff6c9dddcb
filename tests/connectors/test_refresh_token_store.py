"""Rotated refresh tokens survive the run that received them: a Salesforce connected app with refresh-token rotation
answers a new refresh token with every grant and revokes the one used, so each run must start from the newest one.

The store itself on disk (owner-only, atomic, tied to the configured token by its SHA-256), then clients built the
way `pipelines.lib.sources` builds them, one per "run", against the sandbox with rotation on."""

from __future__ import annotations

import json
import logging
import stat

import dagster as dg
import pytest

from connectors.auth import OAuthRefreshToken
from connectors.errors import AuthenticationError
from connectors.salesforce.client import SalesforceClient
from connectors.token_store import RefreshTokenStore, fingerprint
from pipelines.lib.sources import CREDENTIAL_STORE_SETTING, SalesforceResource
from sandbox import auth
from sandbox.launcher import connector_env, running_sandbox
from tests.conftest import write_dataset

CONFIGURED, ROTATED = "configured-refresh-token-8c41", "rotated-refresh-token-77d0"


def _mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


# --- the store on disk ---------------------------------------------------------------------------------------


def test_a_saved_token_is_the_latest_of_its_configured_token_in_an_owner_only_file(tmp_path):
    store = RefreshTokenStore(tmp_path / "credentials", "salesforce")
    assert store.latest(CONFIGURED) == CONFIGURED  # nothing stored yet
    store.save(CONFIGURED, ROTATED)

    assert store.latest(CONFIGURED) == ROTATED
    assert store.path == tmp_path / "credentials" / "salesforce.json"
    assert _mode(store.path) == 0o600 and _mode(store.path.parent) == 0o700
    text = store.path.read_text()
    assert CONFIGURED not in text and json.loads(text)["descends_from_sha256"] == fingerprint(CONFIGURED)
    assert [p.name for p in store.path.parent.iterdir()] == ["salesforce.json"]  # no temporary file left


def test_saving_again_replaces_the_token_atomically_and_keeps_the_files_mode(tmp_path):
    store = RefreshTokenStore(tmp_path, "salesforce")
    store.save(CONFIGURED, ROTATED)
    store.save(CONFIGURED, "rotated-again-refresh-token-19fe")
    assert store.latest(CONFIGURED) == "rotated-again-refresh-token-19fe" and _mode(store.path) == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["salesforce.json"]


def test_a_new_configured_token_ignores_the_stored_chain_and_its_first_rotation_replaces_it(tmp_path):
    store = RefreshTokenStore(tmp_path, "salesforce")
    store.save(CONFIGURED, ROTATED)
    reauthorized = "reauthorized-refresh-token-5b2a"
    assert store.latest(reauthorized) == reauthorized
    store.save(reauthorized, "rotated-from-reauthorized-3d9c")
    assert store.latest(reauthorized) == "rotated-from-reauthorized-3d9c"
    assert store.latest(CONFIGURED) == CONFIGURED  # the old chain is gone
    assert json.loads(store.path.read_text())["descends_from_sha256"] == fingerprint(reauthorized)


@pytest.mark.parametrize("text", ['{"refresh_token": "cut off', "[1, 2]", ""])
def test_an_unreadable_store_falls_back_to_the_configured_token_with_a_warning_naming_the_file(tmp_path, caplog,
                                                                                               text):
    store = RefreshTokenStore(tmp_path, "salesforce")
    store.path.write_text(text)
    with caplog.at_level(logging.WARNING, logger="connectors.token_store"):
        assert store.latest(CONFIGURED) == CONFIGURED
    assert str(store.path) in caplog.text and "cut off" not in caplog.text


# --- runs against the sandbox with rotation on -----------------------------------------------------------------


@pytest.fixture
def salesforce(tmp_path):
    """A sandbox of its own, with rotation on: its configured refresh token works once."""
    (tmp_path / "dataset").mkdir()
    with running_sandbox(dataset=write_dataset(tmp_path / "dataset", {})) as running:
        running.set_salesforce_refresh_token_rotation(True)
        yield running


@pytest.fixture
def environment(salesforce, tmp_path, monkeypatch):
    """The environment of a deployment pointed at the sandbox, with its own credential store folder."""
    for name, value in {**connector_env(salesforce.url), CREDENTIAL_STORE_SETTING: str(tmp_path / "store")}.items():
        monkeypatch.setenv(name, value)
    return tmp_path / "store"


def _run_client() -> SalesforceClient:
    """A client for one run, built as the Dagster resource builds it from the environment."""
    with dg.build_resources({"salesforce": SalesforceResource.from_environment()}) as resources:
        return resources.salesforce.client()


def _stored(folder) -> str:
    return json.loads((folder / "salesforce.json").read_text())["refresh_token"]


def test_with_the_store_every_run_starts_from_the_token_the_last_one_was_given(environment):
    first = _run_client()
    assert first.check()["DailyApiRequests"]
    after_first = first.auth.refresh_token  # the org rotated it: the configured one is revoked
    assert after_first != auth.REFRESH_TOKEN

    second = _run_client()  # the same environment
    assert second.refresh_token == auth.REFRESH_TOKEN and second.auth.refresh_token == after_first
    assert second.check()["DailyApiRequests"]
    assert _stored(environment) == second.auth.refresh_token not in {after_first, auth.REFRESH_TOKEN}
    assert _run_client().check()["DailyApiRequests"]  # and the night after


def test_without_the_store_the_second_run_is_refused_with_invalid_grant(salesforce):
    def run_without_store() -> SalesforceClient:  # as every run was built before the store
        return SalesforceClient(login_url=salesforce.url, client_id=auth.CLIENT_ID, client_secret=auth.CLIENT_SECRET,
                                refresh_token=auth.REFRESH_TOKEN)

    assert run_without_store().check()["DailyApiRequests"]
    with pytest.raises(AuthenticationError, match="invalid_grant"):
        run_without_store().check()


def test_a_token_rotated_mid_run_after_a_401_is_the_one_the_next_run_starts_from(salesforce, environment):
    client = _run_client()
    client.check()
    salesforce.inject(api="salesforce", kind="expire_token", path_contains="/limits", times=1)
    client.check()  # 401, a second grant, a second rotation
    assert client.auth.refreshes == 2 and _stored(environment) == client.auth.refresh_token
    assert _run_client().check()["DailyApiRequests"]


def test_a_new_configured_token_is_used_as_it_is_and_its_chain_replaces_the_stored_one(salesforce, environment,
                                                                                       monkeypatch):
    old_chain = RefreshTokenStore(environment, "salesforce")
    old_chain.save("the-token-configured-before-8e1f", "revoked-long-ago-refresh-token-0c7b")
    client = _run_client()  # the environment's token is not the one the stored chain descends from
    assert client.auth.refresh_token == auth.REFRESH_TOKEN
    assert client.check()["DailyApiRequests"]
    stored = json.loads(old_chain.path.read_text())
    assert stored["descends_from_sha256"] == fingerprint(auth.REFRESH_TOKEN)
    assert stored["refresh_token"] == client.auth.refresh_token != "revoked-long-ago-refresh-token-0c7b"


def test_a_rotated_token_that_cannot_be_saved_fails_the_run_naming_the_file_and_not_the_token(salesforce, tmp_path):
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the store's folder should be")
    flow = OAuthRefreshToken(token_url=f"{salesforce.url}/services/oauth2/token", client_id=auth.CLIENT_ID,
                             client_secret=auth.CLIENT_SECRET, refresh_token=auth.REFRESH_TOKEN, timeout=10,
                             token_store=RefreshTokenStore(blocked, "salesforce"))
    with pytest.raises(AuthenticationError, match="rotated refresh token could not be saved to") as raised:
        flow.access_token()
    assert str(blocked / "salesforce.json") in str(raised.value)
    assert flow.refresh_token not in str(raised.value) and flow.refresh_token != auth.REFRESH_TOKEN


def test_no_refresh_token_reaches_the_logs_or_an_error(salesforce, environment, caplog):
    rotated = []
    with caplog.at_level(logging.DEBUG):
        for _ in range(2):
            _run_client().check()
            rotated.append(_stored(environment))
        salesforce.inject(api="salesforce", kind="expire_token", path_contains="/limits", times=1)
        client = _run_client()
        client.check()
        rotated.append(_stored(environment))
        with pytest.raises(AuthenticationError, match="invalid_grant") as raised:  # a revoked one, from the store
            SalesforceClient(login_url=salesforce.url, client_id=auth.CLIENT_ID, client_secret=auth.CLIENT_SECRET,
                             refresh_token=rotated[0]).check()
    assert "using the refresh token rotated at" in caplog.text  # the store's own lines were captured
    assert len(set(rotated)) == 3
    for token in (*rotated, auth.REFRESH_TOKEN):
        assert token not in caplog.text and token not in str(raised.value)
