"""Issue 15: OAuth writes run through the storage's runner, so a busy database answers 503 in the
authorization server's JSON format (not 500), and nothing of the refused request is written."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest

from b24local.app import App
from b24local.auth import oauth
from b24local.config import Config
from b24local.storage.sqlite import SqliteStorage
from tests.fuzz.asgi import asgi_request
from tests.storage.test_busy import held_write_lock

REDIRECT = "https://app.example/back"
BUSY = {
    "error": "QUERY_LIMIT_EXCEEDED",
    "error_description": "Too many requests: the database is busy, try again",
}
FORM = (("content-type", "application/x-www-form-urlencoded"),)


class Portal:
    """The in-process app on a SQLite file whose lock wait is 0.3 s (a refused call takes ~0.3 s)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.storage = SqliteStorage(f"sqlite:///{path}", busy_timeout_ms=300)
        with self.storage.write() as tx:
            self.user = tx.user_add("Ann", "", True)
            self.client_id, self.secret = oauth.create_app(tx, "App", ["crm"], REDIRECT)
        settings = oauth.OAuthSettings(auto_approve_user=self.user)
        self.app = App(Config(), self.storage, oauth_settings=settings)

    def request(self, verb: str, path: str, params: dict[str, str]) -> tuple[int, Any]:
        body = urlencode(params).encode() if verb == "POST" else b""
        query = b"" if verb == "POST" else urlencode(params).encode()
        status, raw = asyncio.run(asgi_request(self.app, verb, path, query=query, headers=FORM, body=body))
        return status, json.loads(raw) if raw.startswith(b"{") else raw

    def code(self) -> str:
        """A code the test knows (the approval's own is only in its redirect)."""
        code = "c0de" * 8
        with self.storage.write() as tx:
            app = tx.oauth_app_by_client_id(self.client_id)
            assert app is not None
            tx.oauth_code_add(app.id, self.user, oauth.hash_secret(code), 2**40)
        return code

    def exchange(self, grant_type: str, grant: str) -> tuple[int, Any]:
        name = "code" if grant_type == "authorization_code" else "refresh_token"
        params = {"grant_type": grant_type, "client_id": self.client_id, "client_secret": self.secret}
        return self.request("POST", "/oauth/token/", {**params, name: grant})


@pytest.fixture
def portal(tmp_path: Path) -> Iterator[Portal]:
    opened = Portal(tmp_path / "o.db")
    yield opened
    opened.storage.close()


def test_a_code_exchange_on_a_busy_database_answers_503_json_and_keeps_the_code(portal: Portal) -> None:
    code = portal.code()
    with held_write_lock(portal.path):
        assert portal.exchange("authorization_code", code) == (503, BUSY)
    status, answer = portal.exchange("authorization_code", code)  # the code was not used up
    assert (status, answer["user_id"]) == (200, portal.user)


def test_a_refresh_on_a_busy_database_answers_503_json_and_keeps_the_token(portal: Portal) -> None:
    status, tokens = portal.exchange("authorization_code", portal.code())
    assert status == 200
    with held_write_lock(portal.path):
        assert portal.exchange("refresh_token", tokens["refresh_token"]) == (503, BUSY)
    status, answer = portal.exchange("refresh_token", tokens["refresh_token"])
    assert (status, answer["user_id"]) == (200, portal.user)


def test_an_approval_on_a_busy_database_answers_503_json_and_stores_no_code(portal: Portal) -> None:
    with held_write_lock(portal.path):
        assert portal.request("GET", "/oauth/authorize/", {"client_id": portal.client_id}) == (503, BUSY)
    with portal.storage.read() as tx:
        assert tx._one("SELECT count(*) FROM oauth_code") == 0
    assert portal.request("GET", "/oauth/authorize/", {"client_id": portal.client_id})[0] == 302
