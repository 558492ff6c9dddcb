"""The shared HTTP client's read-ahead: a guessed next request is used only when it is the one asked for."""

import threading

import requests

from connectors.http import HttpClient, PlannedRequest, RetryPolicy, string_after_key


class FakeSession:
    """Answers from a table of (method, url, after) -> (status, body); records every request and its thread."""

    def __init__(self, answers: dict) -> None:
        self.answers = answers
        self.sent: list[tuple[str, str, str | None]] = []
        self.threads: set[str] = set()

    def request(self, method, url, headers=None, timeout=None, params=None, json=None):
        key = (method, url, (params or {}).get("after"))
        self.sent.append(key)
        self.threads.add(threading.current_thread().name)
        status, body = self.answers[key]
        response = requests.Response()
        response.status_code = status
        response._content = body
        response.headers["Retry-After"] = "3"
        return response


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
