"""The shared HTTP client's read-ahead: a guessed next request is used only when it is the one asked for."""

import io
import threading
import time

import requests

from connectors.http import HttpClient, PlannedRequest, RetryPolicy, string_after_key, with_body
from connectors.read_ahead import DEPTH, planned_sequence


class FakeSession:
    """Answers from a table of (method, url, after) -> (status, body); records every request and its thread."""

    def __init__(self, answers: dict) -> None:
        self.answers = answers
        self.sent: list[tuple[str, str, str | None]] = []
        self.bodies: list[object] = []
        self.threads: set[str] = set()

    def request(self, method, url, headers=None, timeout=None, params=None, json=None, stream=False):
        key = (method, url, (params or {}).get("after"))
        self.sent.append(key)
        if json is not None:
            self.bodies.append(json)
        self.threads.add(threading.current_thread().name)
        status, body = self.answers[key]
        response = requests.Response()
        response.status_code = status
        response._content = body
        response.headers["Retry-After"] = "3"
        return response


class _AnyAnswer(dict):
    """Answers every request with ``{"ok": true}``."""

    def __getitem__(self, key):
        return 200, b'{"ok": true}'


def _page(n: int, after: str | None) -> bytes:
    paging = f', "paging": {{"next": {{"after": "{after}"}}}}' if after else ""
    return f'{{"results": [{{"id": "{n}", "amount": 1.10}}]{paging}}}'.encode()


def _guess(body: bytes) -> PlannedRequest | None:
    after = string_after_key(body, "after", last=True)
    return PlannedRequest("GET", "https://api/x", {"params": {"after": after}}) if after else None


def _read(client: HttpClient) -> list[str]:
    ids, after = [], None
    while True:
        body = client.get_json("https://api/x", _guess, params={"after": after} if after else {})
        ids += [record["id"] for record in body["results"]]
        after = (body.get("paging") or {}).get("next", {}).get("after")
        if not after:
            return ids


def test_a_right_guess_is_sent_ahead_in_the_background_and_used_once():
    session = FakeSession({("GET", "https://api/x", None): (200, _page(1, "a")),
                           ("GET", "https://api/x", "a"): (200, _page(2, "b")),
                           ("GET", "https://api/x", "b"): (200, _page(3, None))})
    client = HttpClient(source="test", session=session)
    assert _read(client) == ["1", "2", "3"]
    assert session.sent == [("GET", "https://api/x", None), ("GET", "https://api/x", "a"),
                            ("GET", "https://api/x", "b")]  # each page once: the guesses were the requests
    assert client.stats.requests == 3
    assert any(name.startswith("test-ahead") for name in session.threads)


def test_another_request_goes_after_the_guess_which_is_kept_for_when_it_is_asked():
    session = FakeSession({("GET", "https://api/x", None): (200, _page(1, "a")),
                           ("GET", "https://api/x", "a"): (200, _page(2, None)),
                           ("GET", "https://api/y", None): (200, b'{"results": []}')})
    client = HttpClient(source="test", session=session)
    client.get_json("https://api/x", _guess)
    assert client.get_json("https://api/y") == {"results": []}  # not what was guessed (an association read)
    assert client.get_json("https://api/x", params={"after": "a"})["results"][0]["id"] == "2"
    assert session.sent == [("GET", "https://api/x", None), ("GET", "https://api/x", "a"),
                            ("GET", "https://api/y", None)]  # the guess was sent once and used


def test_a_wrong_guess_is_dropped_when_the_next_guess_is_sent():
    session = FakeSession({("GET", "https://api/x", None): (200, _page(1, "a")),
                           ("GET", "https://api/x", "a"): (200, _page(2, None)),
                           ("GET", "https://api/z", None): (200, _page(9, "b")),
                           ("GET", "https://api/x", "b"): (200, _page(3, None))})
    client = HttpClient(source="test", session=session)
    client.get_json("https://api/x", _guess)  # guesses x?after=a
    client.get_json("https://api/z", _guess)  # guesses x?after=b instead
    client.get_json("https://api/x", params={"after": "a"})
    assert session.sent.count(("GET", "https://api/x", "a")) == 2  # the first guess was not kept


def test_a_throttled_answer_to_a_guess_is_waited_out_like_any_other():
    session = FakeSession({("GET", "https://api/x", None): (200, _page(1, "a")),
                           ("GET", "https://api/x", "a"): (429, b"{}")})
    waits = []
    client = HttpClient(source="test", session=session, policy=RetryPolicy(max_attempts=2), sleep=waits.append)
    client.get_json("https://api/x", _guess)
    session.answers[("GET", "https://api/x", "a")] = (200, _page(2, None))
    assert [r["id"] for r in client.get_json("https://api/x", params={"after": "a"})["results"]] == ["2"]
    assert waits == [3.0]  # the 429 the guess received is the first attempt: its Retry-After is honoured
    assert session.sent.count(("GET", "https://api/x", "a")) == 2


def test_numbers_stay_exact_and_string_after_key_reads_only_plain_values():
    session = FakeSession({("GET", "https://api/x", None): (200, _page(1, None))})
    body = HttpClient(source="test", session=session).get_json("https://api/x", _guess)
    assert str(body["results"][0]["amount"]) == "1.10"
    assert string_after_key(b'{"done": true, "nextRecordsUrl": null}', "nextRecordsUrl") is None
    assert string_after_key(b'{"a": {"after": "x"}, "after": 12}', "after", last=True) == "12"
    assert string_after_key(b'{"after": "x"}', "missing") is None
    assert string_after_key(b'{"next": "https:\\/\\/graph\\/act_1?after=Q"}', "next") == "https://graph/act_1?after=Q"
    assert string_after_key(b'{"next": "https:\\/\\/graph?a=1\\u0026b=2"}', "next") is None  # other escapes


def _listing(pages: int) -> dict:
    """A listing of `pages` pages, page n (from 1) pointing at the next by ``after=p<n+1>``."""
    answers = {}
    for n in range(1, pages + 1):
        after = f"p{n + 1}" if n < pages else None
        answers[("GET", "https://api/x", f"p{n}" if n > 1 else None)] = (200, _page(n, after))
    return answers


def _sent_reaches(session: FakeSession, count: int) -> bool:
    """Wait (up to 5 s) until `count` requests were sent, then a little longer for any extra one to show."""
    deadline = time.monotonic() + 5
    while len(session.sent) < count and time.monotonic() < deadline:
        time.sleep(0.005)
    time.sleep(0.1)
    return len(session.sent) == count


def test_a_chained_guess_keeps_up_to_depth_pages_coming_while_the_reader_is_busy():
    session = FakeSession(_listing(8))
    client = HttpClient(source="test", session=session)
    first = client.get_json("https://api/x", _guess, chain=True)
    assert first["results"][0]["id"] == "1"
    assert _sent_reaches(session, 1 + DEPTH)  # pages 2-4 came while page 1 was held, and no more
    assert [session.sent[n][2] for n in range(1, 1 + DEPTH)] == ["p2", "p3", "p4"]
    ids, after = ["1"], "p2"
    while after:
        body = client.get_json("https://api/x", _guess, chain=True, params={"after": after})
        ids += [record["id"] for record in body["results"]]
        after = (body.get("paging") or {}).get("next", {}).get("after")
    assert ids == [str(n) for n in range(1, 9)]
    assert sorted(session.sent, key=str) == sorted(_listing(8), key=str)  # every page once
    assert client.stats.requests == 8


def test_a_planned_sequence_is_sent_in_order_each_request_once():
    planned = [PlannedRequest("POST", "https://api/q", {"json": {"day": day}}) for day in range(6)]
    session = FakeSession(_AnyAnswer())
    client = HttpClient(source="test", session=session)
    guess = planned_sequence(planned)
    for n, request in enumerate(planned):
        assert client.request_json(request.method, request.url, guess, chain=True, **request.kwargs) == {"ok": True}
        if n == 0:
            assert _sent_reaches(session, 1 + DEPTH)
    assert session.bodies == [{"day": day} for day in range(6)]


def test_a_chain_stops_at_another_request_and_what_came_back_is_kept_for_the_reader():
    session = FakeSession({**_listing(6), ("GET", "https://api/y", None): (200, b'{"results": []}')})
    client = HttpClient(source="test", session=session)
    client.get_json("https://api/x", _guess, chain=True)
    assert _sent_reaches(session, 1 + DEPTH)
    client.get_json("https://api/y")  # an association read between two pages
    for n in range(2, 7):
        assert client.get_json("https://api/x", _guess, chain=True, params={"after": f"p{n}"})["results"][0]["id"] \
            == str(n)
    assert sorted(session.sent, key=str) == sorted([*_listing(6), ("GET", "https://api/y", None)], key=str)


def test_an_error_stops_the_chain_and_is_retried_as_any_other_answer():
    session = FakeSession({**_listing(4), ("GET", "https://api/x", "p2"): (429, b"{}")})
    waits = []
    client = HttpClient(source="test", session=session, policy=RetryPolicy(max_attempts=2), sleep=waits.append)
    client.get_json("https://api/x", _guess, chain=True)
    assert _sent_reaches(session, 2)  # nothing is guessed from a throttled answer
    session.answers[("GET", "https://api/x", "p2")] = (200, _page(2, "p3"))
    for n in range(2, 5):
        client.get_json("https://api/x", _guess, chain=True, params={"after": f"p{n}"})
    assert waits == [3.0]
    assert [after for _, _, after in session.sent] == [None, "p2", "p2", "p3", "p4"]


class _CountingBody(io.BytesIO):
    """A raw body that counts the reads taken from it."""

    reads = 0

    def read(self, size=-1):
        self.reads += 1
        return super().read(size)


def test_a_body_is_read_whole_in_a_few_large_pieces():
    body = b"x" * (9 * 2**20)
    response = requests.Response()
    response.raw = _CountingBody(body)
    assert with_body(response).content == body
    assert response.raw.reads <= 4  # requests' own 10 KB pieces would take 900 reads, each taking the GIL again
