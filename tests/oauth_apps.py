"""An OAuth application and its tokens, for tests that call as one: the app is made in the server's
database, approved at once (the server runs with ``--auto-approve-user``), and its tokens are the
``/oauth/token/`` answers."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

from b24local.auth import oauth
from tests.servers import Server

REDIRECT = "https://app.example.test/callback"


def new_app(server: Server, name: str = "Test app") -> tuple[str, str]:
    """(client_id, client_secret) of a new application with the crm scope."""
    store = server.storage()
    try:
        with store.write() as tx:
            return oauth.create_app(tx, name, ("crm",), REDIRECT)
    finally:
        store.close()


def tokens(server: Server, client_id: str, secret: str) -> dict[str, Any]:
    """The /oauth/token/ answer for a code the server approves at once."""
    approved = server.raw("GET", "/oauth/authorize/", params={"client_id": client_id, "state": "s"})
    code = parse_qs(urlsplit(approved.headers["location"]).query)["code"][0]
    return _granted(server, client_id, secret, grant_type="authorization_code", code=code)


def refreshed(server: Server, client_id: str, secret: str, refresh_token: str) -> dict[str, Any]:
    return _granted(server, client_id, secret, grant_type="refresh_token", refresh_token=refresh_token)


def _granted(server: Server, client_id: str, secret: str, **grant: str) -> dict[str, Any]:
    """The /oauth/token/ answer to ``grant`` from the application ``client_id``."""
    data = {**grant, "client_id": client_id, "client_secret": secret}
    answer = server.raw("POST", "/oauth/token/", data=data)
    assert answer.status_code == 200, answer.text
    return dict(answer.json())
