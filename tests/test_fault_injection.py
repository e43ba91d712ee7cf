"""Fault injection (contract test-portal.md T9) on live servers: ``reset`` over a real connection, the
502 page's head on the wire, ``times: 1`` shared by the processes of one database (SQLite
``--workers 2``, two servers on one PostgreSQL database), and ``serve --faults FILE``.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from tests.conftest import LiveServer, new_database, start_server
from tests.servers import free_port

pytestmark = pytest.mark.live

TOKEN = "adm-faults-live"
ADMIN = {"authorization": f"Bearer {TOKEN}"}
CODE = "faultswebhook42"


def set_rules(server: LiveServer, rules: list[dict[str, Any]]) -> None:
    answer = server.raw("PUT", "/_b24local/faults", json=rules, headers=ADMIN)
    assert answer.status_code == 200, answer.text


def rules_shown(server: LiveServer) -> list[dict[str, Any]]:
    return list(server.raw("GET", "/_b24local/faults", headers=ADMIN).json()["rules"])


def port_of(server: LiveServer) -> int:
    return int(server.base_url.rsplit(":", 1)[1])


def request_bytes(path: str) -> bytes:
    return f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode()


def read_answer(sock: socket.socket) -> tuple[bytes, bytes]:
    """One whole answer (head and the body its Content-Length gives) from ``sock``."""
    got = b""
    while b"\r\n\r\n" not in got:
        chunk = sock.recv(65536)
        assert chunk, got
        got += chunk
    head, body = got.split(b"\r\n\r\n", 1)
    length = next(
        int(line.split(b":")[1])
        for line in head.split(b"\r\n")
        if line.lower().startswith(b"content-length:")
    )
    while len(body) < length:
        chunk = sock.recv(65536)
        assert chunk, body
        body += chunk
    return head, body


@pytest.fixture
def live(request: pytest.FixtureRequest, backend: str, tmp_path: Path) -> Any:
    server = start_server(new_database(request, backend, tmp_path), "--admin-token", TOKEN)
    yield server
    server.stop()


def test_reset_closes_the_connection_without_an_answer(live: LiveServer) -> None:
    set_rules(live, [{"method": "server.time", "times": 2, "error": "reset"}])
    with socket.create_connection(("127.0.0.1", port_of(live)), timeout=10) as sock:
        # A first request on the connection is answered (keep-alive); the faulted one gets nothing.
        sock.sendall(request_bytes(live.webhook_path + "profile"))
        assert read_answer(sock)[0].startswith(b"HTTP/1.1 200 OK\r\n")
        sock.sendall(request_bytes(live.webhook_path + "server.time"))
        with pytest.raises(ConnectionResetError):  # a TCP reset, not even a FIN first
            sock.recv(65536)
    with httpx.Client(timeout=10) as client, pytest.raises(httpx.TransportError):
        client.get(live.webhook_url + "server.time")
    # The rule is spent: the server answers the next call, and nothing was logged as an error.
    assert live.call("server.time").status == 200
    assert [(rule["hits"], rule["faulted"]) for rule in rules_shown(live)] == [(3, 2)]
    assert "ASGI" not in live.output(wait=0.2)


def test_reset_over_tls(tmp_path: Path) -> None:
    """The reset reaches the TCP connection under TLS too: the client sees it drop, not an answer."""
    server = start_server(tmp_path / "b.db", "--admin-token", TOKEN, "--tls")
    try:
        set_rules(server, [{"method": "server.time", "times": 1, "error": "reset"}])
        with server.new_client() as client, pytest.raises(httpx.TransportError):
            client.get(server.webhook_url + "server.time")
        assert server.call("server.time").status == 200
        assert "ASGI" not in server.output(wait=0.2)
    finally:
        server.stop()


def test_html_502_on_the_wire(live: LiveServer) -> None:
    set_rules(live, [{"method": "crm.lead.list", "error": "html_502"}])
    with socket.create_connection(("127.0.0.1", port_of(live)), timeout=10) as sock:
        sock.sendall(request_bytes(live.webhook_path + "crm.lead.list"))
        head, body = read_answer(sock)
    lines = head.split(b"\r\n")
    assert lines[0] == b"HTTP/1.1 502 Bad Gateway"
    assert sorted(line.split(b":")[0].lower() for line in lines[1:]) == [
        b"content-length",
        b"content-type",
        b"date",
    ]
    assert b"content-type: text/html" in lines
    assert body.startswith(b"<html>\r\n<head><title>502 Bad Gateway</title>") and len(body) == 150


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="--workers uses fork")
def test_times_one_fails_exactly_one_call_of_concurrent_calls(
    request: pytest.FixtureRequest, backend: str, tmp_path: Path
) -> None:
    """Six threads call at once through both processes of the database (SQLite: two workers; PostgreSQL:
    two servers): of 120 calls exactly one is faulted, whichever process took it."""
    db = new_database(request, backend, tmp_path)
    common = ("--admin-token", TOKEN, "--webhook-code", CODE)
    if backend == "sqlite":
        servers = [start_server(db, *common, "--workers", "2")]
    else:
        servers = [start_server(db, *common), start_server(db, *common)]
    try:
        set_rules(servers[0], [{"method": "crm.lead.add", "times": 1, "error": "QUERY_LIMIT_EXCEEDED"}])
        seen: Counter[int] = Counter()
        lock = threading.Lock()
        start = threading.Barrier(6)

        def call(index: int) -> None:
            target = servers[index % len(servers)]
            got: Counter[int] = Counter()
            with httpx.Client(timeout=30) as client:
                start.wait()
                for _ in range(20):
                    answer = client.post(target.webhook_url + "crm.lead.add", json={"fields": {"TITLE": "t"}})
                    got[answer.status_code] += 1
            with lock:
                seen.update(got)

        threads = [threading.Thread(target=call, args=(i,)) for i in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert seen == {200: 119, 503: 1}
        shown = rules_shown(servers[-1])
        assert [(rule["hits"], rule["faulted"], rule["remaining"]) for rule in shown] == [(120, 1, 0)]
        # The faulted call wrote nothing: 119 leads.
        assert servers[0].call("crm.lead.list", {"start": 0}).body["total"] == 119
    finally:
        for server in servers:
            server.stop()


def test_rules_set_by_one_server_apply_in_another(
    request: pytest.FixtureRequest, backend: str, tmp_path: Path
) -> None:
    db = new_database(request, backend, tmp_path)
    common = ("--admin-token", TOKEN, "--webhook-code", CODE)
    first = start_server(db, *common)
    second = start_server(db, *common)
    try:
        assert second.call("server.time").status == 200  # its rules (none) are cached now
        set_rules(first, [{"method": "server.time", "error": "INTERNAL_SERVER_ERROR"}])
        assert second.call("server.time").status == 500
        first.raw("DELETE", "/_b24local/faults", headers=ADMIN)
        assert second.call("server.time").status == 200
    finally:
        first.stop()
        second.stop()


@pytest.mark.parametrize("suffix", [".json", ".yaml"])
def test_serve_faults_file_sets_the_rules_at_start(tmp_path: Path, suffix: str) -> None:
    rules = [{"method": "server.time", "every": 2, "error": "OPERATION_TIME_LIMIT"}]
    path = tmp_path / f"faults{suffix}"
    # JSON is YAML too: the same text serves both readers.
    path.write_bytes(orjson.dumps(rules))
    server = start_server(tmp_path / "b.db", "--admin-token", TOKEN, "--faults", str(path))
    try:
        assert [server.call("server.time").status for _ in range(4)] == [200, 429, 200, 429]
        assert rules_shown(server) == [{"rule": rules[0], "hits": 4, "faulted": 2}]
    finally:
        server.stop()


def test_serve_refuses_a_wrong_faults_file(tmp_path: Path) -> None:
    path = tmp_path / "faults.json"
    path.write_bytes(orjson.dumps([{"method": "a", "error": "reset"}, {"method": "b", "error": "FOO"}]))
    missing = tmp_path / "missing.json"
    for given, why in (
        (path, f"--faults {path}: [1].error: unknown error 'FOO'"),
        (missing, f"--faults: cannot read {missing}: No such file or directory"),
    ):
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "b24local",
                "serve",
                "--port",
                str(free_port()),
                "--database",
                f"sqlite:///{tmp_path / 'b.db'}",
                "--faults",
                str(given),
            ],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert (done.returncode, done.stderr) == (2, f"b24local: error: {why}\n")
