"""HTTPS: ``serve --tls`` with a local CA made once, and ``--tls-cert/--tls-key``."""

from __future__ import annotations

import os
import ssl
import stat
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.conftest import start_server

pytestmark = pytest.mark.live  # HTTPS: a socket


def test_local_ca_serves_https_that_verifies(tmp_path: Path) -> None:
    live = start_server(tmp_path / "b24local.db", "--tls")
    try:
        assert live.webhook_url.startswith("https://127.0.0.1:")
        assert live.ca_file == str((tmp_path / ".b24local" / "tls" / "ca.pem").resolve())
        # Verified against the printed CA, for the address and for the name localhost.
        assert live.call("server.time").status == 200
        localhost = live.webhook_url.replace("127.0.0.1", "localhost")
        reply = httpx.post(
            localhost + "crm.lead.contact.fields",
            verify=ssl.create_default_context(cafile=live.ca_file),
            timeout=10,
        )
        assert reply.status_code == 200
        # Without the CA the certificate is refused; plain http is not served.
        with pytest.raises(httpx.ConnectError):
            httpx.post(live.webhook_url + "server.time", timeout=10, verify=ssl.create_default_context())
        with pytest.raises(httpx.HTTPError):
            httpx.post(live.webhook_url.replace("https://", "http://") + "server.time", timeout=10)
        key = tmp_path / ".b24local" / "tls" / "ca-key.pem"
        assert stat.S_IMODE(key.stat().st_mode) == 0o600
        ca_bytes = Path(live.ca_file).read_bytes()
    finally:
        live.stop()
    # A restart keeps the same CA, so clients configured once keep working.
    again = start_server(tmp_path / "b24local.db", "--tls", webhook_path=live.webhook_path)
    try:
        assert Path(again.ca_file or "").read_bytes() == ca_bytes
        assert again.call("server.time").status == 200
    finally:
        again.stop()


def test_own_certificate(tmp_path: Path) -> None:
    first = start_server(tmp_path / "a.db", "--tls", "--data-dir", str(tmp_path / "made"))
    first.stop()
    tls = tmp_path / "made" / "tls"
    live = start_server(
        tmp_path / "b.db", "--tls-cert", str(tls / "server.pem"), "--tls-key", str(tls / "server-key.pem")
    )
    try:
        assert live.webhook_url.startswith("https://")
        assert live.ca_file is None  # the user's own certificate: no local CA is printed
        reply = httpx.post(
            live.webhook_url + "server.time",
            verify=ssl.create_default_context(cafile=tls / "ca.pem"),
            timeout=10,
        )
        assert reply.status_code == 200
    finally:
        live.stop()


def test_tls_flag_errors(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "b24local", "serve", "--tls-cert", str(tmp_path / "x.pem")],
        capture_output=True,
        check=False,
        text=True,
        env={**os.environ},
    )
    assert (done.returncode, done.stderr) == (2, "b24local: error: --tls-cert and --tls-key go together\n")
