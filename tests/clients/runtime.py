"""What the tests that drive a client in another runtime (Node, PHP) share.

Each such module runs one script once against a seeded server (:func:`seed`) and asserts parts of the
JSON it prints. A missing runtime skips the module's tests on a developer's machine and fails them on CI
(:func:`missing_runtime`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import pytest

from tests.conftest import LiveServer

LEADS = 263  # five full pages of 50 and a sixth of 13
MISSING_LEAD = 999_999_999
PROXY_VARIABLES = {"http_proxy", "https_proxy", "all_proxy"}


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
