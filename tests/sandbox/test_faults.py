"""The sandbox's fault rules: a rule carries only the fields its kind reads, over the admin endpoint as the tests post
them, and the rules that carry their kind's field still fire with it."""

import importlib
import json
import time

import pytest
import requests

from sandbox.faults import KINDS, register_kinds
from sandbox.launcher import running_sandbox
from tests.conftest import salesforce_account, write_dataset

#: Every kind that reads a field beyond api, kind, path_contains, skip and times, with that field.
FIELD_TAKING_KINDS = {"slow": "seconds", "rate_limit": "retry_after", "account_rate_limit": "retry_after",
                      "query_timeout": "rows"}
NO_FIELDS = "nothing beyond api, kind, path_contains, skip, times"


@pytest.fixture(scope="module")
def one_account_sandbox(tmp_path_factory):
    folder = write_dataset(tmp_path_factory.mktemp("dataset"), {("salesforce", "Account"): [salesforce_account(1)]})
    with running_sandbox(dataset=folder) as running:
        yield running


@pytest.fixture(scope="module")
def sandbox_url(one_account_sandbox):
    return one_account_sandbox.url


@pytest.fixture
def post_fault(sandbox_url):
    """Post a rule to ``/_sandbox/faults`` (no rule left from an earlier test) and return the answer."""
    requests.delete(f"{sandbox_url}/_sandbox/faults", timeout=10).raise_for_status()
    return lambda rule: requests.post(f"{sandbox_url}/_sandbox/faults", json=rule, timeout=10)


def _rules(url: str) -> list[dict]:
    return requests.get(f"{url}/_sandbox/faults", timeout=10).json()


@pytest.mark.parametrize(("rule", "message"), [
    ({"api": "salesforce", "kind": "query_timeout", "seconds": 3600},
     "fault field 'seconds' does not apply to kind 'query_timeout' (it takes: rows)"),
    ({"api": "salesforce", "kind": "slow", "rows": 5},
     "fault field 'rows' does not apply to kind 'slow' (it takes: seconds)"),
    ({"api": "google_ads", "kind": "rate_limit", "seconds": 30},
     "fault field 'seconds' does not apply to kind 'rate_limit' (it takes: retry_after)"),
    ({"api": "meta_ads", "kind": "account_rate_limit", "rows": 1},
     "fault field 'rows' does not apply to kind 'account_rate_limit' (it takes: retry_after)"),
    ({"api": "hubspot", "kind": "daily_limit", "retry_after": 60},
     f"fault field 'retry_after' does not apply to kind 'daily_limit' (it takes: {NO_FIELDS})"),
    ({"api": "salesforce", "kind": "server_error", "seconds": 1, "rows": "many"},
     f"fault fields 'rows', 'seconds' do not apply to kind 'server_error' (it takes: {NO_FIELDS})"),
], ids=["query_timeout-seconds", "slow-rows", "rate_limit-seconds", "account_rate_limit-rows",
        "daily_limit-retry_after", "server_error-two-fields"])
def test_a_field_its_kind_does_not_read_is_refused_with_a_400_naming_the_field_and_the_kind(
        sandbox_url, post_fault, rule, message):
    answer = post_fault(rule)
    assert answer.status_code == 400
    assert answer.json() == {"error": message}
    assert _rules(sandbox_url) == []  # nothing half-added


def test_a_refused_rule_injected_from_python_raises_with_the_sandboxs_reason(one_account_sandbox):
    one_account_sandbox.clear_faults()
    with pytest.raises(requests.HTTPError, match="does not apply to kind 'query_timeout' \\(it takes: rows\\)"):
        one_account_sandbox.inject(api="salesforce", kind="query_timeout", seconds=3600)


@pytest.mark.parametrize(("kind", "field"), sorted(FIELD_TAKING_KINDS.items()))
def test_a_rule_with_its_kinds_own_field_is_accepted_with_that_value(sandbox_url, post_fault, kind, field):
    answer = post_fault({"api": "salesforce", "kind": kind, field: 7})
    assert answer.status_code == 200
    assert [(rule["kind"], rule[field]) for rule in answer.json()] == [(kind, 7)]


def test_every_registered_kind_that_reads_a_field_is_covered_here():
    for emulator in ("google_ads", "hubspot", "linkedin_ads", "meta_ads", "salesforce"):
        importlib.import_module(f"sandbox.apis.{emulator}")  # each registers its kinds, as the server imports it
    assert {kind: fields for kind, fields in KINDS.items() if fields} == {
        kind: {field} for kind, field in FIELD_TAKING_KINDS.items()}


def test_the_field_taking_kinds_still_fire_with_their_field(sandbox_url, post_fault):
    assert post_fault({"api": "salesforce", "kind": "slow", "path_contains": "/limits", "seconds": 0.3}).ok
    started = time.monotonic()
    requests.get(f"{sandbox_url}/services/data/v60.0/limits", timeout=10)
    assert time.monotonic() - started >= 0.3

    assert post_fault({"api": "hubspot", "kind": "rate_limit", "retry_after": 42}).ok
    throttled = requests.get(f"{sandbox_url}/crm/v3/objects/contacts", timeout=10)
    assert throttled.status_code == 429 and throttled.headers["Retry-After"] == "42"

    assert post_fault({"api": "meta_ads", "kind": "account_rate_limit", "retry_after": 90}).ok
    throttled = requests.get(f"{sandbox_url}/v21.0/act_1/campaigns", timeout=10)
    assert json.loads(throttled.headers["x-ad-account-usage"])["reset_time_duration"] == 90

    # One account: a threshold of 0 rows refuses the query, a threshold of 1 lets it through (then asks for a token).
    assert post_fault({"api": "salesforce", "kind": "query_timeout", "rows": 0}).ok
    timed_out = requests.get(f"{sandbox_url}/services/data/v60.0/queryAll", params={"q": "SELECT Id FROM Account"},
                             timeout=10)
    assert timed_out.status_code == 400 and timed_out.json()[0]["errorCode"] == "QUERY_TIMEOUT"
    assert post_fault({"api": "salesforce", "kind": "query_timeout", "rows": 1}).ok
    answered = requests.get(f"{sandbox_url}/services/data/v60.0/queryAll", params={"q": "SELECT Id FROM Account"},
                            timeout=10)
    assert answered.status_code == 401


def test_a_rule_that_is_not_a_json_object_is_refused_with_a_400_not_a_server_error(sandbox_url, post_fault):
    answer = post_fault([{"api": "salesforce", "kind": "slow"}])
    assert answer.status_code == 400
    assert answer.json() == {"error": "a fault rule must be a JSON object, got list"}


def test_a_kind_registered_again_with_other_fields_or_with_an_unknown_field_is_refused():
    with pytest.raises(ValueError, match=r"fault kind 'slow' is already registered reading \['seconds'\], not "
                                         r"\['rows'\]"):
        register_kinds("slow", fields={"rows"})
    with pytest.raises(ValueError, match=r"unknown fields \['minutes'\]"):
        register_kinds("a_kind_of_this_test", fields={"minutes"})
    register_kinds("slow", fields={"seconds"})  # the same registration again changes nothing
    assert KINDS["slow"] == {"seconds"} and "a_kind_of_this_test" not in KINDS
    with pytest.raises(TypeError):
        KINDS["slow"] = frozenset()  # read-only: kinds are registered, not edited
