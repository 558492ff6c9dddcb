"""Restatement windows and date chunks of the ad-platform metric streams, without HTTP."""

from datetime import UTC, date, datetime

import pytest

from connectors.ad_metrics import AccountCursors, MetricWindow, local_today, read_in_chunks, stamp
from connectors.errors import SourceError, SourceLimitReached

TODAY = date(2026, 6, 15)


@pytest.mark.parametrize(("since", "first"), [
    (None, date(2025, 6, 16)),              # first run: the whole history
    (date(2026, 6, 14), date(2026, 5, 19)),  # nightly: the trailing 28 days, today included
    (date(2026, 3, 1), date(2026, 3, 1)),    # after a long pause: from the cursor on
    (date(2030, 1, 1), date(2026, 5, 19)),   # a cursor in the future never shrinks the window
])
def test_days_to_read_end_today_and_never_skip_a_day(since, first):
    assert MetricWindow().days_to_read(TODAY, since) == (first, TODAY)


def test_chunks_share_one_grid_and_hold_every_account_part():
    window = MetricWindow(chunk_days=10)
    plan = window.plan({"berlin": (date(2026, 5, 17), date(2026, 6, 15)), "la": (date(2026, 5, 16), date(2026, 6, 14))})
    assert plan == [
        [("berlin", date(2026, 5, 17), date(2026, 5, 25)), ("la", date(2026, 5, 16), date(2026, 5, 25))],
        [("berlin", date(2026, 5, 26), date(2026, 6, 4)), ("la", date(2026, 5, 26), date(2026, 6, 4))],
        [("berlin", date(2026, 6, 5), date(2026, 6, 14)), ("la", date(2026, 6, 5), date(2026, 6, 14))],
        [("berlin", date(2026, 6, 15), date(2026, 6, 15))],
    ]


def test_a_chunk_is_handed_over_only_once_every_account_was_read():
    plan = MetricWindow(chunk_days=1).plan({"a": (date(2026, 6, 1), date(2026, 6, 2)),
                                            "b": (date(2026, 6, 1), date(2026, 6, 2))})

    def read(account, first, last):
        if (account, first) == ("b", date(2026, 6, 2)):
            raise SourceLimitReached("quota spent")
        yield [{"account": account, "day": first.isoformat()}]

    delivered = []
    with pytest.raises(SourceLimitReached):
        for page in read_in_chunks(plan, read):
            delivered.extend(page)
    assert delivered == [{"account": "a", "day": "2026-06-01"}, {"account": "b", "day": "2026-06-01"}]


def test_today_is_the_date_in_the_account_time_zone():
    clock = lambda: datetime(2026, 6, 15, 6, 0, tzinfo=UTC)  # noqa: E731
    assert local_today(clock, "Europe/Berlin") == date(2026, 6, 15)
    assert local_today(clock, "America/Los_Angeles") == date(2026, 6, 14)
    with pytest.raises(SourceError, match="Mars/Olympus"):
        local_today(clock, "Mars/Olympus")


def test_a_row_missing_its_day_or_entity_gets_no_key_so_it_is_quarantined():
    assert stamp({}, "acct", ["c1"], "2026-06-01", "EUR", "Europe/Berlin") == {
        "_row_key": "acct:c1:2026-06-01", "_window_key": "acct:2026-06-01", "_currency_code": "EUR",
        "_account_time_zone": "Europe/Berlin"}
    assert stamp({}, "acct", ["c1"], None, "EUR", "UTC")["_row_key"] is None
    assert stamp({}, "acct", [None], "2026-06-01", "EUR", "UTC")["_window_key"] is None


def test_account_cursors_backfill_a_new_account_and_advance_only_past_chunks_handed_over():
    state = {"cursor": "2026-06-14", "account_cursors": {"old": "2026-06-14"}}
    cursors = AccountCursors(state, date(2026, 6, 14))
    assert cursors.since_for("old") == date(2026, 6, 14) and cursors.since_for("new") is None
    window = MetricWindow(lookback_days=3, history_days=10, chunk_days=5)
    spans = {account: window.days_to_read(TODAY, cursors.since_for(account)) for account in ("old", "new")}
    chunks = window.plan(spans)
    assert [[account for account, _, _ in chunk] for chunk in chunks] == [["new"], ["old", "new"]]

    def read(account, first, last):
        if first == date(2026, 6, 11):
            raise SourceLimitReached("quota")  # the second chunk's first read
        yield [{"account": account}]

    pages = read_in_chunks(chunks, read, cursors)
    assert next(pages) == [{"account": "new"}]
    assert state["account_cursors"] == {"old": "2026-06-14"}  # the page is handed over, not yet taken
    with pytest.raises(SourceLimitReached):
        next(pages)
    assert state["account_cursors"] == {"old": "2026-06-14", "new": "2026-06-10"}


def test_account_cursors_follow_the_stream_cursor_when_state_has_none_of_them():
    state = {"cursor": "2026-06-14"}
    cursors = AccountCursors(state, date(2026, 6, 14))
    assert cursors.since_for("any") == date(2026, 6, 14)
    cursors.adopt(["a", "b"])  # kept before any read, so a run that stops early leaves no account looking new
    assert state["account_cursors"] == {"a": "2026-06-14", "b": "2026-06-14"}
    cursors.advance([("a", TODAY, TODAY)])
    assert state["account_cursors"] == {"a": TODAY.isoformat(), "b": "2026-06-14"}
    first_run = AccountCursors({}, None)
    first_run.adopt(["a"])
    assert first_run.since_for("a") is None and first_run.state == {}
    outside_a_load = AccountCursors(None, None)
    assert outside_a_load.since_for("any") is None
    outside_a_load.advance([("any", TODAY, TODAY)])  # nothing to keep, nothing fails
