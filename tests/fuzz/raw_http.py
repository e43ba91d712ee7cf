"""Malformed HTTP over a real socket to a live server (the part the in-process run cannot reach).

Each case is bytes sent on a new connection, whose write side is then closed; the server must answer
(status below 500, a JSON body) or close, within a bound relative to a trivial call, and then still
serve. Case ``index`` of seed ``seed`` is ``random.Random(f"raw:{seed}:{index}")``, as in-process.
"""

from __future__ import annotations

import random
import socket
import statistics
import time
from collections import Counter
from dataclasses import dataclass, field

import httpx

from tests.fuzz.checks import answer_problems
from tests.fuzz.encode import FuzzRequest

#: As in-process (runner.py), with a higher floor: a socket round trip to another process.
MULTIPLE = 300
FLOOR = 2.0
PROFILE = b"/rest/<admin>/profile"


def _request(line: bytes, *headers: bytes, body: bytes = b"") -> bytes:
    return line + b"\r\n" + b"".join(h + b"\r\n" for h in headers) + b"\r\n" + body


def _get(path: bytes = PROFILE, *headers: bytes, version: bytes = b"HTTP/1.1") -> bytes:
    return _request(b"GET " + path + b" " + version, b"Host: 127.0.0.1", *headers)


def _post(*headers: bytes, body: bytes = b"{}") -> bytes:
    return _request(b"POST " + PROFILE + b" HTTP/1.1", b"Host: 127.0.0.1", *headers, body=body)


def case(seed: str, index: int) -> tuple[str, bytes]:
    """(name, bytes) of raw case ``index``; ``<admin>`` stands for the webhook's ``{user}/{code}``."""
    rng = random.Random(f"raw:{seed}:{index}")
    big = rng.choice((1_000, 70_000, 300_000))
    cases: dict[str, bytes] = {
        "garbage": bytes(rng.randrange(256) for _ in range(rng.randint(1, 2_000))) + b"\r\n\r\n",
        "no version": b"GET " + PROFILE + b"\r\n\r\n",
        "bare method": b"GET\r\n\r\n",
        "version 9.9": _get(version=b"HTTP/9.9"),
        "HTTP/1.0 without Host": b"GET " + PROFILE + b" HTTP/1.0\r\n\r\n",
        "lower-case method": _request(b"get " + PROFILE + b" HTTP/1.1", b"Host: x"),
        "unknown method": _request(b"PROPFIND " + PROFILE + b" HTTP/1.1", b"Host: x"),
        "NUL in method": _request(b"G\x00T " + PROFILE + b" HTTP/1.1", b"Host: x"),
        "space in path": _get(b"/rest/<admin>/pro file"),
        "raw bytes in path": _get(b"/rest/<admin>/\xff\xfe\x00"),
        "bad escape in path": _get(b"/rest/<admin>/profile%ZZ%"),
        "NUL escape in path": _get(b"/rest/<admin>/profile%00.json"),
        "absolute URI": _get(b"http://127.0.0.1" + PROFILE),
        "asterisk": _request(b"OPTIONS * HTTP/1.1", b"Host: x"),
        "CONNECT": _request(b"CONNECT 127.0.0.1:80 HTTP/1.1", b"Host: x"),
        "long URL": _get(PROFILE + b"?" + b"a=1&" * big),
        "long header": _get(PROFILE, b"X-Long: " + b"a" * big),
        "many headers": _get(PROFILE, *(b"X-H%d: v" % i for i in range(rng.choice((100, 5_000))))),
        "header without colon": _get(PROFILE, b"NoColonHere"),
        "space before colon": _get(PROFILE, b"Content-Type : application/json"),
        "bad header name": _get(PROFILE, b"X(\x01): v"),
        "NUL in header value": _get(PROFILE, b"X-A: a\x00b"),
        "folded header": _get(PROFILE, b"X-A: a", b" folded"),
        "bare LF": b"GET " + PROFILE + b" HTTP/1.1\nHost: x\n\n",
        "content-length not a number": _post(b"Content-Length: abc"),
        "negative content-length": _post(b"Content-Length: -1"),
        "huge content-length": _post(b"Content-Length: 99999999999999999999"),
        "two content-lengths": _post(b"Content-Length: 2", b"Content-Length: 3"),
        "content-length past the body": _post(b"Content-Length: 100"),
        "content-length before the body ends": _post(b"Content-Length: 1", body=b"{}GET / HTTP/1.1\r\n\r\n"),
        "length and chunked": _post(
            b"Content-Length: 2", b"Transfer-Encoding: chunked", body=b"2\r\n{}\r\n0\r\n\r\n"
        ),
        "bad chunk size": _post(b"Transfer-Encoding: chunked", body=b"zz\r\n{}\r\n0\r\n\r\n"),
        "huge chunk size": _post(b"Transfer-Encoding: chunked", body=b"ffffffffffffffffffff\r\n{}\r\n"),
        "unterminated chunks": _post(b"Transfer-Encoding: chunked", body=b"2\r\n{}\r\n"),
        "chunk extension junk": _post(
            b"Transfer-Encoding: chunked", body=b"2;\x00=\xff\r\n{}\r\n0\r\nX: y\r\n\r\n"
        ),
        "unknown transfer coding": _post(b"Transfer-Encoding: gzip, chunked", body=b"2\r\n{}\r\n0\r\n\r\n"),
        "expect 100-continue": _post(
            b"Expect: 100-continue", b"Content-Type: application/json", b"Content-Length: 2"
        ),
        "websocket upgrade": _get(
            PROFILE,
            b"Connection: Upgrade",
            b"Upgrade: websocket",
            b"Sec-WebSocket-Version: 13",
            b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
        ),
        "h2c upgrade": _get(
            PROFILE,
            b"Connection: Upgrade, HTTP2-Settings",
            b"Upgrade: h2c",
            b"HTTP2-Settings: AAMAAABkAAQAoAAAAAIAAAAA",
        ),
        "HTTP/2 preface": b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
        "TLS hello": bytes.fromhex("16030100a5010000a10303") + bytes(rng.randrange(256) for _ in range(160)),
        "pipelined then garbage": _get() + _get(b"/rest/<admin>/crm.lead.list") + b"\x00\xff junk\r\n\r\n",
        "form body, wrong length": _post(
            b"Content-Type: application/x-www-form-urlencoded", b"Content-Length: 5", body=b"a[]=1&a[]=2"
        ),
    }
    name = rng.choice(sorted(cases))
    return name, cases[name]


@dataclass(slots=True)
class RawReport:
    seed: str
    count: int
    outcomes: Counter[str] = field(default_factory=Counter)
    worst: tuple[float, str] = (0.0, "")
    median: float = 0.0
    failures: list[tuple[str, str]] = field(default_factory=list)  # (case name, what went wrong)

    def failure_text(self) -> str:
        """The first failure of each case, with how often its case failed."""
        counts = Counter(name for name, _ in self.failures)
        first: dict[str, str] = {}
        for name, text in self.failures:
            first.setdefault(name, text)
        return "\n".join([self.summary(), *(f"{counts[n]}x {text}" for n, text in first.items())])

    def summary(self) -> str:
        outcomes = ", ".join(f"{k}: {n}" for k, n in sorted(self.outcomes.items()))
        return (
            f"fuzz raw HTTP seed={self.seed!r}: {self.count} connections; {outcomes}; worst "
            f"{self.worst[0]:.0f}x the median profile call ({self.median * 1000:.2f} ms) ({self.worst[1]}); "
            f"failures {len(self.failures)}"
        )


def exchange(port: int, data: bytes, timeout: float) -> tuple[bytes, bool, float]:
    """Send ``data``, close the write side, read to the end: (what came back, closed?, seconds)."""
    started = time.perf_counter()
    received = bytearray()
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        try:
            sock.sendall(data)
            sock.shutdown(socket.SHUT_WR)
        except OSError:
            pass  # the server may close before it has read everything: what it answered still counts
        try:
            while chunk := sock.recv(65_536):
                received += chunk
        except TimeoutError:
            return bytes(received), False, time.perf_counter() - started
        except OSError:
            pass  # a reset after the answer
    return bytes(received), True, time.perf_counter() - started


def responses(data: bytes) -> list[tuple[int, bytes]]:
    """(status, body) of each response in ``data``; interim 1xx answers skipped."""
    out: list[tuple[int, bytes]] = []
    while data.startswith(b"HTTP/"):
        head, _, rest = data.partition(b"\r\n\r\n")
        lines = head.split(b"\r\n")
        status = int(lines[0].split()[1])
        length = 0
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value.strip())
        body, data = rest[:length], rest[length:]
        if status >= 200:
            out.append((status, body))
    return out


def run_raw(base_url: str, webhook: str, seed: str, count: int) -> RawReport:
    """``webhook``: the ``{user}/{code}`` of a webhook of the live server at ``base_url``."""
    port = int(base_url.rsplit(":", 1)[1])
    report = RawReport(seed, count)
    with httpx.Client(base_url=base_url, timeout=30) as client:
        times = []
        for _ in range(20):
            started = time.perf_counter()
            assert client.post(f"/rest/{webhook}/profile").status_code == 200
            times.append(time.perf_counter() - started)
        report.median = statistics.median(times)
        bound = max(FLOOR, MULTIPLE * report.median)
        for index in range(count):
            name, template = case(seed, index)
            data = template.replace(b"<admin>", webhook.encode())
            received, closed, elapsed = exchange(port, data, bound)
            where = f"raw case {index} ({name}), seed {seed!r}: sent {data[:200]!r} ({len(data):,} bytes)"
            ratio = elapsed / report.median
            if ratio > report.worst[0]:
                report.worst = (ratio, name)
            if not closed:
                report.failures.append(
                    (name, f"stalled: no answer and no close within {bound:.1f} s; {where}")
                )
            answers = responses(received)
            if not answers:
                report.outcomes["closed without an answer" if closed else "stalled"] += 1
            for status, body in answers:
                report.outcomes[str(status)] += 1
                probe = FuzzRequest("raw", "GET", "/rest/x")
                problems = answer_problems(probe, status, body)
                report.failures += [
                    (name, f"{problem}: answered {status} {body[:200]!r}; {where}") for problem in problems
                ]
            if client.post(f"/rest/{webhook}/profile").status_code != 200:
                report.failures.append((name, f"the server stopped serving after {where}"))
    return report
