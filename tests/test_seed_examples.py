"""The seed pages' cURL (webhook) examples, run unchanged but for the address (contract S7, G3)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import orjson
import pytest

from tests.conftest import LiveServer
from tests.expected import TIME_KEYS

pytestmark = pytest.mark.live  # curl: a URL

SEEDS = Path(__file__).resolve().parents[2] / "shared" / "seeds"
PLACEHOLDER = (
    "https://**put_your_bitrix24_address**/rest/**put_your_user_id_here**/**put_your_webhook_here**/"
)


def webhook_curl(page: str) -> str:
    """The page's "cURL (Webhook)" example as one shell command."""
    text = (SEEDS / page).read_text(encoding="utf-8")
    section = text.split("- cURL (Webhook)", 1)[1]
    block = re.search(r"```bash\n(.*?)```", section, re.S)
    assert block is not None
    return block.group(1).strip()


def run_curl(command: str, live: LiveServer) -> dict[str, object]:
    assert PLACEHOLDER in command
    command = command.replace(PLACEHOLDER, live.webhook_url)
    done = subprocess.run(
        ["bash", "-c", command + " --silent --show-error"], capture_output=True, check=True, text=True
    )
    return orjson.loads(done.stdout)


@pytest.fixture
def seeded(fresh_live_server: LiveServer) -> LiveServer:
    assert fresh_live_server.insert_lead() == 1
    fresh_live_server.insert_contact(1010)
    fresh_live_server.insert_contact(1011)
    fresh_live_server.insert_contact(1020)
    return fresh_live_server


def test_items_set_seed_example(seeded: LiveServer) -> None:
    body = run_curl(webhook_curl("crm-lead-contact-items-set.ru.md"), seeded)
    assert body["result"] is True
    assert set(body) == {"result", "time"}
    assert set(body["time"]) == TIME_KEYS  # type: ignore[arg-type]
    # G3: what the seed's items.set leaves, read back with the seed's items.get example.
    body = run_curl(webhook_curl("crm-lead-contact-items-get.ru.md"), seeded)
    assert body["result"] == [
        {"CONTACT_ID": 1010, "SORT": 10, "ROLE_ID": 0, "IS_PRIMARY": "Y"},
        {"CONTACT_ID": 1020, "SORT": 20, "ROLE_ID": 0, "IS_PRIMARY": "N"},
    ]


def test_items_get_seed_example(seeded: LiveServer) -> None:
    # The items.get page documents a lead bound to 1010 (primary) and 1011.
    seeded.call("crm.lead.contact.add", {"id": 1, "fields": {"CONTACT_ID": 1010}})
    seeded.call("crm.lead.contact.add", {"id": 1, "fields": {"CONTACT_ID": 1011}})
    body = run_curl(webhook_curl("crm-lead-contact-items-get.ru.md"), seeded)
    assert body["result"] == [
        {"CONTACT_ID": 1010, "SORT": 10, "ROLE_ID": 0, "IS_PRIMARY": "Y"},
        {"CONTACT_ID": 1011, "SORT": 20, "ROLE_ID": 0, "IS_PRIMARY": "N"},
    ]
