"""Connections and what the HTTP server answers itself (issue 14): the head deadline, the cap on open
connections, JSON for malformed HTTP, OPTIONS and HEAD.

Closure is asserted by reading EOF on a raw socket. ``GUARD`` only ends a test that fails (a connection
the server never closes); it is many times any timeout under test, not a bound on the server's speed.
"""

from __future__ import annotations

import contextlib
import resource
import select
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import orjson
import pytest

from tests.conftest import LiveServer, new_database, start_server

pytestmark = pytest.mark.live  # the HTTP layer: sockets

GUARD = 30.0
JSON_TYPE = b"application/json; charset=utf-8"
MALFORMED = {"error": "INVALID_REQUEST", "error_description": "Malformed HTTP request"}
URL_TOO_LONG = {"error": "INVALID_REQUEST", "error_description": "Request-URI Too Large"}
HEAD_TOO_LARGE = {"error": "INVALID_REQUEST", "error_description": "Request Header Or Cookie Too Large"}
TOO_MANY = {
    "error": "QUERY_LIMIT_EXCEEDED",
    "error_description": "Too many requests: too many open connections, try again",
}
NOT_REST = {"error": "NOT_FOUND", "error_description": "Not found: use /rest/..."}
NOT_OAUTH = {"error": "NOT_FOUND", "error_description": "Not found: use /oauth/authorize/ or /oauth/token/"}
REQUEST = b"GET /x HTTP/1.1\r\nHost: b24\r\n\r\n"


@pytest.fixture(scope="module")
def quick(
    request: pytest.FixtureRequest, backend: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    """A server whose request heads must arrive within 0.5 s."""
    live = start_server(
        new_database(request, backend, tmp_path_factory.mktemp("q")), "--header-timeout", "0.5"
    )
    yield live
    live.stop()


def connect(live: LiveServer) -> socket.socket:
    port = urlsplit(live.base_url).port
    assert port is not None
    return socket.create_connection(("127.0.0.1", port), timeout=GUARD)


def closed(sock: socket.socket) -> bool:
    """True when the server closed the connection without answering: EOF (or a reset) comes first."""
    try:
        return sock.recv(4096) == b""
    except ConnectionResetError:
        return True


def read_answer(sock: socket.socket) -> tuple[int, dict[bytes, bytes], bytes]:
    """One whole answer (with a content-length) off the socket: status, headers, body."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        assert chunk, f"closed after {data!r}"
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    status_line, *lines = head.split(b"\r\n")
    headers = dict(line.split(b": ", 1) for line in lines)
    size = int(headers.get(b"content-length", b"0"))
    while len(rest) < size:
        chunk = sock.recv(65536)
        assert chunk, f"closed after {data + rest!r}"
        rest += chunk
    return int(status_line.split()[1]), headers, rest


def json_answer(sock: socket.socket) -> tuple[int, dict[str, str]]:
    status, headers, body = read_answer(sock)
    assert headers[b"content-type"] == JSON_TYPE, (status, headers, body)
    return status, orjson.loads(body)


def trickle_until_closed(sock: socket.socket) -> bool:
    """Sends one more byte of the head every 50 ms until the server closes (True) or GUARD ends."""
    end = time.monotonic() + GUARD
    while time.monotonic() < end:
        try:
            sock.sendall(b"a")
        except (BrokenPipeError, ConnectionResetError):
            return True
        readable, _, _ = select.select([sock], [], [], 0.05)
        if readable:
            return closed(sock)
    return False


# --- The head deadline -----------------------------------------------------------------------------


def test_idle_connection_is_closed(quick: LiveServer) -> None:
    with connect(quick) as sock:
        assert closed(sock)


def test_idle_keep_alive_connection_is_closed_after_an_answer(quick: LiveServer) -> None:
    with connect(quick) as sock:
        sock.sendall(REQUEST)
        assert json_answer(sock) == (404, NOT_REST)
        assert closed(sock)


def test_trickled_head_is_closed(quick: LiveServer) -> None:
    with connect(quick) as sock:
        sock.sendall(b"GET /x HTTP/1.1\r\nHost: b24\r\nX-Slow: ")
        assert trickle_until_closed(sock)


def test_trickled_head_after_an_answer_is_closed(quick: LiveServer) -> None:
    """On keep-alive the deadline runs from the end of the answer; bytes received do not restart it."""
    with connect(quick) as sock:
        sock.sendall(REQUEST)
        assert json_answer(sock) == (404, NOT_REST)
        sock.sendall(b"GET /x HTTP/1.1\r\nHost: b24\r\nX-Slow: ")
        assert trickle_until_closed(sock)


def test_requests_in_time_are_served_on_one_connection(quick: LiveServer) -> None:
    with connect(quick) as sock:
        for _ in range(3):
            sock.sendall(REQUEST)
            assert json_answer(sock) == (404, NOT_REST)


# --- Malformed and over-long heads -----------------------------------------------------------------


@pytest.mark.parametrize(
    "head",
    [
        b"GET /x HTTP/1.1\r\nHost: b24\r\nNo colon here\r\n\r\n",
        b"FOO\x01 /x HTTP/1.1\r\nHost: b24\r\n\r\n",
        b"GET /x HTTP/9.9\r\nHost: b24\r\n\r\n",
        b"GET /x\x00y HTTP/1.1\r\nHost: b24\r\n\r\n",
        b"POST /x HTTP/1.1\r\nHost: b24\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
        b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03",  # a TLS hello sent to plain HTTP
    ],
)
def test_malformed_http_answers_json_400(quick: LiveServer, head: bytes) -> None:
    with connect(quick) as sock:
        sock.sendall(head)
        assert json_answer(sock) == (400, MALFORMED)
        assert closed(sock)


def test_url_over_8_kib_answers_414(quick: LiveServer) -> None:
    for pieces in (1, 3):  # whole in one read, or received in parts
        with connect(quick) as sock:
            head = b"GET /" + b"a" * 8200 + b" HTTP/1.1\r\nHost: b24\r\n\r\n"
            for start in range(0, len(head), len(head) // pieces + 1):
                sock.sendall(head[start : start + len(head) // pieces + 1])
            assert json_answer(sock) == (414, URL_TOO_LONG)


def test_head_over_32_kib_answers_400(quick: LiveServer) -> None:
    headers = b"".join(b"X-H%d: %s\r\n" % (i, b"v" * 4000) for i in range(9))
    with connect(quick) as sock:
        sock.sendall(b"GET /x HTTP/1.1\r\nHost: b24\r\n" + headers + b"\r\n")
        assert json_answer(sock) == (400, HEAD_TOO_LARGE)
    with connect(quick) as sock:  # an endless header: refused once 32 KiB are in, not buffered on
        sock.sendall(b"GET /x HTTP/1.1\r\nHost: b24\r\nX-Endless: ")
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            for _ in range(20):
                sock.sendall(b"v" * 4096)
        assert json_answer(sock) == (400, HEAD_TOO_LARGE)


def test_long_head_within_the_limits_is_served(quick: LiveServer) -> None:
    headers = b"".join(b"X-H%d: %s\r\n" % (i, b"v" * 3000) for i in range(7))
    with connect(quick) as sock:
        sock.sendall(b"GET /" + b"a" * 8000 + b" HTTP/1.1\r\nHost: b24\r\n" + headers + b"\r\n")
        assert json_answer(sock) == (404, NOT_REST)


def test_big_body_is_not_a_big_head(quick: LiveServer) -> None:
    body = orjson.dumps({"fields": {"TITLE": "x" * 100_000}})
    with connect(quick) as sock:
        path = urlsplit(quick.webhook_url).path + "crm.lead.add"
        head = f"POST {path} HTTP/1.1\r\nHost: b24\r\nContent-Type: application/json\r\n"
        sock.sendall(head.encode() + b"Content-Length: %d\r\n\r\n" % len(body) + body)
        status, answer = json_answer(sock)
        assert status == 200
        assert isinstance(answer["result"], int)
        sock.sendall(REQUEST)  # the next head on the connection starts from nothing
        assert json_answer(sock) == (404, NOT_REST)


def test_unknown_oauth_path_answers_json_404(quick: LiveServer) -> None:
    for path in ("/oauth/x", "/oauth/", "/oauth/token/extra"):
        response = quick.raw("GET", path)
        assert response.status_code == 404
        assert response.headers["content-type"] == JSON_TYPE.decode()
        assert response.json() == NOT_OAUTH


# --- OPTIONS and HEAD ------------------------------------------------------------------------------


def lead_total(live: LiveServer) -> int:
    total = live.call("crm.lead.list", {"start": 0}).body["total"]
    assert isinstance(total, int)
    return total


def test_options_runs_no_method_and_counts_for_no_limit(
    request: pytest.FixtureRequest, backend: str, tmp_path: Path
) -> None:
    live = start_server(new_database(request, backend, tmp_path), "--limits", "standard")
    try:
        assert lead_total(live) == 0
        add = live.webhook_url + "crm.lead.add"
        for _ in range(60):  # more than the standard bucket (50) holds
            response = live.client.request(
                "OPTIONS", add + "?fields[TITLE]=q", json={"fields": {"TITLE": "preflight"}}
            )
            assert response.status_code == 204
            assert response.headers["allow"] == "GET, HEAD, POST, OPTIONS"
            assert response.content == b""
        assert live.call("crm.lead.list", {"start": 0}).status == 200  # not refused: nothing counted
        assert lead_total(live) == 0
    finally:
        live.stop()


def test_head_answers_as_get_without_a_body(quick: LiveServer) -> None:
    response = quick.client.head(quick.webhook_url + "server.time")
    assert response.status_code == 200
    assert response.headers["content-type"] == JSON_TYPE.decode()
    assert int(response.headers["content-length"]) > 0
    assert response.content == b""


# --- The cap on open connections -------------------------------------------------------------------


def served(live: LiveServer, sock: socket.socket) -> bool:
    sock.sendall(REQUEST)
    return json_answer(sock) == (404, NOT_REST)


def hold(live: LiveServer, count: int) -> list[socket.socket]:
    """``count`` open connections, each served once. One at a time: the server has then long closed
    the connection start_server probed the port with (which it may accept only once it runs)."""
    held: list[socket.socket] = []
    for _ in range(count):
        held.append(connect(live))
        assert served(live, held[-1])
    return held


def refused(live: LiveServer) -> bool:
    with connect(live) as sock:
        status, body = json_answer(sock)
        assert closed(sock)
    return (status, body) == (503, TOO_MANY)


def served_again(live: LiveServer) -> bool:
    """Once connections have gone, a new one is served (polled: the server learns of closes a moment
    later)."""
    for _ in range(200):
        with connect(live) as sock:
            sock.sendall(REQUEST)
            status, body = json_answer(sock)
        if (status, body) == (404, NOT_REST):
            return True
        assert (status, body) == (503, TOO_MANY)
        time.sleep(0.05)
    return False


def test_connections_above_the_cap_are_refused(tmp_path: Path) -> None:
    live = start_server(tmp_path / "b24local.db", "--max-connections", "3", "--header-timeout", "60")
    try:
        held = hold(live, 3)
        assert refused(live)
        assert refused(live)
        assert served(live, held[0])  # the earlier ones are still served
        for sock in held:
            sock.close()
        assert served_again(live)
    finally:
        live.stop()


@contextlib.contextmanager
def descriptor_limit(soft: int) -> Iterator[None]:
    """Lowers this process's soft descriptor limit, which a server started meanwhile inherits."""
    before = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (soft, before[1]))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, before)


def test_default_cap_stays_below_the_descriptor_limit(tmp_path: Path) -> None:
    """With 100 descriptors the cap is 36 (64 kept for files): idle connections beyond it are refused
    at once, so the server never runs out of descriptors and serves again once they go."""
    with descriptor_limit(100):
        live = start_server(tmp_path / "b24local.db", "--header-timeout", "60")
    held: list[socket.socket] = []
    try:
        held = hold(live, 36)
        assert all(refused(live) for _ in range(80))  # more than the descriptors the server has
        assert served(live, held[-1])
        for sock in held:
            sock.close()
        assert served_again(live)
    finally:
        for sock in held:
            sock.close()
        live.stop()


def test_a_larger_cap_raises_the_soft_descriptor_limit(tmp_path: Path) -> None:
    """--max-connections 50 under a soft limit of 100 (room for 36): the server raises its soft limit
    (the hard one allows it) and holds all 50."""
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    if hard != resource.RLIM_INFINITY and hard < 50 + 64:
        pytest.skip("the hard descriptor limit is too low")
    with descriptor_limit(100):
        live = start_server(tmp_path / "b24local.db", "--max-connections", "50", "--header-timeout", "60")
    held: list[socket.socket] = []
    try:
        held = hold(live, 50)
        assert refused(live)
    finally:
        for sock in held:
            sock.close()
        live.stop()


def test_cli_refuses_a_cap_the_descriptor_limit_cannot_hold(tmp_path: Path) -> None:
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    database = f"sqlite:///{tmp_path / 'b24local.db'}"
    wrong = [("--header-timeout", "0"), ("--header-timeout", "x"), ("--max-connections", "0")]
    if hard != resource.RLIM_INFINITY:
        wrong.append(("--max-connections", str(hard)))
    for option, value in wrong:
        done = subprocess.run(
            [sys.executable, "-m", "b24local", "serve", "--database", database, option, value],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert done.returncode == 2, done
        assert done.stderr.startswith("b24local: error: "), done.stderr
        assert len(done.stderr.splitlines()) == 1


# --- With --tls and --workers ----------------------------------------------------------------------


def test_tls_idle_connection_is_closed(tmp_path: Path) -> None:
    live = start_server(tmp_path / "b24local.db", "--tls", "--header-timeout", "0.5")
    try:
        context = ssl.create_default_context(cafile=live.ca_file)
        ends = (ssl.SSLEOFError, ssl.SSLZeroReturnError, ConnectionResetError)
        with (
            context.wrap_socket(connect(live), server_hostname="127.0.0.1") as sock,
            contextlib.suppress(*ends),
        ):
            assert sock.recv(4096) == b""
    finally:
        live.stop()


def test_tls_connection_without_a_handshake_is_closed(tmp_path: Path) -> None:
    live = start_server(tmp_path / "b24local.db", "--tls", "--header-timeout", "0.5")
    try:
        with connect(live) as sock:
            assert closed(sock)
    finally:
        live.stop()


def test_workers_close_idle_connections(tmp_path: Path) -> None:
    live = start_server(tmp_path / "b24local.db", "--workers", "2", "--header-timeout", "0.5")
    try:
        held = [connect(live) for _ in range(6)]
        assert all(closed(sock) for sock in held)
        for sock in held:
            sock.close()
    finally:
        live.stop()
