"""What the tests that drive a client in another runtime (Node, PHP) share.

Each such module runs one script once against a seeded server (:func:`seed`) and asserts parts of the
JSON it prints. A missing runtime skips the module's tests on a developer's machine and fails them on CI
(:func:`missing_runtime`).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import LiveServer

LEADS = 263  # five full pages of 50 and a sixth of 13
MISSING_LEAD = 999_999_999
PROXY_VARIABLES = {"http_proxy", "https_proxy", "all_proxy"}
JS_DIR = Path(__file__).parent / "js"


def missing_runtime(reason: str) -> None:
    """Skip on a developer's machine; on CI (``CI`` set) a missing runtime is a failure."""
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (CI is set, so this fails instead of skipping)", pytrace=False)
    pytest.skip(reason)


def environment_without_proxies() -> dict[str, str]:
    """This process's environment without proxy variables, so the script talks to the server directly."""
    return {k: v for k, v in os.environ.items() if k.lower() not in PROXY_VARIABLES}


@dataclass(frozen=True)
class Seeded:
    """What :func:`seed` put on the server (a module's run, with the script's output, extends it)."""

    title: str
    lead_ids: list[int]
    set_lead: int
    add_lead: int
    contacts: tuple[int, int]

    def fixture(self) -> dict[str, Any]:
        """The fixture the script takes as its second argument (as JSON)."""
        return {
            "setLead": self.set_lead,
            "addLead": self.add_lead,
            "missingLead": MISSING_LEAD,
            "contacts": list(self.contacts),
            "title": self.title,
        }


def seed(server: LiveServer, title: str) -> Seeded:
    """:data:`LEADS` leads titled ``title``, two more leads and two contacts."""
    lead_ids = [server.insert_lead(title=title) for _ in range(LEADS)]
    set_lead, add_lead = server.insert_lead(), server.insert_lead()
    contacts = (server.insert_contact(), server.insert_contact())
    return Seeded(title, lead_ids, set_lead, add_lead, contacts)


# Node.js and @bitrix24/b24jssdk --------------------------------------------------------------------


def _installed_sdk_version() -> str | None:
    manifest = JS_DIR / "node_modules" / "@bitrix24" / "b24jssdk" / "package.json"
    if not manifest.is_file():
        return None
    return str(json.loads(manifest.read_text(encoding="utf-8"))["version"])


def _locked_sdk_version() -> str:
    lock = json.loads((JS_DIR / "package-lock.json").read_text(encoding="utf-8"))
    return str(lock["packages"]["node_modules/@bitrix24/b24jssdk"]["version"])


def node_with_sdk() -> str:
    """The ``node`` executable, with tests/clients/js/node_modules installed from the lock file."""
    executable = shutil.which("node")
    if executable is None:
        missing_runtime("node is not installed: the @bitrix24/b24jssdk tests need Node.js 20+ and npm")
    assert executable is not None
    if _installed_sdk_version() != _locked_sdk_version():
        npm = shutil.which("npm")
        if npm is None:
            missing_runtime("npm is not installed: it is needed once to install tests/clients/js")
        assert npm is not None
        done = subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund"],
            cwd=JS_DIR,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        if done.returncode != 0:
            pytest.fail(f"npm ci failed ({done.returncode}):\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    return executable


def run_node(node: str, args: list[str], ca_file: str | None) -> dict[str, Any]:
    """Run ``node *args`` in tests/clients/js, trusting the server's CA, and return the JSON object the
    script prints on its last line."""
    assert ca_file is not None, "the b24jssdk scripts need a server started with --tls"
    env = environment_without_proxies()
    env["NODE_EXTRA_CA_CERTS"] = ca_file
    done = subprocess.run(
        [node, *args], cwd=JS_DIR, capture_output=True, text=True, timeout=120, env=env, check=False
    )
    assert done.returncode == 0, f"node exited {done.returncode}:\n{done.stderr[-3000:]}"
    out: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return out


def run_node_script(node: str, script: str, live: LiveServer, fixture: dict[str, Any]) -> dict[str, Any]:
    """``node script <webhook> <fixture-json>`` against ``live`` (see :func:`run_node`)."""
    return run_node(node, [script, live.webhook_url, json.dumps(fixture)], live.ca_file)
