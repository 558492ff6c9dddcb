"""Credentials stay out of error text in the forms they take there: escaped, cut short, refused in a header, or
in a process that never built a client (the one whose sensors post alerts)."""

import os
import subprocess
import sys
from pathlib import Path

import dagster as dg
import pytest

from connectors.errors import SourceError
from connectors.http import HttpClient, RetryPolicy
from connectors.redact import excerpt, redact, register_secret
from pipelines.lib.sources import GoogleAdsResource, HubSpotResource

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def test_a_secret_ending_in_a_line_break_is_masked_as_a_repr_and_as_json_show_it():
    register_secret("DEVTOKEN-masking-1\r\n")
    refused = "Invalid return character(s) in header value: 'DEVTOKEN-masking-1\\r\\n'"
    assert "DEVTOKEN-masking-1" not in redact(refused)
    assert "DEVTOKEN-masking-1" not in redact('{"developer_token": "DEVTOKEN-masking-1\\r\\n"}')
    assert "DEVTOKEN-masking-1" not in redact("token DEVTOKEN-masking-1 (trimmed)")


def test_an_excerpt_masks_a_secret_its_cut_would_split():
    register_secret("1//REFRESH-masking-2-abcdef")
    body = '{"error": "invalid_grant", "echo": "' + "x" * 250 + '1//REFRESH-masking-2-abcdef"}'
    assert "1//REFRESH" not in excerpt(body, 300)
    assert "1//REFRESH" in body[:300]  # a plain cut would have kept the secret's start


def test_a_header_http_refuses_is_a_source_error_that_names_the_cause_not_the_token():
    token = "ya29.masking-3-token"
    register_secret(token)
    client = HttpClient(source="google_ads", policy=RetryPolicy(max_attempts=1),
                        authorize=lambda headers: headers.update(Authorization=f"Bearer {token}\n"))
    with pytest.raises(SourceError) as raised:
        client.get_json("http://127.0.0.1:9/v1/customers")
    assert "InvalidHeader" in str(raised.value) and "line break" in str(raised.value)
    assert "masking-3" not in str(raised.value)
    assert raised.value.__cause__ is None and raised.value.__suppress_context__  # requests' text is not chained


def test_source_settings_from_the_environment_lose_surrounding_whitespace(monkeypatch):
    monkeypatch.setenv("GOOGLE_ADS_DEVELOPER_TOKEN", "DEVTOKEN-masking-4\r\n")
    monkeypatch.setenv("GOOGLE_ADS_CUSTOMER_IDS", " 123-456-7890 \n")
    assert HubSpotResource(client_secret=" secret\n").client_secret == "secret"
    with dg.build_resources({"google_ads": GoogleAdsResource.from_environment()}) as resources:
        assert resources.google_ads.client().developer_token == "DEVTOKEN-masking-4"
        assert resources.google_ads.account_ids == "123-456-7890"


def test_loading_the_definitions_registers_every_configured_secret_for_masking():
    # a fresh process, as the daemon's: it loads the definitions, never builds a client, and redacts alert text
    secrets = {"SALESFORCE_CLIENT_SECRET": "sf-masking-5-secret", "HUBSPOT_REFRESH_TOKEN": "hs-masking-5-refresh",
               "GOOGLE_ADS_DEVELOPER_TOKEN": "gads-masking-5-devtoken", "META_ADS_APP_SECRET": "meta-masking-5-app",
               "META_ADS_ACCESS_TOKEN": "meta-masking-5-access", "LINKEDIN_ADS_CLIENT_SECRET": "li-masking-5-secret",
               "ALERT_WEBHOOK_URL": "https://hooks.example/masking-5-hook"}
    text = " ".join(secrets.values())
    script = ("import sys\nfrom pipelines.defs.resources import defs\nfrom connectors.redact import redact\n"
              "defs()\nprint(redact(sys.stdin.read()))")
    shown = subprocess.run([sys.executable, "-c", script], input=text, capture_output=True, text=True, check=True,
                           cwd=PROJECT_ROOT, env={**os.environ, **secrets}).stdout
    assert "masking-5" not in shown, shown
    assert shown.split() == ["***"] * len(secrets)
