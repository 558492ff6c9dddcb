"""Plain REST calls to the sandbox's HubSpot, as a test makes them to check the API itself, not the client."""

import requests

from sandbox import auth


def portal_session(url: str) -> requests.Session:
    """A session authorized on the sandbox's HubSpot at `url`, with an access token from a refresh."""
    form = {"grant_type": "refresh_token", "client_id": auth.CLIENT_ID, "client_secret": auth.CLIENT_SECRET,
            "refresh_token": auth.REFRESH_TOKEN}
    token = requests.post(f"{url}/oauth/2026-03/token", data=form, timeout=10).json()["access_token"]
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {token}"
    return session
