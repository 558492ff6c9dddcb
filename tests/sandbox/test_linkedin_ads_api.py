"""The LinkedIn Marketing API emulator, driven with plain `requests` and hand-built Rest.li query strings."""

import os
from datetime import date, timedelta
from decimal import Decimal
from urllib.parse import quote

import pytest
import requests

from sandbox import auth
from sandbox.launcher import running_sandbox
from tests.conftest import write_dataset

ACCOUNT, OTHER_ACCOUNT = 508812345, 508899999
VERSION = "202605"
DAYS = [date(2026, 5, 1) + timedelta(days=n) for n in range(31)]
CAMPAIGNS = {  # id: (account, group, status)
    312456781: (ACCOUNT, 7001, "ACTIVE"),
    312456782: (ACCOUNT, 7001, "PAUSED"),
    312456783: (ACCOUNT, 7002, "ARCHIVED"),
    312456784: (ACCOUNT, 7002, "REMOVED"),
    312456785: (ACCOUNT, 7001, "COMPLETED"),
    312456786: (OTHER_ACCOUNT, 7003, "ACTIVE"),
}
ANALYTICS_FIELDS = (
    "dateRange,pivotValues,impressions,clicks,costInLocalCurrency,costInUsd,externalWebsiteConversions"
)


def _cost(campaign_id: int, day: date) -> str:
    return f"{day.day}.{campaign_id % 10}300000000000335346"


def _element(campaign_id: int, day: date) -> dict:
    stamp = {"year": day.year, "month": day.month, "day": day.day}
    return {
        "pivotValues": [f"urn:li:sponsoredCampaign:{campaign_id}"],
        "dateRange": {"start": stamp, "end": stamp},
        "impressions": 1000 + day.day,
        "clicks": 20 + campaign_id % 10,
        "costInLocalCurrency": _cost(campaign_id, day),
        "costInUsd": f"{day.day}.1",
        "externalWebsiteConversions": campaign_id % 3,
        "landingPageClicks": 5,
    }


def _dataset() -> dict:
    accounts = [
        {"id": ACCOUNT, "name": "Acme EMEA", "currency": "EUR", "status": "ACTIVE", "type": "BUSINESS"},
        {"id": OTHER_ACCOUNT, "name": "Acme US", "currency": "USD", "status": "ACTIVE", "type": "BUSINESS"},
        {"id": 508800000, "name": "Closed", "currency": "USD", "status": "REMOVED", "type": "BUSINESS"},
    ]
    groups = [
        {"id": gid, "account": f"urn:li:sponsoredAccount:{acc}", "name": f"Group {gid}", "status": status}
        for gid, acc, status in (
            (7001, ACCOUNT, "ACTIVE"),
            (7002, ACCOUNT, "REMOVED"),
            (7003, OTHER_ACCOUNT, "ACTIVE"),
        )
    ]
    campaigns = [
        {
            "id": cid,
            "account": f"urn:li:sponsoredAccount:{acc}",
            "campaignGroup": f"urn:li:sponsoredCampaignGroup:{gid}",
            "name": f"Campaign {cid}",
            "status": status,
            "type": "SPONSORED_UPDATES",
            "costType": "CPM",
            "dailyBudget": {"amount": "50", "currencyCode": "EUR"},
            "runSchedule": {"start": 1775001600000},
            "changeAuditStamps": {
                "created": {"time": 1775001600000},
                "lastModified": {"time": 1775001600000 + cid % 10},
            },
        }
        for cid, (acc, gid, status) in CAMPAIGNS.items()
    ]
    analytics = [_element(cid, day) for day in DAYS for cid in (312456781, 312456782, 312456784, 312456786)]
    return {
        ("linkedin_ads", "ad_accounts"): accounts,
        ("linkedin_ads", "campaign_groups"): groups,
        ("linkedin_ads", "campaigns"): campaigns,
        ("linkedin_ads", "ad_analytics"): analytics,
    }


def _folder(tmp_path_factory):
    folder = write_dataset(tmp_path_factory.mktemp("dataset"), _dataset())
    (folder / "clock.txt").write_text("2026-06-15T08:00:00+00:00\n")
    return folder


@pytest.fixture(scope="module")
def linkedin(tmp_path_factory):
    with running_sandbox(dataset=_folder(tmp_path_factory)) as running:
        yield running


@pytest.fixture(scope="module")
def capped(tmp_path_factory):
    with pytest.MonkeyPatch.context() as patch:
        patch.setitem(os.environ, "SANDBOX_LINKEDIN_ANALYTICS_CAP", "10")
        with running_sandbox(dataset=_folder(tmp_path_factory)) as running:
            yield running


def _token(base: str, **overrides) -> requests.Response:
    form = {
        "grant_type": "refresh_token",
        "client_id": auth.CLIENT_ID,
        "client_secret": auth.CLIENT_SECRET,
        "refresh_token": auth.REFRESH_TOKEN,
        **overrides,
    }
    return requests.post(f"{base}/oauth/v2/accessToken", data=form, timeout=10)


def _headers(base: str, **extra) -> dict:
    return {
        "Authorization": f"Bearer {_token(base).json()['access_token']}",
        "LinkedIn-Version": VERSION,
        "X-Restli-Protocol-Version": "2.0.0",
        **extra,
    }


def _urn_list(kind: str, *ids: int) -> str:
    return "List(" + ",".join(quote(f"urn:li:{kind}:{i}", safe="") for i in ids) + ")"


def _analytics_query(
    pivot="CAMPAIGN",
    granularity="DAILY",
    start=(2026, 5, 1),
    end=(2026, 5, 31),
    facet=None,
    fields=ANALYTICS_FIELDS,
) -> str:
    facet = facet or f"accounts={_urn_list('sponsoredAccount', ACCOUNT)}"
    date_range = (
        f"(start:(year:{start[0]},month:{start[1]},day:{start[2]}),"
        f"end:(year:{end[0]},month:{end[1]},day:{end[2]}))"
    )
    query = f"q=analytics&pivot={pivot}&timeGranularity={granularity}&dateRange={date_range}&{facet}"
    return query + (f"&fields={fields}" if fields else "")


def _analytics(running, query: str, headers=None) -> requests.Response:
    return requests.get(
        f"{running.url}/rest/adAnalytics?{query}", headers=headers or _headers(running.url), timeout=30
    )


def test_token_refresh_returns_linkedin_shape(linkedin):
    body = _token(linkedin.url).json()
    assert body["refresh_token"] == auth.REFRESH_TOKEN and body["refresh_token_expires_in"] == 25_920_000
    assert body["scope"] == "r_ads,r_ads_reporting" and body["expires_in"] > 0
    bad = _token(linkedin.url, refresh_token="revoked")
    assert bad.status_code == 400 and bad.json()["error"] == "invalid_grant"


def test_daily_campaign_analytics_with_types_and_both_enum_syntaxes(linkedin):
    headers = _headers(linkedin.url)
    response = _analytics(linkedin, _analytics_query(), headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["paging"] == {"start": 0, "count": 10, "links": []}
    elements = body["elements"]
    assert len(elements) == 31 * 3  # the other account's campaign is not under this account
    element = next(
        e
        for e in elements
        if e["pivotValues"] == ["urn:li:sponsoredCampaign:312456782"] and e["dateRange"]["start"]["day"] == 7
    )
    assert element == {
        "pivotValues": ["urn:li:sponsoredCampaign:312456782"],
        "dateRange": {
            "start": {"year": 2026, "month": 5, "day": 7},
            "end": {"year": 2026, "month": 5, "day": 7},
        },
        "impressions": 1007,
        "clicks": 22,
        "costInLocalCurrency": "7.2300000000000335346",
        "costInUsd": "7.1",
        "externalWebsiteConversions": 312456782 % 3,
    }
    wrapped = _analytics(
        linkedin, _analytics_query(pivot="(value:CAMPAIGN)", granularity="(value:DAILY)"), headers
    )
    assert wrapped.json()["elements"] == elements


def test_date_range_is_inclusive_and_fields_decide_date_range_and_pivot_values(linkedin):
    headers = _headers(linkedin.url)
    query = _analytics_query(
        start=(2026, 5, 3),
        end=(2026, 5, 4),
        fields="impressions,clicks",
        facet=f"campaigns={_urn_list('sponsoredCampaign', 312456781)}",
    )
    elements = _analytics(linkedin, query, headers).json()["elements"]
    assert elements == [{"impressions": 1003, "clicks": 21}, {"impressions": 1004, "clicks": 21}]
    default = _analytics(linkedin, query.replace("&fields=impressions,clicks", ""), headers).json()[
        "elements"
    ]
    assert default == elements
    nothing = _analytics(linkedin, _analytics_query(start=(2026, 6, 1), end=(2026, 6, 10)), headers)
    assert nothing.json() == {"paging": {"start": 0, "count": 10, "links": []}, "elements": []}


def test_monthly_account_pivot_sums_money_exactly(linkedin):
    query = _analytics_query(pivot="ACCOUNT", granularity="ALL", start=(2026, 5, 10), end=(2026, 5, 20))
    elements = _analytics(linkedin, query).json()["elements"]
    expected = sum(Decimal(_cost(c, d)) for c in (312456781, 312456782, 312456784) for d in DAYS[9:20])
    assert len(elements) == 1
    assert elements[0]["pivotValues"] == [f"urn:li:sponsoredAccount:{ACCOUNT}"]
    assert Decimal(elements[0]["costInLocalCurrency"]) == expected
    assert elements[0]["costInLocalCurrency"] == str(expected)
    assert elements[0]["impressions"] == 3 * sum(1000 + d.day for d in DAYS[9:20])
    assert elements[0]["dateRange"] == {
        "start": {"year": 2026, "month": 5, "day": 10},
        "end": {"year": 2026, "month": 5, "day": 20},
    }


def test_rest_li_syntax_errors_and_metric_cap(linkedin):
    headers = _headers(linkedin.url)
    encoded = requests.get(
        f"{linkedin.url}/rest/adAnalytics",
        headers=headers,
        timeout=10,
        params={
            "q": "analytics",
            "pivot": "CAMPAIGN",
            "timeGranularity": "DAILY",
            "accounts": f"List(urn:li:sponsoredAccount:{ACCOUNT})",
            "dateRange": "(start:(year:2026,month:5,day:1))",
        },
    )
    assert encoded.status_code == 400
    assert encoded.json()["errorDetails"]["inputErrors"][0]["code"] == "PARAM_INVALID"
    unencoded_urn = _analytics(
        linkedin, _analytics_query(facet=f"accounts=List(urn:li:sponsoredAccount:{ACCOUNT})"), headers
    )
    assert unencoded_urn.status_code == 400
    many = ",".join(
        [
            "impressions",
            "clicks",
            "costInLocalCurrency",
            "costInUsd",
            "externalWebsiteConversions",
            "landingPageClicks",
            "likes",
            "comments",
            "shares",
            "follows",
            "reactions",
            "otherEngagements",
            "oneClickLeads",
            "videoViews",
            "videoStarts",
            "videoCompletions",
            "actionClicks",
            "adUnitClicks",
            "sends",
            "opens",
            "registrations",
        ]
    )
    assert (
        _analytics(linkedin, _analytics_query(fields="dateRange,pivotValues," + many), headers).status_code
        == 400
    )
    twenty = many.rsplit(",", 1)[0]
    ok = _analytics(linkedin, _analytics_query(fields="dateRange,pivotValues," + twenty), headers)
    assert ok.status_code == 200 and ok.json()["elements"][0]["likes"] == 0


def test_analytics_truncates_silently_at_the_cap(capped):
    elements = _analytics(capped, _analytics_query()).json()["elements"]
    assert len(elements) == 10
    assert [e["dateRange"]["start"]["day"] for e in elements] == [1, 1, 1, 2, 2, 2, 3, 3, 3, 4]


def test_query_tunnelling_with_method_override(linkedin):
    headers = _headers(
        linkedin.url, **{"X-HTTP-Method-Override": "GET", "Content-Type": "application/x-www-form-urlencoded"}
    )
    tunnelled = requests.post(
        f"{linkedin.url}/rest/adAnalytics", data=_analytics_query(), headers=headers, timeout=30
    )
    assert tunnelled.status_code == 200 and len(tunnelled.json()["elements"]) == 93


def test_required_headers_and_auth_errors(linkedin):
    headers = _headers(linkedin.url)
    url = f"{linkedin.url}/rest/adAccounts?q=search"
    no_version = requests.get(
        url, headers={k: v for k, v in headers.items() if k != "LinkedIn-Version"}, timeout=10
    )
    assert no_version.status_code == 400 and no_version.json()["code"] == "VERSION_MISSING"
    sunset = requests.get(url, headers={**headers, "LinkedIn-Version": "202401"}, timeout=10)
    assert sunset.status_code == 426
    assert sunset.json() == {
        "status": 426,
        "code": "NONEXISTENT_VERSION",
        "message": "Requested version 202401 is not active",
    }
    no_restli = requests.get(
        url, headers={k: v for k, v in headers.items() if k != "X-Restli-Protocol-Version"}, timeout=10
    )
    assert no_restli.status_code == 400
    bad_token = requests.get(url, headers={**headers, "Authorization": "Bearer nope"}, timeout=10)
    assert bad_token.status_code == 401
    assert bad_token.json() == {
        "status": 401,
        "serviceErrorCode": 65600,
        "code": "INVALID_ACCESS_TOKEN",
        "message": "Invalid access token",
    }
    linkedin.inject(api="linkedin_ads", kind="expire_token", path_contains="/rest/adAccounts")
    assert requests.get(url, headers=headers, timeout=10).status_code == 401


def test_campaign_search_omits_removed_by_default_and_pages_with_next_page_token(linkedin):
    headers = _headers(linkedin.url)
    base = f"{linkedin.url}/rest/adAccounts/{ACCOUNT}/adCampaigns?q=search&pageSize=2"
    seen, pages, body = [], 0, requests.get(base, headers=headers, timeout=10).json()
    while pages < 50:  # a cursor that never ends fails the test instead of hanging it
        pages += 1
        seen += [e["id"] for e in body["elements"]]
        token = body["metadata"].get("nextPageToken")
        if not token:
            break
        body = requests.get(f"{base}&pageToken={token}", headers=headers, timeout=10).json()
    assert pages == 2 and seen == [312456781, 312456782, 312456783, 312456785]
    every_status = "ACTIVE,PAUSED,ARCHIVED,COMPLETED,CANCELED,DRAFT,PENDING_DELETION,REMOVED"
    statuses = f"search=(status:(values:List({every_status})))"
    everything = requests.get(
        f"{linkedin.url}/rest/adAccounts/{ACCOUNT}/adCampaigns?q=search&{statuses}",
        headers=headers,
        timeout=10,
    ).json()
    assert [e["status"] for e in everything["elements"]] == [
        "ACTIVE",
        "PAUSED",
        "ARCHIVED",
        "REMOVED",
        "COMPLETED",
    ]
    assert everything["elements"][0]["dailyBudget"] == {"amount": "50", "currencyCode": "EUR"}
    assert everything["metadata"] == {}
    groups = requests.get(
        f"{linkedin.url}/rest/adAccounts/{ACCOUNT}/adCampaignGroups?q=search", headers=headers, timeout=10
    ).json()
    assert [g["id"] for g in groups["elements"]] == [7001]
    accounts = requests.get(f"{linkedin.url}/rest/adAccounts?q=search", headers=headers, timeout=10).json()
    assert [a["id"] for a in accounts["elements"]] == [ACCOUNT, OTHER_ACCOUNT]


def test_throttle_and_server_errors_use_linkedin_bodies(linkedin):
    headers = _headers(linkedin.url)
    linkedin.inject(api="linkedin_ads", kind="rate_limit", path_contains="/rest/adAnalytics")
    throttled = _analytics(linkedin, _analytics_query(), headers)
    assert throttled.status_code == 429
    assert throttled.json() == {
        "status": 429,
        "serviceErrorCode": 101,
        "code": "TOO_MANY_REQUESTS",
        "message": "Resource level throttle APPLICATION DAY limit for calls to this resource is reached.",
    }
    linkedin.inject(api="linkedin_ads", kind="server_error", path_contains="/rest/adAnalytics", times=2)
    assert _analytics(linkedin, _analytics_query(), headers).status_code == 503
    assert _analytics(linkedin, _analytics_query(), headers).status_code == 504
    assert _analytics(linkedin, _analytics_query(), headers).status_code == 200
