"""HTTP answers built by hand, for testing how a connector classifies them without a server."""

import json

import requests


def json_response(status: int, body: object, headers: dict | None = None) -> requests.Response:
    """A `requests` response with status `status`, `body` as its JSON content and `headers`."""
    response = requests.Response()
    response.status_code = status
    response._content = json.dumps(body).encode()
    response.headers.update(headers or {})
    return response
