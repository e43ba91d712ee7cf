"""The in-process server answers as the live one does (tests/inprocess.py), so the contract tests can
run in-process: the same requests to a live server and to an in-process one on the same database (and
so the same webhook) get the same status, headers and body.

What differs by nature is left out: the ``date`` header, and the ``time`` member of a success (its
timestamps, and so the body's length, also of a HEAD).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import orjson
import pytest

from tests.conftest import LiveServer, Server, new_database, start_in_process, start_server

pytestmark = pytest.mark.live


@pytest.fixture(scope="module")
def twins(
    request: pytest.FixtureRequest, backend: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[LiveServer, Server]]:
    live = start_server(new_database(request, backend, tmp_path_factory.mktemp("twins")))
    try:
        lead = live.insert_lead()
        live.call("crm.lead.contact.add", {"id": lead, "fields": {"CONTACT_ID": live.insert_contact()}})
        in_process = start_in_process(live.db_url, webhook_path=live.webhook_path)
    except BaseException:
        live.stop()
        raise
    yield live, in_process
    in_process.stop()
    live.stop()


def chunks() -> Iterator[bytes]:
    """A streamed body (no Content-Length) over the 8 MiB limit."""
    yield b'{"pad": "'
    for _ in range(9):
        yield b"x" * (1024 * 1024)
    yield b'"}'


#: (method, path with HOOK for the webhook's /rest/1/CODE/ part, httpx keyword arguments).
REQUESTS: list[tuple[str, str, dict[str, Any]]] = [
    ("GET", "HOOKcrm.lead.contact.items.get?id=1", {}),
    ("POST", "HOOKcrm.lead.contact.items.get.json", {"json": {"id": 1}}),
    ("POST", "HOOKcrm.lead.contact.items.get", {"data": {"id": "1"}}),
    ("POST", "HOOKcrm.lead.contact.items.get", {"files": {"id": (None, "1")}}),
    ("GET", "HOOKCRM.LEAD.GET.XML?id=1", {}),
    ("GET", "HOOKcrm.lead.list?filter[%3EID]=0&select[]=ID&order[ID]=DESC", {}),
    ("GET", "HOOKcrm.lead%2Eget?id=1", {}),
    ("GET", "/rest//1//CODE//crm.lead.fields/", {}),
    ("HEAD", "HOOKcrm.lead.fields", {}),
    ("GET", "HOOKcrm.lead.fields", {"headers": {"connection": "close"}}),
    ("OPTIONS", "HOOKcrm.lead.add", {"json": {"fields": {"TITLE": "preflight"}}}),
    ("DELETE", "HOOKcrm.lead.get?id=1", {}),
    ("GET", "HOOKno.such.method", {}),
    ("GET", "HOOKno.such.method.xml", {}),
    ("GET", "/rest/1/wrong/crm.lead.fields", {}),
    ("GET", "/rest/crm.lead.fields?auth=nope", {}),
    ("POST", "HOOKcrm.lead.add", {"content": b"{broken", "headers": {"content-type": "application/json"}}),
    ("POST", "HOOKcrm.lead.fields", {"content": b" " * (8 * 1024 * 1024 + 1)}),
    ("POST", "HOOKcrm.lead.fields", {"content": chunks()}),
    ("GET", "/", {}),
    ("GET", "/_b24local/openapi.json", {}),
    ("HEAD", "/_b24local/openapi.json", {}),
    ("POST", "/_b24local/openapi.json", {}),
    ("GET", "/oauth/authorize/", {}),
    ("POST", "/oauth/token/", {"data": {"grant_type": "password"}}),
]


def answer(server: Server, method: str, path: str, options: dict[str, Any]) -> tuple[Any, ...]:
    hook = server.webhook_path
    path = path.replace("HOOK", hook).replace("/CODE/", "/" + hook.split("/")[3] + "/")
    if "content" in options and not isinstance(options["content"], bytes):
        options = {**options, "content": chunks()}  # a generator is spent by the first server
    reply = server.raw(method, path, **options)
    headers = {k: v for k, v in reply.headers.items() if k != "date"}
    body: Any = reply.content
    if body.startswith(b"{") and b'"time"' in body:
        body = {k: v for k, v in orjson.loads(body).items() if k != "time"}
    elif b"<time>" in body:
        body = body.split(b"<time>")[0]
    elif not (method == "HEAD" and path.startswith(hook)):  # a HEAD of a method: the GET's length
        return reply.status_code, headers, body
    headers.pop("content-length")
    return reply.status_code, headers, body


@pytest.mark.parametrize(("method", "path", "options"), REQUESTS, ids=[f"{m} {p}" for m, p, _ in REQUESTS])
def test_same_answer(
    twins: tuple[LiveServer, Server], method: str, path: str, options: dict[str, Any]
) -> None:
    live, in_process = twins
    expected = answer(live, method, path, options)
    assert answer(in_process, method, path, options) == expected
    assert expected[0] != 500


def test_a_client_of_its_own_reaches_only_its_server(twins: tuple[LiveServer, Server]) -> None:
    _, in_process = twins
    with in_process.new_client() as client:
        assert client.get(in_process.webhook_url + "server.time").status_code == 200
    with pytest.raises(httpx.ConnectError):  # its URLs name a host that never resolves
        httpx.get(in_process.webhook_url + "server.time")
