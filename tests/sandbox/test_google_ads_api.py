"""The Google Ads emulator, driven with plain `requests` the way the REST binding is driven."""

from datetime import date, timedelta

import pytest
import requests

from sandbox import auth
from sandbox.apis.google_ads import DEVELOPER_TOKEN
from sandbox.launcher import running_sandbox
from tests.conftest import write_dataset

CUSTOMER, OTHER, CANCELED = "1234567890", "9876543210", "1111111111"
PAGE = 7
DAYS = [(date(2026, 3, 1) + timedelta(days=n)).isoformat() for n in range(30)]
CAMPAIGNS = [
    ("111", "Brand – Search – DE", "ENABLED", "SEARCH"),
    ("222", "Display Retargeting", "PAUSED", "DISPLAY"),
    ("333", "Old Search", "REMOVED", "SEARCH"),
]


def _metric_row(cid: str, campaign: tuple, day_index: int) -> dict:
    campaign_id, name, status, channel = campaign
    impressions = 0 if day_index % 10 == 9 else 1000 + day_index * 10 + int(campaign_id[0])
    return {
        "customer.id": cid,
        "campaign.id": campaign_id,
        "campaign.name": f"{name} (at the time)",
        "campaign.status": status,
        "campaign.advertising_channel_type": channel,
        "segments.date": DAYS[day_index],
        "metrics.impressions": str(impressions),
        "metrics.clicks": str(impressions // 20),
        "metrics.cost_micros": str(impressions * 1_500_000 + 10),
        "metrics.conversions": 1.333333,
        "metrics.conversions_value": 50.25,
    }


def _dataset() -> dict:
    customers = [
        {
            "customer.id": CUSTOMER,
            "customer.descriptive_name": "Acme DE",
            "customer.currency_code": "EUR",
            "customer.time_zone": "Europe/Berlin",
        },
        {
            "customer.id": OTHER,
            "customer.descriptive_name": "Acme US",
            "customer.currency_code": "USD",
            "customer.time_zone": "America/New_York",
        },
        {
            "customer.id": CANCELED,
            "customer.descriptive_name": "Acme FR (closed down)",
            "customer.currency_code": "EUR",
            "customer.time_zone": "Europe/Paris",
            "customer.status": "CANCELED",
        },
    ]
    campaigns = [
        {
            "customer.id": CUSTOMER,
            "campaign.id": c[0],
            "campaign.name": c[1],
            "campaign.status": c[2],
            "campaign.advertising_channel_type": c[3],
        }
        for c in CAMPAIGNS
    ]
    campaigns.append(
        {
            "customer.id": OTHER,
            "campaign.id": "444",
            "campaign.name": "US Search",
            "campaign.status": "ENABLED",
            "campaign.advertising_channel_type": "SEARCH",
        }
    )
    metrics = [_metric_row(CUSTOMER, c, d) for d in range(30) for c in CAMPAIGNS]
    metrics += [_metric_row(OTHER, ("444", "US Search", "ENABLED", "SEARCH"), d) for d in range(30)]
    campaigns.append({"customer.id": CANCELED, "campaign.id": "555", "campaign.name": "FR Search",
                      "campaign.status": "ENABLED", "campaign.advertising_channel_type": "SEARCH"})
    metrics += [_metric_row(CANCELED, ("555", "FR Search", "ENABLED", "SEARCH"), d) for d in range(30)]
    ad_groups = [
        {
            "customer.id": CUSTOMER,
            "campaign.id": "111",
            "ad_group.id": "9001",
            "ad_group.name": "Brand Exact",
            "ad_group.status": "ENABLED",
        }
    ]
    ad_group_metrics = [
        {
            **_metric_row(CUSTOMER, CAMPAIGNS[0], d),
            "ad_group.id": "9001",
            "ad_group.name": "Brand Exact",
            "ad_group.status": "ENABLED",
        }
        for d in range(5)
    ]
    return {
        ("google_ads", "customer"): customers,
        ("google_ads", "campaign"): campaigns,
        ("google_ads", "campaign_metrics"): metrics,
        ("google_ads", "ad_group"): ad_groups,
        ("google_ads", "ad_group_metrics"): ad_group_metrics,
    }


@pytest.fixture(scope="module")
def google(tmp_path_factory):
    folder = write_dataset(tmp_path_factory.mktemp("dataset"), _dataset())
    (folder / "clock.txt").write_text("2026-04-01T06:00:00+00:00\n")
    with running_sandbox(dataset=folder, extra_args=("--page-size", str(PAGE))) as running:
        yield running


def _token(base: str, **overrides) -> requests.Response:
    form = {
        "grant_type": "refresh_token",
        "client_id": auth.CLIENT_ID,
        "client_secret": auth.CLIENT_SECRET,
        "refresh_token": auth.REFRESH_TOKEN,
        **overrides,
    }
    return requests.post(f"{base}/token", data=form, timeout=10)


def _headers(base: str, **extra) -> dict:
    return {
        "Authorization": f"Bearer {_token(base).json()['access_token']}",
        "developer-token": DEVELOPER_TOKEN,
        **extra,
    }


def _call(base, query, method="searchStream", cid=CUSTOMER, headers=None, **body):
    return requests.post(
        f"{base}/v17/customers/{cid}/googleAds:{method}",
        json={"query": query, **body},
        headers=headers or _headers(base),
        timeout=30,
    )


def _stream_rows(response) -> list[dict]:
    assert response.status_code == 200, response.text
    return [row for batch in response.json() for row in batch.get("results", [])]


METRICS_QUERY = (
    "SELECT campaign.id, campaign.name, campaign.status, campaign.advertising_channel_type, segments.date, "
    "metrics.impressions, metrics.clicks, metrics.cost_micros, metrics.conversions, "
    "metrics.conversions_value FROM campaign WHERE segments.date BETWEEN '2026-03-05' AND '2026-03-12'"
)


def test_token_refresh_returns_google_shape_and_rejects_revoked_tokens(google):
    body = _token(google.url).json()
    assert set(body) == {"access_token", "expires_in", "scope", "token_type"}
    assert body["token_type"] == "Bearer" and body["scope"] == "https://www.googleapis.com/auth/adwords"
    assert "refresh_token" not in body
    revoked = _token(google.url, refresh_token="revoked")
    assert revoked.status_code == 400
    assert revoked.json() == {
        "error": "invalid_grant",
        "error_description": "Token has been expired or revoked.",
    }


def test_list_accessible_customers(google):
    response = requests.get(
        f"{google.url}/v17/customers:listAccessibleCustomers", headers=_headers(google.url), timeout=10
    )
    # An account that is not enabled is still listed: only querying it is refused.
    assert response.json() == {"resourceNames": [f"customers/{c}" for c in (CUSTOMER, OTHER, CANCELED)]}
    assert response.headers["request-id"]


def test_stream_encodes_proto3_json_in_batches(google):
    response = _call(google.url, METRICS_QUERY)
    batches = response.json()
    assert all(len(batch["results"]) <= PAGE for batch in batches)
    assert all("queryResourceConsumption" not in batch for batch in batches[:-1])
    assert batches[-1]["queryResourceConsumption"].isdigit()
    assert batches[0]["fieldMask"] == (
        "campaign.id,campaign.name,campaign.status,campaign.advertisingChannelType,"
        "segments.date,metrics.impressions,metrics.clicks,metrics.costMicros,"
        "metrics.conversions,metrics.conversionsValue"
    )
    row = next(
        r
        for r in _stream_rows(response)
        if r["campaign"]["id"] == "111" and r["segments"]["date"] == "2026-03-05"
    )
    assert row == {
        "campaign": {
            "resourceName": f"customers/{CUSTOMER}/campaigns/111",
            "id": "111",
            "name": "Brand – Search – DE",
            "status": "ENABLED",
            "advertisingChannelType": "SEARCH",
        },
        "segments": {"date": "2026-03-05"},
        "metrics": {
            "impressions": "1041",
            "clicks": "52",
            "costMicros": "1561500010",
            "conversions": 1.333333,
            "conversionsValue": 50.25,
        },
    }


def test_date_filter_is_inclusive_and_zero_impression_rows_are_never_returned(google):
    rows = _stream_rows(_call(google.url, METRICS_QUERY))
    dates = {r["segments"]["date"] for r in rows}
    # 2026-03-10 is day index 9: every campaign had zero impressions, so the day is absent entirely.
    assert dates == {
        "2026-03-05",
        "2026-03-06",
        "2026-03-07",
        "2026-03-08",
        "2026-03-09",
        "2026-03-11",
        "2026-03-12",
    }
    assert len(rows) == 7 * 3
    same = _stream_rows(
        _call(
            google.url,
            METRICS_QUERY.replace(
                "BETWEEN '2026-03-05' AND '2026-03-12'", ">= '2026-03-05' AND segments.date <= '2026-03-12'"
            ),
        )
    )
    assert same == rows


def test_search_pages_to_the_end_with_next_page_token(google):
    query = METRICS_QUERY.replace("'2026-03-12'", "'2026-03-31'") + " ORDER BY segments.date, campaign.id"
    headers = _headers(google.url)
    body = _call(google.url, query, "search", headers=headers, returnTotalResultsCount=True).json()
    total = int(body["totalResultsCount"])
    seen, pages = [], 0
    while pages < 50:  # a cursor that never ends fails the test instead of hanging it
        pages += 1
        assert len(body["results"]) <= PAGE
        seen += [(r["campaign"]["id"], r["segments"]["date"]) for r in body["results"]]
        if "nextPageToken" not in body:
            break
        body = _call(google.url, query, "search", headers=headers, pageToken=body["nextPageToken"]).json()
    assert total == 3 * 23 == len(seen) == len(set(seen))
    assert pages == -(-total // PAGE)
    assert seen == sorted(seen, key=lambda pair: (pair[1], pair[0]))


def test_total_count_inside_search_settings_and_tokens_bound_to_the_query(google):
    headers = _headers(google.url)
    body = _call(
        google.url, METRICS_QUERY, "search", headers=headers, searchSettings={"returnTotalResultsCount": True}
    ).json()
    assert body["totalResultsCount"] == "21"
    other = _call(
        google.url,
        "SELECT campaign.id FROM campaign",
        "search",
        headers=headers,
        pageToken=body["nextPageToken"],
    )
    assert other.status_code == 400
    assert other.json()["error"]["details"][0]["errors"][0]["errorCode"] == {
        "requestError": "INVALID_PAGE_TOKEN"
    }
    sized = _call(google.url, METRICS_QUERY, "search", headers=headers, pageSize=100)
    assert sized.json()["error"]["details"][0]["errors"][0]["errorCode"] == {
        "requestError": "PAGE_SIZE_NOT_SUPPORTED"
    }


def test_entity_queries_keep_removed_rows_and_filter_on_status(google):
    headers = _headers(google.url)
    everything = _stream_rows(
        _call(google.url, "SELECT campaign.id, campaign.status FROM campaign", headers=headers)
    )
    assert [r["campaign"]["status"] for r in everything] == ["ENABLED", "PAUSED", "REMOVED"]
    live = _stream_rows(
        _call(
            google.url,
            "SELECT campaign.id FROM campaign WHERE campaign.status != 'REMOVED' "
            "ORDER BY campaign.id DESC LIMIT 1",
            headers=headers,
        )
    )
    assert live == [{"campaign": {"resourceName": f"customers/{CUSTOMER}/campaigns/222", "id": "222"}}]
    listed = _stream_rows(
        _call(
            google.url,
            "SELECT campaign.id FROM campaign WHERE campaign.status IN (ENABLED, 'PAUSED')",
            headers=headers,
        )
    )
    assert [r["campaign"]["id"] for r in listed] == ["111", "222"]
    account = _stream_rows(
        _call(
            google.url,
            "SELECT customer.id, customer.currency_code, customer.time_zone FROM customer",
            headers=headers,
        )
    )
    assert account == [
        {
            "customer": {
                "resourceName": f"customers/{CUSTOMER}",
                "id": CUSTOMER,
                "currencyCode": "EUR",
                "timeZone": "Europe/Berlin",
            }
        }
    ]


def test_metrics_without_date_segment_are_summed_per_campaign(google):
    rows = _stream_rows(
        _call(
            google.url,
            "SELECT campaign.id, metrics.impressions, metrics.cost_micros FROM campaign "
            "WHERE segments.date BETWEEN '2026-03-01' AND '2026-03-02' "
            "AND campaign.id = 111",
        )
    )
    assert rows == [
        {
            "campaign": {"resourceName": f"customers/{CUSTOMER}/campaigns/111", "id": "111"},
            "metrics": {"impressions": str(1001 + 1011), "costMicros": str((1001 + 1011) * 1_500_000 + 20)},
        }
    ]


def test_ad_group_rows_join_current_campaign_attributes(google):
    rows = _stream_rows(
        _call(
            google.url,
            "SELECT ad_group.id, ad_group.name, campaign.name, segments.date, "
            "metrics.clicks FROM ad_group WHERE segments.date DURING LAST_30_DAYS",
        )
    )
    assert len(rows) == 4  # day 0 is 31 days before the clock
    assert rows[0]["adGroup"] == {
        "resourceName": f"customers/{CUSTOMER}/adGroups/9001",
        "id": "9001",
        "name": "Brand Exact",
    }
    assert rows[0]["campaign"]["name"] == "Brand – Search – DE"


def test_query_errors_use_google_ads_failure_bodies(google):
    unknown = _call(google.url, "SELECT campaign.nme FROM campaign", "search")
    assert unknown.status_code == 400
    error = unknown.json()["error"]
    assert error["status"] == "INVALID_ARGUMENT" and error["code"] == 400
    detail = error["details"][0]
    assert detail["@type"] == "type.googleapis.com/google.ads.googleads.v17.errors.GoogleAdsFailure"
    assert detail["errors"][0]["errorCode"] == {"queryError": "UNRECOGNIZED_FIELD"}
    streamed = _call(google.url, "SELECT campaign.nme FROM campaign")
    assert streamed.status_code == 400 and isinstance(streamed.json(), list)
    assert streamed.json()[0]["error"]["details"][0]["errors"][0]["errorCode"] == {
        "queryError": "UNRECOGNIZED_FIELD"
    }
    unbounded = _call(google.url, "SELECT campaign.id, segments.date FROM campaign", "search")
    assert unbounded.json()["error"]["details"][0]["errors"][0]["errorCode"] == {
        "queryError": "EXPECTED_FILTERS_ON_DATE_RANGE"
    }


def _error_code(response) -> dict:
    body = response.json()
    return (body[0] if isinstance(body, list) else body)["error"]["details"][0]["errors"][0]["errorCode"]


def test_campaign_flights_are_v23_date_times_and_the_date_fields_v23_removed_are_unrecognized(google):
    google.upsert("google_ads", "campaign", [
        {"campaign.id": "111", "campaign.start_date_time": "2026-03-01 00:00:00",
         "campaign.end_date_time": "2026-03-31 23:59:59"},
        {"campaign.id": "222", "campaign.start_date_time": "2026-02-01 00:00:00"},  # open-ended
        {"campaign.id": "333", "campaign.start_date": "2026-01-01"},  # a row of an older dataset
    ])
    rows = _stream_rows(_call(google.url, "SELECT campaign.id, campaign.start_date_time, campaign.end_date_time "
                                          "FROM campaign"))
    flights = {row["campaign"]["id"]: row["campaign"] for row in rows}
    assert (flights["111"]["startDateTime"], flights["111"]["endDateTime"]) == ("2026-03-01 00:00:00",
                                                                                "2026-03-31 23:59:59")
    assert flights["222"]["startDateTime"] == "2026-02-01 00:00:00" and "endDateTime" not in flights["222"]
    for removed in ("campaign.start_date", "campaign.end_date"):
        for method in ("search", "searchStream"):
            refused = _call(google.url, f"SELECT campaign.id, {removed} FROM campaign", method)
            assert refused.status_code == 400 and _error_code(refused) == {"queryError": "UNRECOGNIZED_FIELD"}
            assert removed in refused.text
    catalogue = _fields(google.url, "SELECT name, data_type WHERE name LIKE 'campaign.%'").json()["results"]
    types = {row["name"]: row["dataType"] for row in catalogue}
    assert types["campaign.start_date_time"] == types["campaign.end_date_time"] == "DATE"
    assert not {"campaign.start_date", "campaign.end_date"} & set(types)


def test_required_headers(google):
    token = _headers(google.url)["Authorization"]
    missing = _call(
        google.url, "SELECT campaign.id FROM campaign", "search", headers={"Authorization": token}
    )
    assert missing.status_code == 400
    assert missing.json()["error"]["details"][0]["errors"][0]["errorCode"] == {
        "requestError": "DEVELOPER_TOKEN_PARAMETER_MISSING"
    }
    wrong = _call(
        google.url,
        "SELECT campaign.id FROM campaign",
        "search",
        headers={"Authorization": token, "developer-token": "nope"},
    )
    assert wrong.status_code == 401
    dashed = _call(
        google.url,
        "SELECT campaign.id FROM campaign",
        "search",
        headers={
            "Authorization": token,
            "developer-token": DEVELOPER_TOKEN,
            "login-customer-id": "123-456-7890",
        },
    )
    assert dashed.status_code == 400
    assert dashed.json()["error"]["details"][0]["errors"][0]["errorCode"] == {
        "headerError": "INVALID_LOGIN_CUSTOMER_ID"
    }
    ok = _call(
        google.url,
        "SELECT campaign.id FROM campaign",
        "search",
        headers={"Authorization": token, "developer-token": DEVELOPER_TOKEN, "login-customer-id": OTHER},
    )
    assert ok.status_code == 200
    anonymous = _call(
        google.url, "SELECT campaign.id FROM campaign", "search", headers={"developer-token": DEVELOPER_TOKEN}
    )
    assert anonymous.status_code == 401
    assert anonymous.json()["error"]["status"] == "UNAUTHENTICATED"
    stranger = _call(google.url, "SELECT campaign.id FROM campaign", "search", cid="5555555555")
    assert stranger.status_code == 403
    assert stranger.json()["error"]["details"][0]["errors"][0]["errorCode"] == {
        "authorizationError": "USER_PERMISSION_DENIED"
    }


def test_every_query_on_a_customer_that_is_not_enabled_is_refused_as_customer_not_enabled(google):
    queries = ("SELECT customer.id, customer.status FROM customer", "SELECT campaign.id FROM campaign", METRICS_QUERY)
    for query in queries:
        for method in ("search", "searchStream"):
            answer = _call(google.url, query, method, cid=CANCELED)
            assert answer.status_code == 403, (query, method)
            body = answer.json()
            assert isinstance(body, list) == (method == "searchStream")  # bare for search, array for the stream
            error = (body[0] if method == "searchStream" else body)["error"]
            assert (error["code"], error["status"]) == (403, "PERMISSION_DENIED")
            failure = error["details"][0]["errors"][0]
            assert failure == {"errorCode": {"authorizationError": "CUSTOMER_NOT_ENABLED"},
                               "message": "The customer can't be used because it isn't enabled."}
    enabled = _stream_rows(_call(google.url, "SELECT customer.id, customer.status FROM customer", cid=OTHER))
    assert [row["customer"]["id"] for row in enabled] == [OTHER]


def test_rate_limit_is_resource_exhausted_with_retry_delay_bare_or_array_wrapped(google):
    headers = _headers(google.url)
    google.inject(api="google_ads", kind="rate_limit", path_contains=":search", retry_after=37)
    limited = _call(google.url, "SELECT campaign.id FROM campaign", "search", headers=headers)
    assert limited.status_code == 429 and "retry-after" not in limited.headers
    error = limited.json()["error"]
    assert error["status"] == "RESOURCE_EXHAUSTED"
    failure = error["details"][0]["errors"][0]
    assert failure["errorCode"] == {"quotaError": "RESOURCE_EXHAUSTED"}
    assert failure["details"]["quotaErrorDetails"]["retryDelay"] == "37s"
    google.inject(api="google_ads", kind="rate_limit", path_contains=":searchStream", retry_after=5)
    streamed = _call(google.url, "SELECT campaign.id FROM campaign", headers=headers)
    assert streamed.status_code == 429
    assert (
        streamed.json()[0]["error"]["details"][0]["errors"][0]["details"]["quotaErrorDetails"]["retryDelay"]
        == "5s"
    )
    assert _call(google.url, "SELECT campaign.id FROM campaign", headers=headers).status_code == 200


def test_server_error_and_malformed_rows(google):
    headers = _headers(google.url)
    google.inject(api="google_ads", kind="server_error", path_contains=":search")
    unavailable = _call(google.url, "SELECT campaign.id FROM campaign", "search", headers=headers)
    assert unavailable.status_code == 503 and unavailable.json()["error"]["status"] == "UNAVAILABLE"
    google.inject(api="google_ads", kind="malformed", path_contains=":searchStream")
    malformed = _call(google.url, "SELECT campaign.id FROM campaign", headers=headers)
    assert malformed.status_code == 200
    impressions = malformed.json()[0]["results"][0]["metrics"]["impressions"]
    with pytest.raises(ValueError):
        int(impressions)


def test_expired_token_is_unauthenticated_then_refresh_recovers(google):
    headers = _headers(google.url)
    google.inject(api="google_ads", kind="expire_token", path_contains=":search")
    expired = _call(google.url, "SELECT campaign.id FROM campaign", "search", headers=headers)
    assert expired.status_code == 401
    assert expired.json()["error"]["details"][0]["errors"][0]["errorCode"] == {
        "authenticationError": "OAUTH_TOKEN_EXPIRED"
    }
    assert _call(google.url, "SELECT campaign.id FROM campaign", "search").status_code == 200


def _fields(base, query, headers=None) -> requests.Response:
    return requests.post(f"{base}/v17/googleAdsFields:search", json={"query": query},
                         headers=headers or _headers(base), timeout=30)


def test_field_service_lists_selectable_fields_typed_including_ones_only_the_data_has(google):
    google.upsert("google_ads", "campaign", [{"campaign.id": CAMPAIGNS[0][0], "campaign.optimization_score": 0.5}])
    answer = _fields(google.url, "SELECT name, category, data_type, selectable "
                                 "WHERE name LIKE 'campaign.%' AND category = 'ATTRIBUTE'").json()
    by_name = {row["name"]: row for row in answer["results"]}
    assert by_name["campaign.optimization_score"] == {
        "resourceName": "googleAdsFields/campaign.optimization_score", "name": "campaign.optimization_score",
        "category": "ATTRIBUTE", "dataType": "DOUBLE", "selectable": True}
    assert by_name["campaign.id"]["dataType"] == "INT64" and answer["totalResultsCount"] == str(len(by_name))
    assert all(name.startswith("campaign.") for name in by_name)
    selected = _stream_rows(_call(google.url, "SELECT campaign.id, campaign.optimization_score FROM campaign"))
    assert {row["campaign"].get("optimizationScore") for row in selected} >= {0.5}
    every = _fields(google.url, "SELECT name, category").json()["results"]
    assert {row["category"] for row in every} == {"ATTRIBUTE", "METRIC", "SEGMENT"}
    unknown = _fields(google.url, "SELECT name, nonsense WHERE name LIKE 'campaign.%'")
    assert unknown.status_code == 400 and "UNRECOGNIZED_FIELD" in unknown.text
    refused = _fields(google.url, "SELECT name", headers={"Authorization": "Bearer nope",
                                                         "developer-token": DEVELOPER_TOKEN})
    assert refused.status_code == 401
