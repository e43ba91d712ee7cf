"""Client libraries against fault rules (test-portal.md T9): they react to b24local's injected errors as
to a portal's. Each test sets a rule through ``PUT /_b24local/faults`` and reads its counts back: a
``times: 2`` rule with 3 hits means the client sent the call three times and the third went through.

What the libraries do (read from their sources, confirmed here):

- fast-bitrix24 retries every 5xx answer (503 ``QUERY_LIMIT_EXCEEDED``, nginx's 502 page) with a
  growing pause; with ``token_func`` (OAuth) a 401 makes it ask ``token_func`` for a new token and
  repeat the call;
- b24pysdk retries a 503 (``max_retries`` attempts, ``initial_retry_delay`` apart) and, for an OAuth
  token with a refresh token, refreshes on ``expired_token`` through its application object and repeats
  the call once. Its stock ``BitrixApp`` refreshes at the vendor's ``https://oauth.bitrix24.tech`` (a
  constant), so the test's application refreshes at b24local instead, through the same method;
- b24jssdk retries ``QUERY_LIMIT_EXCEEDED`` (3 attempts, about 1.5 s then 2.3 s apart) and ``B24OAuth``
  refreshes on a 401 ``expired_token`` at ``{server_endpoint}/oauth/token/`` and repeats the call.
"""

from __future__ import annotations

import datetime
import json
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from b24pysdk import BitrixToken, BitrixWebhook, Client
from b24pysdk.credentials import BitrixApp
from b24pysdk.credentials.auth import RenewedOAuth
from fast_bitrix24 import Bitrix

from tests.clients.runtime import JS_DIR, node_with_sdk, run_node
from tests.conftest import LiveServer, start_server
from tests.oauth_apps import new_app, refreshed, tokens

TOKEN = "adm-client-faults"
ADMIN = {"authorization": f"Bearer {TOKEN}"}


def _serve(folder: Path, *extra: str) -> LiveServer:
    return start_server(folder / "b24local.db", "--admin-token", TOKEN, "--auto-approve-user", "1", *extra)


@pytest.fixture(scope="module")
def plain(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """For fast-bitrix24, which takes any URL."""
    live = _serve(Path(tmp_path_factory.mktemp("faults-plain")))
    yield live
    live.stop()


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """For b24pysdk and b24jssdk, which build https:// URLs."""
    live = _serve(Path(tmp_path_factory.mktemp("faults-tls")), "--tls")
    yield live
    live.stop()


def set_rules(server: LiveServer, rules: list[dict[str, Any]]) -> None:
    answer = server.raw("PUT", "/_b24local/faults", json=rules, headers=ADMIN)
    assert answer.status_code == 200, answer.text


def counts(server: LiveServer) -> list[tuple[int, int]]:
    """(hits, faulted) of each rule."""
    shown = server.raw("GET", "/_b24local/faults", headers=ADMIN).json()["rules"]
    return [(rule["hits"], rule["faulted"]) for rule in shown]


def lead_title(server: LiveServer, lead_id: int) -> str:
    return str(server.call("crm.lead.get", {"id": lead_id}).result["TITLE"])


# --- fast-bitrix24 -------------------------------------------------------------------------------------


def _bitrix(url: str, **options: Any) -> Bitrix:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # asyncio.get_event_loop() outside a loop
        return Bitrix(url, verbose=False, **options)


@pytest.mark.parametrize("error", ["QUERY_LIMIT_EXCEEDED", "html_502"])
def test_fast_bitrix24_retries_a_503_and_a_502(plain: LiveServer, error: str) -> None:
    set_rules(plain, [{"method": "crm.lead.add", "times": 2, "error": error}])
    answer = _bitrix(plain.webhook_url).call("crm.lead.add", {"fields": {"TITLE": "fb24 " + error}}, raw=True)
    assert lead_title(plain, answer["result"]) == "fb24 " + error
    assert counts(plain) == [(3, 2)]


def test_fast_bitrix24_asks_token_func_again_on_expired_token(plain: LiveServer) -> None:
    client_id, secret = new_app(plain)
    pair = tokens(plain, client_id, secret)
    given: list[str] = []

    async def token_func() -> str:
        # The first token, then a refreshed one each time fast-bitrix24 asks again.
        current = pair if not given else refreshed(plain, client_id, secret, pair["refresh_token"])
        pair.update(current)
        given.append(current["access_token"])
        return str(current["access_token"])

    set_rules(plain, [{"method": "crm.lead.add", "app": client_id, "times": 1, "error": "expired_token"}])
    bitrix = _bitrix(plain.base_url + "/rest/", token_func=token_func)
    answer = bitrix.call("crm.lead.add", {"fields": {"TITLE": "fb24 oauth"}}, raw=True)
    assert lead_title(plain, answer["result"]) == "fb24 oauth"
    assert len(given) == 2 and given[0] != given[1]
    assert counts(plain) == [(2, 1)]


# --- b24pysdk ------------------------------------------------------------------------------------------


@pytest.fixture
def trust(tls: LiveServer, monkeypatch: pytest.MonkeyPatch) -> str:
    """The server's netloc, with requests trusting its CA."""
    assert tls.ca_file is not None
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", tls.ca_file)
    return urlsplit(tls.base_url).netloc


def test_b24pysdk_retries_query_limit_exceeded(tls: LiveServer, trust: str) -> None:
    webhook = BitrixWebhook(domain=trust, webhook_token=tls.webhook_path.removeprefix("/rest/").rstrip("/"))
    client = Client(webhook, initial_retry_delay=0.05, retry_delay_increment=0)
    set_rules(tls, [{"method": "crm.lead.add", "times": 2, "error": "QUERY_LIMIT_EXCEEDED"}])
    lead = client.crm.lead.add(fields={"TITLE": "b24pysdk retried"}).result
    assert lead_title(tls, lead) == "b24pysdk retried"
    assert counts(tls) == [(3, 2)]


class LocalApp(BitrixApp):
    """An application whose refresh goes to b24local (the stock one goes to oauth.bitrix24.tech)."""

    def __init__(self, server: LiveServer, client_id: str, client_secret: str) -> None:
        super().__init__(client_id=client_id, client_secret=client_secret)
        self.server = server
        self.refreshes = 0

    def refresh_oauth_token(self, refresh_token: str, **kwargs: Any) -> RenewedOAuth:
        self.refreshes += 1
        answer = refreshed(self.server, self.client_id, self.client_secret, refresh_token)
        return RenewedOAuth.from_dict(answer)


def test_b24pysdk_refreshes_on_expired_token(tls: LiveServer, trust: str) -> None:
    client_id, secret = new_app(tls)
    pair = tokens(tls, client_id, secret)
    app = LocalApp(tls, client_id, secret)
    token = BitrixToken(
        domain=trust,
        auth_token=pair["access_token"],
        refresh_token=pair["refresh_token"],
        expires=datetime.datetime.now(datetime.UTC) + datetime.timedelta(hours=1),
        bitrix_app=app,
    )
    set_rules(tls, [{"method": "crm.lead.add", "app": client_id, "times": 1, "error": "expired_token"}])
    lead = Client(token).crm.lead.add(fields={"TITLE": "b24pysdk refreshed"}).result
    assert lead_title(tls, lead) == "b24pysdk refreshed"
    assert app.refreshes == 1 and token.auth_token != pair["access_token"]
    assert counts(tls) == [(2, 1)]


# --- b24jssdk ------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def node() -> str:
    return node_with_sdk()


def run_script(node: str, server: LiveServer, *args: str) -> dict[str, Any]:
    return run_node(node, [str(JS_DIR / "b24jssdk_faults_run.mjs"), *args], server.ca_file)


def test_b24jssdk_retries_query_limit_exceeded(tls: LiveServer, node: str) -> None:
    set_rules(tls, [{"method": "crm.lead.add", "times": 2, "error": "QUERY_LIMIT_EXCEEDED"}])
    out = run_script(node, tls, "hook", tls.webhook_url)
    assert out["add"]["isSuccess"] is True
    assert lead_title(tls, out["add"]["result"]) == "b24jssdk faults hook"
    assert counts(tls) == [(3, 2)]


def test_b24jssdk_oauth_refreshes_on_expired_token(tls: LiveServer, node: str) -> None:
    client_id, secret = new_app(tls)
    pair = tokens(tls, client_id, secret)
    set_rules(tls, [{"method": "crm.lead.add", "app": client_id, "times": 1, "error": "expired_token"}])
    config = {"tokens": pair, "clientId": client_id, "clientSecret": secret}
    out = run_script(node, tls, "oauth", json.dumps(config))
    assert out["add"]["isSuccess"] is True
    assert lead_title(tls, out["add"]["result"]) == "b24jssdk faults oauth"
    assert len(out["refreshed"]) == 1
    assert out["refreshed"][0]["refresh_token"] != pair["refresh_token"]
    assert counts(tls) == [(2, 1)]
