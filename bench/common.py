"""Paths, the benchmark webhook, and a minimal HTTP client for checks and start-up probes."""

from __future__ import annotations

import json
import shutil
import socket
import sys
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
RESULTS = BENCH / "results"
CACHE = RESULTS / "cache"
DOC = ROOT / "docs" / "performance.md"
VENV_BIN = Path(sys.executable).parent
B24LOCAL = VENV_BIN / "b24local"
PY_SPY = VENV_BIN / "py-spy"
WRK = shutil.which("wrk") or "/usr/bin/wrk"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"

CONTACTS_PER_LEAD = 5
WEBHOOK_USER = 1
WEBHOOK_CODE = "benchhook4k7q2m9x"  # known to the runner; stored hashed like any other
PAGE_SIZE = 50  # crm.*.list pages
BATCH_SIZE = 50  # commands in the batch scenario (the protocol's maximum)


def webhook_path(method: str) -> str:
    return f"/rest/{WEBHOOK_USER}/{WEBHOOK_CODE}/{method}.json"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def post(url: str, body: dict[str, Any], timeout: float = 10.0) -> tuple[int, Any]:
    """POSTs ``body`` as JSON; the status and the decoded answer (None when it is not JSON)."""
    status, raw = post_raw(url, body, timeout)
    try:
        return status, json.loads(raw or b"null")
    except ValueError:
        return status, None


def post_raw(url: str, body: dict[str, Any], timeout: float = 10.0) -> tuple[int, bytes]:
    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return int(response.status), bytes(response.read())
    except urllib.error.HTTPError as exc:
        return int(exc.code), bytes(exc.read() or b"")


class CheckFailed(SystemExit):
    """A scenario's answer was not what the benchmark expects: nothing is measured."""


def expect(condition: bool, message: str) -> None:
    if not condition:
        raise CheckFailed(f"check failed: {message}")
