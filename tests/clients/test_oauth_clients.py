"""The whole OAuth 2.0 flow through real clients: pybitrix24 and @bitrix24/b24jssdk (issue 4).

- pybitrix24 builds the authorization URL and calls ``https://{hostname}/oauth/token/`` itself
  (``Bitrix24(hostname, client_id, client_secret)``, ``build_authorization_url``, ``obtain_tokens``,
  ``refresh_tokens``, ``call``), so pointing ``hostname`` at b24local's ``host:port`` is enough. It speaks
  https only: the server runs with ``--tls`` and ``SSL_CERT_FILE`` names its CA. It never refreshes by
  itself: an HTTP error is returned as the decoded body, and the caller refreshes on ``expired_token``.
- b24jssdk's ``B24OAuth`` takes the token answer's fields and refreshes by itself: on a 401
  ``expired_token`` it POSTs to ``{server_endpoint without /rest/}/oauth/token/`` and repeats the call.

Expiry without sleeping: the server runs with ``--fake-clock FILE`` and the test moves its time on.
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pybitrix24
import pytest

from b24local.auth import oauth
from tests.clients.runtime import missing_runtime, run_node
from tests.conftest import LiveServer, start_server

JS_DIR = Path(__file__).parent / "js"
SCRIPT = JS_DIR / "b24jssdk_oauth_run.mjs"
REDIRECT = "https://app.example.test/oauth/callback"


class Portal:
    def __init__(self, live: LiveServer, clock: Path) -> None:
        self.live = live
        self.clock = clock
        self.set_time(time.time())

    def set_time(self, value: float) -> None:
        tmp = self.clock.with_suffix(".tmp")
        tmp.write_text(f"{value}", encoding="ascii")
        tmp.replace(self.clock)

    def advance(self, seconds: float) -> None:
        self.set_time(float(self.clock.read_text(encoding="ascii")) + seconds)

    def create_app(self) -> tuple[str, str]:
        store = self.live.storage()
        try:
            with store.write() as tx:
                return oauth.create_app(tx, "Client test", ["crm"], REDIRECT)
        finally:
            store.close()

    def code_from(self, authorization_url: str) -> str:
        answer = self.live.client.get(authorization_url, follow_redirects=False)
        assert answer.status_code == 302, answer.text
        location = answer.headers["location"]
        assert location.startswith(REDIRECT + "?")
        return parse_qs(urlsplit(location).query)["code"][0]


@pytest.fixture(scope="module")
def portal(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Portal]:
    folder = Path(tmp_path_factory.mktemp("oauth-clients"))
    clock = folder / "clock"
    clock.write_text(f"{time.time()}", encoding="ascii")
    live = start_server(
        folder / "b24local.db", "--tls", "--auto-approve-user", "1", "--fake-clock", str(clock)
    )
    yield Portal(live, clock)
    live.stop()


def test_pybitrix24_whole_flow_with_expiry_and_refresh(
    portal: Portal, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert portal.live.ca_file is not None
    monkeypatch.setenv("SSL_CERT_FILE", portal.live.ca_file)
    client_id, secret = portal.create_app()
    bx = pybitrix24.Bitrix24(urlsplit(portal.live.base_url).netloc, client_id, secret)

    url = bx.build_authorization_url(state="py-state")
    assert url.startswith(portal.live.base_url + "/oauth/authorize/?")
    tokens = bx.obtain_tokens(portal.code_from(url))
    assert tokens["user_id"] == 1 and tokens["scope"] == "crm" and tokens["status"] == "L"

    lead = bx.call("crm.lead.add", {"fields": {"TITLE": "pybitrix24 oauth"}})["result"]
    assert isinstance(lead, int)
    assert bx.call("crm.lead.get", {"id": lead})["result"]["TITLE"] == "pybitrix24 oauth"
    assert bx.call("app.info")["result"]["CODE"] == client_id

    portal.advance(3600)
    assert bx.call("crm.lead.get", {"id": lead}) == {
        "error": "expired_token",
        "error_description": "The access token provided has expired",
    }
    old_refresh = tokens["refresh_token"]
    renewed = bx.refresh_tokens()
    assert renewed["refresh_token"] != old_refresh
    assert bx.call("crm.lead.get", {"id": lead})["result"]["ID"] == str(lead)

    # The old refresh token is spent (pybitrix24 has no public way to use a stored one: plain HTTP).
    spent = portal.live.client.get(
        portal.live.base_url + "/oauth/token/",
        params={
            "grant_type": "refresh_token",
            "client_id": client_id,
            "client_secret": secret,
            "refresh_token": old_refresh,
        },
    )
    assert spent.status_code == 400 and spent.json()["error"] == "invalid_grant"
    # A bad secret: pybitrix24 returns the error body instead of raising.
    wrong = pybitrix24.Bitrix24(urlsplit(portal.live.base_url).netloc, client_id, secret + "x")
    assert wrong.obtain_tokens("whatever")["error"] == "invalid_client"


@pytest.fixture(scope="module")
def node() -> str:
    executable = shutil.which("node")
    if executable is None or not (JS_DIR / "node_modules" / "@bitrix24" / "b24jssdk").is_dir():
        missing_runtime("node and tests/clients/js/node_modules are needed for the b24jssdk OAuth test")
    assert executable is not None
    return executable


def test_b24jssdk_refreshes_an_expired_token_by_itself(portal: Portal, node: str) -> None:
    client_id, secret = portal.create_app()
    query = {"client_id": client_id, "state": "js", "response_type": "code"}
    code = portal.code_from(
        portal.live.base_url + "/oauth/authorize/?" + "&".join(f"{k}={v}" for k, v in query.items())
    )
    answer = portal.live.client.post(
        portal.live.base_url + "/oauth/token/",
        data={
            "grant_type": "authorization_code",
            "client_id": client_id,
            "client_secret": secret,
            "code": code,
        },
    )
    tokens: dict[str, Any] = answer.json()
    portal.advance(3600)  # expired on the server; the SDK's own `expires` still lies ahead

    config = {"tokens": tokens, "clientId": client_id, "clientSecret": secret}
    out = run_node(node, [str(SCRIPT), json.dumps(config)], portal.live.ca_file)
    assert out["add"]["isSuccess"] is True and isinstance(out["add"]["result"], int)
    assert out["appInfo"]["result"]["CODE"] == client_id
    assert len(out["refreshed"]) == 1  # exactly one automatic refresh
    new = out["refreshed"][0]
    assert new["refresh_token"] != tokens["refresh_token"]

    lead = portal.live.call("crm.lead.get", {"id": out["add"]["result"]}).result
    assert lead["TITLE"] == "b24jssdk oauth"
    # The SDK's new access token works; the refresh token it replaced is spent.
    fresh = portal.live.client.post(portal.live.base_url + "/rest/scope", json={"auth": new["access_token"]})
    assert fresh.status_code == 200
    spent = portal.live.client.post(
        portal.live.base_url + "/oauth/token/",
        data={
            "grant_type": "refresh_token",
            "client_id": client_id,
            "client_secret": secret,
            "refresh_token": tokens["refresh_token"],
        },
    )
    assert spent.status_code == 400 and spent.json()["error"] == "invalid_grant"
