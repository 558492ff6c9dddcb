"""`SalesforceClient.source_keys` listed in slices of SystemModstamp (``QUERY_TIMEOUT``) while a record is edited.

A record edited during the listing gets a new stamp past the range the slices cover; a listing that missed it would
have the loader's reconciliation flag it vanished although it is live. Everything runs for real: the sandbox over HTTP
(its ``query_timeout`` fault, records upserted mid-listing), the connector, and the raw loader into DuckDB.
"""

from datetime import UTC, datetime, timedelta

import pytest

from connectors.http import RetryPolicy
from connectors.salesforce.client import SalesforceClient
from connectors.salesforce.streams import ACCOUNT
from pipelines.lib.key_reconciliation import RECONCILIATION_SETTING, VANISHED_COLUMN
from pipelines.lib.raw_loader import load_streams
from sandbox import auth
from sandbox.launcher import running_sandbox
from tests.conftest import salesforce_account, write_dataset
from tests.support.warehouse import warehouse_rows

ACCOUNTS = 3000
PAGE_SIZE = 500
FIRST_STAMP = datetime(2026, 1, 1, tzinfo=UTC)
STAMP_STEP = timedelta(seconds=90)
#: The sandbox's clock (its ``Date``), shortly after the newest record.
CLOCK = datetime(2026, 1, 4, 3, 0, tzinfo=UTC)
#: The records of one day (960): the most a query may match before the sandbox's fault refuses it.
A_DAYS_ROWS = timedelta(days=1) // STAMP_STEP
#: A record of the newest quarter of the object: a slice read last, after the edit.
EDITED = 2900


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "+0000"


@pytest.fixture
def org(tmp_path):
    records = [salesforce_account(n, SystemModstamp=_stamp(FIRST_STAMP + STAMP_STEP * n)) for n in range(ACCOUNTS)]
    folder = write_dataset(tmp_path / "dataset", {("salesforce", "Account"): records})
    (folder / "clock.txt").write_text(CLOCK.isoformat() + "\n")
    with running_sandbox(dataset=folder, extra_args=("--page-size", str(PAGE_SIZE))) as running:
        yield running


def _client(url: str) -> SalesforceClient:
    return SalesforceClient(login_url=url, client_id=auth.CLIENT_ID, client_secret=auth.CLIENT_SECRET,
                            refresh_token=auth.REFRESH_TOKEN, policy=RetryPolicy(backoff_base=0.01, max_attempts=3))


def _account_id(number: int) -> str:
    return salesforce_account(number)["Id"]


def _refuse_queries(org, refused_mid_read: bool) -> None:
    """Have the key listing run in slices: its ``SELECT Id`` refused at once, then either every query of more than
    a day's records (the whole range sliced in quarters) or the third page of the whole object's query."""
    if refused_mid_read:
        org.inject(api="salesforce", kind="query_timeout", path_contains="/queryAll", rows=ACCOUNTS - 1, times=1)
        org.inject(api="salesforce", kind="query_timeout", path_contains="/query/", skip=1)
    else:
        org.inject(api="salesforce", kind="query_timeout", path_contains="/queryAll", rows=A_DAYS_ROWS, times=1000)


def _editing_after_first_page(client: SalesforceClient, org):
    """`client.source_keys`, the record `EDITED` modified once the first page of keys was handed over: Salesforce
    stamps it with the org's time, past the newest stamp and the time the listing's queries were answered."""
    def source_keys(stream):
        pages = client.source_keys(stream)
        yield next(pages)
        edited_at = CLOCK + timedelta(milliseconds=500)
        org.upsert("salesforce", "Account", [salesforce_account(EDITED, Name="Edited", SystemModstamp=_stamp(
            edited_at))])
        yield from pages
    return source_keys


@pytest.mark.parametrize("refused_mid_read", [False, True], ids=["refused-at-once", "refused-mid-read"])
def test_a_record_edited_during_a_sliced_key_listing_is_listed(org, refused_mid_read):
    _refuse_queries(org, refused_mid_read)
    pages = list(_editing_after_first_page(_client(org.url), org)(ACCOUNT))
    keys = [key for page in pages for key in page]
    assert len(pages) > 3  # the slices' pages, not the plain query's
    assert _account_id(EDITED) in keys
    assert set(keys) == {_account_id(n) for n in range(ACCOUNTS)}


def test_a_record_edited_during_a_sliced_key_listing_is_not_flagged_vanished(org, tmp_path, monkeypatch):
    monkeypatch.setenv(RECONCILIATION_SETTING, "0")
    path, pipelines_dir = tmp_path / "warehouse.duckdb", tmp_path / "dlt"
    client = _client(org.url)
    load_streams("salesforce", [ACCOUNT], client.read_pages, str(path), pipelines_dir, "run-1")
    _refuse_queries(org, refused_mid_read=False)

    result = load_streams("salesforce", [ACCOUNT], client.read_pages, str(path), pipelines_dir, "run-2",
                          source_keys=_editing_after_first_page(client, org))["account"]

    assert result.reconciliation.startswith("done:")
    assert result.vanished == 0
    flagged = warehouse_rows(str(path), f"select id from raw_salesforce.account where {VANISHED_COLUMN} is not null")
    assert flagged == []
