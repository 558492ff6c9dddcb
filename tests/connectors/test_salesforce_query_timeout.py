"""Salesforce's QUERY_TIMEOUT: a query that runs too long is read again in SystemModstamp slices.

Everything runs for real: the sandbox over HTTP (its ``query_timeout`` fault refuses queries whose SystemModstamp
range holds too many records, or a next page), the connector, and the raw loader into DuckDB.
"""

from datetime import UTC, datetime, timedelta

import duckdb
import pytest
import requests

from connectors.errors import SourceError
from connectors.http import RetryPolicy
from connectors.salesforce.client import SalesforceClient
from connectors.salesforce.slices import QUERY_TIMEOUT
from connectors.salesforce.streams import ACCOUNT
from pipelines.lib.raw_loader import load_streams
from sandbox import auth
from sandbox.launcher import running_sandbox
from tests.conftest import salesforce_account, write_dataset

ACCOUNTS = 3000
PAGE_SIZE = 500
FIRST_STAMP = datetime(2026, 1, 1, tzinfo=UTC)
#: Records share their stamp three by three, so a page boundary falls inside a group of equal stamps.
STAMP_STEP = timedelta(seconds=90)
#: The sandbox's clock, shortly after the newest record.
CLOCK = datetime(2026, 1, 4, 3, 0, tzinfo=UTC)
#: 2026-01-04T02:55:30: a first read slices the 74.9 hours from the oldest stamp to just past this one.
NEWEST_STAMP = FIRST_STAMP + STAMP_STEP * 3 * ((ACCOUNTS - 1) // 3)
#: The records of one day (960): the most a query may match before the sandbox's fault refuses it, in most tests.
A_DAYS_ROWS = timedelta(days=1) // STAMP_STEP


def _stamp(number: int) -> str:
    return (FIRST_STAMP + STAMP_STEP * 3 * (number // 3)).strftime("%Y-%m-%dT%H:%M:%S.000+0000")


@pytest.fixture
def org(tmp_path):
    records = [salesforce_account(n, SystemModstamp=_stamp(n), IsDeleted=n % 500 == 7) for n in range(ACCOUNTS)]
    folder = write_dataset(tmp_path / "dataset", {("salesforce", "Account"): records})
    (folder / "clock.txt").write_text(CLOCK.isoformat() + "\n")
    with running_sandbox(dataset=folder, extra_args=("--page-size", str(PAGE_SIZE))) as running:
        yield running


def _client(url: str, **overrides) -> SalesforceClient:
    return SalesforceClient(login_url=url, client_id=auth.CLIENT_ID, client_secret=auth.CLIENT_SECRET,
                            refresh_token=auth.REFRESH_TOKEN, policy=RetryPolicy(backoff_base=0.01, max_attempts=3),
                            **overrides)


def _read(url: str, since: datetime | None = None, **overrides) -> list[tuple[str, str]]:
    """(Id, SystemModstamp) of every record a read hands over, in the order it hands them over."""
    return [(record["Id"], record["SystemModstamp"])
            for page in _client(url, **overrides).read_pages(ACCOUNT, since) for record in page]


def _queries(org) -> int:
    """How many requests the sandbox's first fault rule has seen (each test's matches every ``queryAll`` query)."""
    return requests.get(f"{org.url}/_sandbox/faults", timeout=10).json()[0]["seen"]


def _load(org, folder, **overrides):
    """One night's load of Account into a DuckDB warehouse in `folder`: its result and the table's rows."""
    path = folder / "warehouse.duckdb"
    result = load_streams("salesforce", [ACCOUNT], _client(org.url, **overrides).read_pages, str(path),
                          folder / "dlt", "run-1")["account"]
    with duckdb.connect(str(path), read_only=True) as connection:
        rows = connection.execute("select * exclude (_loaded_at, _run_id, _dlt_load_id) "
                                  "from raw_salesforce.account order by id").fetchall()
    return result, rows


# --- the sandbox's fault ------------------------------------------------------------------------------

def _asker(org):
    """A function that sends one SOQL query to the sandbox's ``queryAll`` and returns the answer."""
    client = _client(org.url)
    url = f"{client.instance_url}/services/data/v60.0/queryAll"
    headers = {"Authorization": f"Bearer {client.auth.access_token()}"}
    return lambda soql: requests.get(url, params={"q": soql}, headers=headers, timeout=10)


def test_the_sandbox_refuses_a_range_of_too_many_rows_with_salesforces_body_and_answers_smaller_ones(org):
    org.inject(api="salesforce", kind="query_timeout", path_contains="/queryAll", rows=A_DAYS_ROWS, times=1)
    ask = _asker(org)
    narrow = ask("SELECT Id FROM Account WHERE SystemModstamp >= 2026-01-01T00:00:00Z "
                 "AND SystemModstamp < 2026-01-02T00:00:00Z")
    assert narrow.status_code == 200 and narrow.json()["totalSize"] == A_DAYS_ROWS  # just within the threshold
    assert ask("SELECT Id FROM Account ORDER BY SystemModstamp ASC LIMIT 1").status_code == 200
    wide = ask("SELECT Id FROM Account WHERE SystemModstamp >= 2026-01-01T00:00:00Z")  # all 3,000 records
    assert wide.status_code == 400
    assert wide.json() == [{"message": "Your query request was running for too long.", "errorCode": "QUERY_TIMEOUT"}]
    # Only the refusal counted against `times`: the rule is spent, so the same wide query is answered now.
    assert ask("SELECT Id FROM Account").status_code == 200


@pytest.mark.parametrize("rows", [-1, "many", 9.5])
def test_a_rows_threshold_that_is_not_a_whole_number_of_at_least_zero_is_refused_naming_the_field(org, rows):
    answer = requests.post(f"{org.url}/_sandbox/faults", timeout=10,
                           json={"api": "salesforce", "kind": "query_timeout", "rows": rows})
    assert answer.status_code == 400
    assert answer.json() == {"error": f"fault field 'rows' must be a whole number of at least 0, got {rows!r}"}


def test_a_range_wide_in_time_that_holds_few_records_is_answered_without_a_timeout(org):
    org.inject(api="salesforce", kind="query_timeout", path_contains="/queryAll", rows=A_DAYS_ROWS, times=1000)
    ask = _asker(org)
    # A whole year, and a range with no lower bound, each holding the first hour's 42 records: the real org
    # answers these fast through the SystemModstamp index, however wide the range is in time.
    year = ask("SELECT Id FROM Account WHERE SystemModstamp >= 2025-01-01T00:00:00Z "
               "AND SystemModstamp < 2026-01-01T01:00:00Z")
    assert year.status_code == 200 and year.json()["totalSize"] == 42
    unbounded = ask("SELECT Id FROM Account WHERE SystemModstamp < 2026-01-01T01:00:00Z")
    assert unbounded.status_code == 200 and unbounded.json()["totalSize"] == 42
    # A first read of all 75 hours, no lower bound, with the threshold at the object's size: one query, not sliced.
    org.clear_faults()
    org.inject(api="salesforce", kind="query_timeout", path_contains="/queryAll", rows=ACCOUNTS, times=1000)
    assert len(_read(org.url)) == ACCOUNTS
    assert _queries(org) == 1


# --- slicing ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("since", [None, datetime(2026, 1, 2, tzinfo=UTC)], ids=["first-read", "incremental"])
def test_a_read_refused_for_matching_too_many_rows_is_read_in_slices_and_equals_a_clean_read(org, since):
    clean = _read(org.url, since)
    org.inject(api="salesforce", kind="query_timeout", path_contains="/queryAll", rows=A_DAYS_ROWS, times=1000)
    sliced = _read(org.url, since)
    assert sliced == clean  # the same records in the same (cursor) order, none twice
    assert len({record_id for record_id, _ in sliced}) == len(sliced) > 0
    if since is None:
        # The whole query (3,000 records: refused), the probes of the newest and oldest stamps, the two halves of
        # the 74.9 hours between them (1,500 records each: refused), then their four halves (750 each) read.
        assert _queries(org) == 9
    else:
        # From the cursor less the lookback to the newest stamp, 51 h: the whole query, the probe of the newest
        # stamp, its two halves (25.5 h, about 1,020 records: refused), then four quarters (about 510) read.
        assert _queries(org) == 8


def test_a_sliced_load_equals_a_clean_load_and_commits_the_newest_cursor(org, tmp_path):
    clean, clean_rows = _load(org, tmp_path / "clean")
    org.inject(api="salesforce", kind="query_timeout", path_contains="/queryAll", rows=A_DAYS_ROWS, times=1000)
    org.inject(api="salesforce", kind="query_timeout", path_contains="/query/", skip=1)  # and a page mid-slice
    sliced, sliced_rows = _load(org, tmp_path / "sliced")
    assert sliced_rows == clean_rows and len(sliced_rows) == ACCOUNTS
    assert len({row[0] for row in sliced_rows}) == ACCOUNTS
    assert sliced.cursor_after == clean.cursor_after == NEWEST_STAMP.isoformat()
    assert sliced.rows == ACCOUNTS  # no row handed over twice


def test_a_page_timing_out_mid_read_resumes_from_the_last_row_without_loss_or_repeats(org):
    clean = _read(org.url)
    org.inject(api="salesforce", kind="slow", path_contains="/queryAll", seconds=0, times=1000)  # counts queries
    org.inject(api="salesforce", kind="query_timeout", path_contains="/query/", skip=1)  # the third page times out
    resumed = _read(org.url)
    assert resumed == clean
    # The first query, then one from the last row handed over on: the two pages handed over are not read again.
    assert _queries(org) == 2
    # The row at page two's end shares its stamp with the first rows of page three: all read exactly once.
    assert clean[2 * PAGE_SIZE - 1][1] == clean[2 * PAGE_SIZE][1]


def test_a_one_hour_slice_that_still_matches_too_many_rows_fails_naming_the_object_and_the_slice(org):
    # Ten records at most: fewer than any slice of the default narrowest width (one hour) holds here.
    org.inject(api="salesforce", kind="query_timeout", path_contains="/queryAll", rows=10, times=1000)
    with pytest.raises(SourceError) as raised:
        _read(org.url)
    # The oldest 128th of the range (35 minutes, 24 records) is the first slice that cannot be halved again.
    slice_end = FIRST_STAMP + (NEWEST_STAMP + timedelta(milliseconds=1) - FIRST_STAMP) / 128
    assert str(raised.value) == (
        "salesforce Account: the query of the slice SystemModstamp >= 2026-01-01T00:00:00.000Z AND < "
        f"{slice_end.strftime('%Y-%m-%dT%H:%M:%S.%f')[:-3]}Z still ran too long (QUERY_TIMEOUT) at the narrowest "
        "slice (1:00:00)")
    assert raised.value.kind == QUERY_TIMEOUT
    # The whole query, the two probes, then slices of 37.5 h, 18.7 h, 9.4 h, 4.7 h, 2.3 h, 1.2 h and 35 minutes, each
    # refused.
    assert _queries(org) == 10


def test_a_record_modified_during_a_resumed_read_is_left_to_the_next_run_not_read_twice(org):
    org.inject(api="salesforce", kind="query_timeout", path_contains="/query/", skip=1)  # the third page times out
    pages = _client(org.url).read_pages(ACCOUNT)
    first = [(record["Id"], record["SystemModstamp"]) for record in next(pages)]
    # Modified after the query was answered: Salesforce stamps it then, past the time the resumed read ends at.
    modified_at = CLOCK + timedelta(milliseconds=500)
    org.upsert("salesforce", "Account", [salesforce_account(5, Name="Changed 5", SystemModstamp=modified_at.strftime(
        "%Y-%m-%dT%H:%M:%S.%f")[:-3] + "+0000")])
    read = first + [(record["Id"], record["SystemModstamp"]) for page in pages for record in page]
    assert len(read) == len({record_id for record_id, _ in read}) == ACCOUNTS
    assert ("001SANDBOX00000005", _stamp(5)) in read  # its version as the query found it, once


@pytest.mark.parametrize("min_slice", [timedelta(0), 3600])
def test_a_narrowest_slice_below_a_millisecond_or_not_a_timedelta_is_refused(org, min_slice):
    with pytest.raises(ValueError, match="SalesforceClient.min_slice must be a timedelta of at least 0:00:00.001"):
        _read(org.url, min_slice=min_slice)
