"""HubSpot form submissions made while the forms are read one by one are not lost, through the sandbox and dlt."""

from datetime import UTC, datetime, timedelta

import pytest

from connectors.hubspot.streams import FORM_SUBMISSIONS
from sandbox.launcher import running_sandbox
from tests.conftest import write_dataset
from tests.connectors.test_crm_acceptance import Warehouse, after_first_page, hubspot_client

CLOCK = datetime(2026, 6, 1, tzinfo=UTC)  # the sandbox's "now": every planted submission is older
FORMS = ("form-a", "form-b")  # listed, and so read, in this order
PER_FORM = 3


def _millis(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def _submission(guid: str, number: int, submitted: datetime) -> dict:
    # The sandbox upserts by "id"; the API sends only the v1 fields, conversionId the key among them.
    conversion = f"conv-{guid}-{number}"
    return {"id": conversion, "conversionId": conversion, "formGuid": guid, "submittedAt": _millis(submitted),
            "values": [{"name": "email", "value": f"person{number}@example.org"}],
            "pageUrl": "https://example.org/demo"}


@pytest.fixture
def hubspot(tmp_path):
    """A sandbox with two forms of three submissions each, all made in the hour before its clock."""
    forms = [{"guid": guid, "name": guid, "createdAt": _millis(CLOCK - timedelta(days=30)),
              "updatedAt": _millis(CLOCK - timedelta(days=30))} for guid in FORMS]
    submissions = [_submission(guid, number, CLOCK - timedelta(minutes=10 * (number + 1)))
                   for guid in FORMS for number in range(PER_FORM)]
    folder = write_dataset(tmp_path / "dataset", {("hubspot", "forms"): forms,
                                                  ("hubspot", "form_submissions"): submissions})
    (folder / "clock.txt").write_text(CLOCK.isoformat() + "\n")
    with running_sandbox(dataset=folder) as running:
        yield running


@pytest.fixture
def warehouse(tmp_path):
    return Warehouse(tmp_path)


def _submitted_after_first_form(read_pages, hubspot, submissions):
    """A page reader that has the sandbox take `submissions` once the loader took the first form's page."""

    def submit(page):
        assert {record["formGuid"] for record in page} == {FORMS[0]}  # the first form, read whole
        hubspot.upsert("hubspot", "form_submissions", submissions)

    return after_first_page(read_pages, submit)


def test_a_submission_made_on_a_form_already_read_is_read_by_the_next_run(hubspot, warehouse):
    # Made while the second form is read, after the read began: the first form's one is older than the second's.
    late_on_read_form = _submission(FORMS[0], 100, CLOCK + timedelta(minutes=1))
    newest_on_next_form = _submission(FORMS[1], 100, CLOCK + timedelta(minutes=2))
    client = hubspot_client(hubspot.url)
    read = _submitted_after_first_form(client.read_pages, hubspot, [late_on_read_form, newest_on_next_form])
    first = warehouse.load("hubspot", [FORM_SUBMISSIONS], client, read)["form_submissions"]
    assert first.rows == 2 * PER_FORM + 1  # the second form's new submission, not the first form's
    assert datetime.fromisoformat(first.cursor_after) <= CLOCK  # the read began at the sandbox's clock

    warehouse.load("hubspot", [FORM_SUBMISSIONS], hubspot_client(hubspot.url))
    assert warehouse.rows("select count(*), count(distinct conversion_id) from raw_hubspot.form_submissions") == [
        (2 * PER_FORM + 2, 2 * PER_FORM + 2)]
    assert warehouse.rows("select form_guid from raw_hubspot.form_submissions "
                          f"where conversion_id = '{late_on_read_form['conversionId']}'") == [(FORMS[0],)]
