"""The Meta Marketing API emulator, driven with plain `requests` the way the Graph API is driven."""

import json
from datetime import date, timedelta
from decimal import Decimal
from urllib.parse import parse_qs, urlparse

import pytest
import requests

from sandbox import auth
from sandbox.launcher import running_sandbox
from tests.conftest import write_dataset

ACCOUNT = "104857600123456"
BASE = "/v19.0"
DAYS = [(date(2026, 3, 1) + timedelta(days=n)).isoformat() for n in range(10)]
CAMPAIGNS = {
    "120208811223340001": "ACTIVE",
    "120208811223340002": "PAUSED",
    "120208811223340003": "DELETED",
    "120208811223340004": "ARCHIVED",
}
ADSETS = {  # adset id: (campaign id, effective status)
    "120208811223350001": ("120208811223340001", "ACTIVE"),
    "120208811223350002": ("120208811223340001", "ACTIVE"),
    "120208811223350003": ("120208811223340002", "PAUSED"),
    "120208811223350004": ("120208811223340003", "DELETED"),
}


def _insight(adset_id: str, day_index: int) -> dict:
    campaign_id = ADSETS[adset_id][0]
    dark = day_index == 6 and adset_id.endswith("2")
    impressions = 0 if dark else 1000 + day_index * 7 + int(adset_id[-1])
    row = {
        "account_id": ACCOUNT,
        "account_currency": "EUR",
        "campaign_id": campaign_id,
        "campaign_name": f"name of {campaign_id}",
        "adset_id": adset_id,
        "adset_name": f"adset {adset_id[-1]}",
        "date_start": DAYS[day_index],
        "date_stop": DAYS[day_index],
        "impressions": str(impressions),
        "reach": str(impressions - 100 if impressions else 0),
        "clicks": str(impressions // 50),
        "spend": "0.00" if dark else f"{10 + day_index}.{int(adset_id[-1]) * 3:02d}",
    }
    if day_index % 2 == 0 and not dark:
        row["actions"] = [
            {"action_type": "link_click", "value": str(day_index + 3)},
            {"action_type": "lead", "value": "1"},
        ]
        row["action_values"] = [{"action_type": "offsite_conversion.fb_pixel_lead", "value": "9.5"}]
    return row


def _dataset() -> dict:
    accounts = [
        {
            "id": f"act_{ACCOUNT}",
            "account_id": ACCOUNT,
            "name": "Acme EU",
            "currency": "EUR",
            "timezone_name": "Europe/Berlin",
            "account_status": 1,
        },
        {
            "id": "act_222",
            "account_id": "222",
            "name": "Acme US",
            "currency": "USD",
            "timezone_name": "America/Los_Angeles",
            "account_status": 1,
        },
    ]
    campaigns = [
        {
            "id": cid,
            "account_id": ACCOUNT,
            "name": f"name of {cid}",
            "objective": "OUTCOME_LEADS",
            "status": status if status != "ARCHIVED" else "PAUSED",
            "effective_status": status,
            "created_time": "2026-01-05T10:00:00-0700",
            "updated_time": f"2026-03-0{n + 1}T10:00:00-0700",
            "daily_budget": "15000",
        }
        for n, (cid, status) in enumerate(CAMPAIGNS.items())
    ]
    adsets = [
        {
            "id": aid,
            "account_id": ACCOUNT,
            "campaign_id": cid,
            "name": f"adset {aid[-1]}",
            "status": status,
            "effective_status": status,
        }
        for aid, (cid, status) in ADSETS.items()
    ]
    insights = [_insight(aid, d) for d in range(10) for aid in ADSETS]
    return {
        ("meta_ads", "ad_accounts"): accounts,
        ("meta_ads", "campaigns"): campaigns,
        ("meta_ads", "adsets"): adsets,
        ("meta_ads", "adset_insights"): insights,
    }


@pytest.fixture(scope="module")
def meta(tmp_path_factory):
    folder = write_dataset(tmp_path_factory.mktemp("dataset"), _dataset())
    (folder / "clock.txt").write_text("2026-03-11T09:00:00+00:00\n")
    with running_sandbox(dataset=folder) as running:
        yield running


def _exchange(base: str, **overrides) -> requests.Response:
    params = {
        "grant_type": "fb_exchange_token",
        "client_id": auth.CLIENT_ID,
        "client_secret": auth.CLIENT_SECRET,
        "fb_exchange_token": auth.REFRESH_TOKEN,
        **overrides,
    }
    return requests.get(f"{base}/oauth/access_token", params=params, timeout=10)


@pytest.fixture(scope="module")
def token(meta) -> str:
    return _exchange(meta.url).json()["access_token"]


def _get(meta, path: str, token: str, **params) -> requests.Response:
    return requests.get(f"{meta.url}{BASE}{path}", params={"access_token": token, **params}, timeout=30)


def _insights(meta, token, **params) -> requests.Response:
    params.setdefault("time_range", json.dumps({"since": "2026-03-01", "until": "2026-03-10"}))
    return _get(meta, f"/act_{ACCOUNT}/insights", token, **params)


def _follow(first: requests.Response) -> tuple[list[dict], list[dict]]:
    """Every row and every page body, following paging.next to the end."""
    rows, pages, body = [], [], first.json()
    while len(pages) < 100:  # a cursor that never ends fails the test instead of hanging it
        pages.append(body)
        rows += body["data"]
        following = body.get("paging", {}).get("next")
        if not following:
            return rows, pages
        body = requests.get(following, timeout=30).json()
    raise AssertionError("paging.next never went away")


def test_long_lived_token_exchange(meta):
    body = _exchange(meta.url).json()
    assert (
        body["token_type"] == "bearer" and body["expires_in"] > 0 and body["access_token"].startswith("EAAB")
    )
    wrong = _exchange(meta.url, client_secret="nope")
    assert wrong.status_code == 400 and wrong.json()["error"]["type"] == "OAuthException"
    refresh_as_access = _get(meta, f"/act_{ACCOUNT}", auth.REFRESH_TOKEN)
    assert refresh_as_access.status_code == 400 and refresh_as_access.json()["error"]["code"] == 190
    missing = requests.get(f"{meta.url}{BASE}/act_{ACCOUNT}", timeout=10)
    assert missing.json()["error"]["code"] == 104


def test_account_node_and_my_accounts(meta, token):
    account = _get(meta, f"/act_{ACCOUNT}", token, fields="name,currency,timezone_name").json()
    assert account == {
        "id": f"act_{ACCOUNT}",
        "name": "Acme EU",
        "currency": "EUR",
        "timezone_name": "Europe/Berlin",
    }
    mine = _get(meta, "/me/adaccounts", token, fields="account_id,currency").json()
    assert [a["account_id"] for a in mine["data"]] == [ACCOUNT, "222"]
    bearer = requests.get(
        f"{meta.url}{BASE}/act_{ACCOUNT}", headers={"Authorization": f"Bearer {token}"}, timeout=10
    )
    assert bearer.status_code == 200
    unknown = _get(meta, "/act_999", token).json()["error"]
    assert (unknown["code"], unknown["error_subcode"], unknown["type"]) == (100, 33, "GraphMethodException")


def test_campaign_listing_hides_deleted_and_archived_and_pages_with_next_urls(meta, token):
    first = _get(
        meta, f"/act_{ACCOUNT}/campaigns", token, fields="name,effective_status,daily_budget", limit=1
    )
    rows, pages = _follow(first)
    assert [r["effective_status"] for r in rows] == ["ACTIVE", "PAUSED"]
    assert rows[0]["daily_budget"] == "15000"
    # Pages window over every campaign and drop the hidden ones afterwards: empty pages still carry `next`.
    assert len(pages) == 4 and pages[2]["data"] == [] and "next" in pages[2]["paging"]
    assert "next" not in pages[-1]["paging"]
    query = parse_qs(urlparse(pages[0]["paging"]["next"]).query)
    assert query["access_token"] == [token] and query["limit"] == ["1"]
    everything = _get(
        meta,
        f"/act_{ACCOUNT}/campaigns",
        token,
        fields="effective_status",
        filtering=json.dumps(
            [
                {
                    "field": "campaign.effective_status",
                    "operator": "IN",
                    "value": ["ACTIVE", "PAUSED", "DELETED", "ARCHIVED"],
                }
            ]
        ),
    )
    assert len(everything.json()["data"]) == 4
    recent = _get(
        meta,
        f"/act_{ACCOUNT}/campaigns",
        token,
        effective_status='["DELETED","ARCHIVED"]',
        filtering=json.dumps(
            [{"field": "campaign.updated_time", "operator": "GREATER_THAN", "value": 1772557200}]
        ),
    )
    assert [r["id"] for r in recent.json()["data"]] == ["120208811223340004"]


def test_adset_daily_insights_are_strings_without_empty_actions_or_dark_days(meta, token):
    rows, _ = _follow(
        _insights(
            meta,
            token,
            level="adset",
            time_increment=1,
            limit=500,
            fields="adset_id,campaign_id,impressions,reach,clicks,spend,actions,action_values",
        )
    )
    assert {r["date_start"] for r in rows} == set(DAYS)
    assert all(r["date_start"] == r["date_stop"] for r in rows)
    assert len(rows) == 10 * 3 - 1  # the deleted ad set is hidden; one ad set had a dark day
    assert not any(r["adset_id"] == "120208811223350002" and r["date_start"] == DAYS[6] for r in rows)
    for row in rows:
        assert all(isinstance(row[k], str) for k in ("impressions", "reach", "clicks", "spend"))
        assert ("actions" in row) == (DAYS.index(row["date_start"]) % 2 == 0)
        assert "campaign_name" not in row
    first = next(r for r in rows if r["adset_id"] == "120208811223350001" and r["date_start"] == DAYS[0])
    assert first == {
        "adset_id": "120208811223350001",
        "campaign_id": "120208811223340001",
        "impressions": "1001",
        "reach": "901",
        "clicks": "20",
        "spend": "10.03",
        "actions": [{"action_type": "link_click", "value": "3"}, {"action_type": "lead", "value": "1"}],
        "action_values": [{"action_type": "offsite_conversion.fb_pixel_lead", "value": "9.5"}],
        "date_start": DAYS[0],
        "date_stop": DAYS[0],
    }


def test_campaign_level_sums_adset_rows_exactly_and_merges_actions(meta, token):
    rows, _ = _follow(
        _insights(
            meta,
            token,
            level="campaign",
            time_increment=1,
            limit=100,
            time_range=json.dumps({"since": DAYS[2], "until": DAYS[2]}),
            fields="campaign_id,campaign_name,impressions,spend,actions,ctr",
        )
    )
    assert [r["campaign_id"] for r in rows] == ["120208811223340001", "120208811223340002"]
    brand = rows[0]
    sources = [_insight(a, 2) for a in ("120208811223350001", "120208811223350002")]
    assert brand["spend"] == str(sum(Decimal(s["spend"]) for s in sources)) == "24.09"
    assert brand["impressions"] == str(sum(int(s["impressions"]) for s in sources))
    assert brand["actions"] == [
        {"action_type": "link_click", "value": "10"},
        {"action_type": "lead", "value": "2"},
    ]
    assert brand["campaign_name"] == "name of 120208811223340001"
    assert brand["ctr"] == "1.969473"


def test_insights_paging_to_the_end_and_deleted_only_with_filtering(meta, token):
    first = _insights(meta, token, level="adset", time_increment=1, limit=7, fields="adset_id,spend")
    rows, pages = _follow(first)
    keys = [(r["adset_id"], r["date_start"]) for r in rows]
    assert len(keys) == len(set(keys)) == 29 and len(pages) == 5
    assert all(len(p["data"]) == 7 for p in pages[:-1]) and "next" not in pages[-1]["paging"]
    assert pages[-1]["paging"]["cursors"]["after"]
    with_deleted = _insights(
        meta,
        token,
        level="adset",
        time_increment=1,
        limit=500,
        fields="adset_id",
        filtering=json.dumps(
            [
                {
                    "field": "adset.effective_status",
                    "operator": "IN",
                    "value": ["ACTIVE", "PAUSED", "DELETED", "ARCHIVED"],
                }
            ]
        ),
    )
    assert len(with_deleted.json()["data"]) == 39
    totals = _insights(meta, token, fields="impressions,spend").json()["data"]
    assert len(totals) == 1 and totals[0]["date_start"] == DAYS[0] and totals[0]["date_stop"] == DAYS[-1]


def test_async_report_run_flow(meta, token):
    run_id = _start_report_run(meta, token)
    early = _get(meta, f"/{run_id}/insights", token)
    assert early.status_code == 400
    statuses = [_get(meta, f"/{run_id}", token).json() for _ in range(3)]
    assert [s["async_status"] for s in statuses] == ["Job Running", "Job Running", "Job Completed"]
    assert statuses[0]["async_percent_completion"] < 100 == statuses[2]["async_percent_completion"]
    assert statuses[2]["id"] == run_id and statuses[2]["account_id"] == ACCOUNT
    report_rows, pages = _follow(_get(meta, f"/{run_id}/insights", token, limit=10))
    assert len(pages) == 3 and "next" not in pages[-1]["paging"]
    assert pages[0]["paging"]["next"].startswith(f"{meta.url}{BASE}/{run_id}/insights?")
    sync_rows, _ = _follow(
        _insights(meta, token, level="adset", time_increment=1, fields="adset_id,spend", limit=500)
    )
    assert report_rows == sync_rows


def test_usage_headers_and_throttling_as_http_400(meta, token):
    normal = _insights(meta, token)
    usage = json.loads(normal.headers["x-business-use-case-usage"])
    assert usage[ACCOUNT][0]["type"] == "ads_insights"
    assert "acc_id_util_pct" in json.loads(normal.headers["x-fb-ads-insights-throttle"])
    meta.inject(api="meta_ads", kind="rate_limit", path_contains="/insights", retry_after=12)
    throttled = _insights(meta, token)
    assert throttled.status_code == 400
    error = throttled.json()["error"]
    assert (error["code"], error["error_subcode"], error["is_transient"], error["type"]) == (
        80000,
        2446079,
        True,
        "OAuthException",
    )
    assert error["fbtrace_id"]
    header = json.loads(throttled.headers["x-business-use-case-usage"])[ACCOUNT][0]
    assert header["estimated_time_to_regain_access"] == 12 and header["call_count"] == 100
    meta.inject(api="meta_ads", kind="rate_limit", path_contains="/campaigns")
    assert _get(meta, f"/act_{ACCOUNT}/campaigns", token).json()["error"]["code"] == 80004


def test_app_and_account_throttles_come_without_a_business_use_case_header(meta, token):
    meta.inject(api="meta_ads", kind="app_rate_limit", path_contains="/insights")
    app = _insights(meta, token)
    error = app.json()["error"]
    assert (app.status_code, error["code"], error["error_subcode"], error["is_transient"]) == (400, 4, 1504022, True)
    assert json.loads(app.headers["x-app-usage"])["call_count"] == 100
    assert "x-business-use-case-usage" not in app.headers and "x-ad-account-usage" not in app.headers

    meta.inject(api="meta_ads", kind="account_rate_limit", path_contains="/campaigns", retry_after=90)
    account = _get(meta, f"/act_{ACCOUNT}/campaigns", token)
    error = account.json()["error"]
    assert (account.status_code, error["code"], error["error_subcode"]) == (400, 613, 1487742)
    usage = json.loads(account.headers["x-ad-account-usage"])
    assert (usage["acc_id_util_pct"], usage["reset_time_duration"]) == (100, 90)  # seconds, unlike the BUC minutes
    assert "x-business-use-case-usage" not in account.headers and "x-app-usage" not in account.headers
    assert _insights(meta, token).status_code == 200  # each rule fired once


def test_expired_token_server_errors_and_bad_fields(meta):
    token = _exchange(meta.url).json()["access_token"]
    meta.inject(api="meta_ads", kind="server_error", path_contains="/campaigns", times=2)
    first = _get(meta, f"/act_{ACCOUNT}/campaigns", token)
    assert first.status_code == 500 and (
        first.json()["error"]["code"],
        first.json()["error"]["error_subcode"],
    ) == (1, 99)
    second = _get(meta, f"/act_{ACCOUNT}/campaigns", token).json()["error"]
    assert (second["code"], second["is_transient"]) == (2, True)
    bad = _get(meta, f"/act_{ACCOUNT}/campaigns", token, fields="id,nmae").json()["error"]
    assert bad["code"] == 100 and "nmae" in bad["message"]
    meta.inject(api="meta_ads", kind="expire_token", path_contains="/campaigns")
    expired = _get(meta, f"/act_{ACCOUNT}/campaigns", token)
    assert expired.status_code == 400
    assert (expired.json()["error"]["code"], expired.json()["error"]["error_subcode"]) == (190, 463)


def test_introspection_lists_the_fields_of_each_node_type_including_ones_only_the_data_has(meta):
    token = _exchange(meta.url).json()["access_token"]  # the module's token was expired by the test before
    campaign = next(iter(CAMPAIGNS))
    meta.upsert("meta_ads", "campaigns", [{"id": campaign, "smart_promotion_type": "GUIDED_CREATION"}])
    node = _get(meta, f"/{campaign}", token, fields="id", metadata="1").json()
    fields = {entry["name"]: entry["type"] for entry in node["metadata"]["fields"]}
    assert node["id"] == campaign and node["metadata"]["type"] == "campaign"
    assert fields["smart_promotion_type"] == "string" and {"objective", "effective_status"} <= set(fields)
    assert "timezone_name" not in fields  # an ad account's field, not a campaign's
    account = _get(meta, f"/act_{ACCOUNT}", token, fields="id", metadata="1").json()["metadata"]
    assert account["type"] == "adaccount" and {"currency", "timezone_name"} <= {f["name"] for f in account["fields"]}
    requested = _get(meta, f"/{campaign}", token, fields="smart_promotion_type").json()
    assert requested == {"id": campaign, "smart_promotion_type": "GUIDED_CREATION"}
    assert "metadata" not in _get(meta, f"/{campaign}", token, fields="id").json()


def _start_report_run(meta, token: str) -> str:
    """Start a report run of the adset insights of the account's first ten days; its id."""
    params = {
        "access_token": token,
        "level": "adset",
        "time_increment": "1",
        "fields": "adset_id,spend",
        "time_range": json.dumps({"since": DAYS[0], "until": DAYS[9]}),
    }
    started = requests.post(f"{meta.url}{BASE}/act_{ACCOUNT}/insights", data=params, timeout=30)
    assert started.status_code == 200, started.text
    return started.json()["report_run_id"]


def test_report_run_faults_end_the_run_failed_or_skipped_without_results(meta):
    token = _exchange(meta.url).json()["access_token"]
    runs = f"act_{ACCOUNT}/insights"
    try:
        meta.inject(api="meta_ads", kind="report_run_failed", path_contains=runs)
        meta.inject(api="meta_ads", kind="report_run_skipped", path_contains=runs)
        failed, skipped = _start_report_run(meta, token), _start_report_run(meta, token)
        statuses = [_get(meta, f"/{failed}", token).json() for _ in range(4)]
        assert [s["async_status"] for s in statuses] == ["Job Running", "Job Running", "Job Failed", "Job Failed"]
        ended = statuses[-1]
        assert (ended["id"], ended["account_id"], ended["date_start"], ended["date_stop"]) == (
            failed, ACCOUNT, DAYS[0], DAYS[9])
        assert (ended["error_code"], ended["error_subcode"], ended["error_message"]) == (-2, 2490547, "Report Failed")
        assert ended["async_percent_completion"] < 100 and not ended["is_running"] and "time_completed" not in ended
        assert _get(meta, f"/{failed}/insights", token).status_code == 400  # a failed run has no results
        skipped_status = [_get(meta, f"/{skipped}", token).json() for _ in range(3)][-1]
        assert skipped_status["async_status"] == "Job Skipped" and "error_code" not in skipped_status
        # Each rule fired once: the next run completes. A sync request a rule matches is answered as usual.
        completed = _start_report_run(meta, token)
        assert [_get(meta, f"/{completed}", token).json()["async_status"] for _ in range(3)][-1] == "Job Completed"
        meta.inject(api="meta_ads", kind="report_run_failed", path_contains=runs)
        assert _insights(meta, token, level="adset", time_increment=1).json()["data"]
        after_sync = _start_report_run(meta, token)
        assert [_get(meta, f"/{after_sync}", token).json()["async_status"] for _ in range(3)][-1] == "Job Completed"
    finally:
        meta.clear_faults()
