"""Schemathesis against a live server, from the document it serves: no request makes a 500, and every
answer has the status and body its operation documents.

Bounded: a fixed number of examples per operation, a fixed seed, no shrinking; every method in its
webhook form, and in its OAuth form with fewer examples (it differs only in how the caller is named).
SQLite: the document is the same on every backend.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import hypothesis
import pytest
import schemathesis
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from b24local.auth import oauth
from b24local.methods.families import load_all
from tests.conftest import LiveServer, start_server

# Schemathesis calls a URL (with requests); its ASGI mode needs starlette-testclient.
pytestmark = pytest.mark.live

WEBHOOK_EXAMPLES = 8  # per operation
OAUTH_EXAMPLES = 3
SEED = 20261205


def php_pairs(name: str, value: Any) -> list[tuple[str, str]]:
    """``value`` under ``name`` as PHP's http_build_query writes it: ``a[b][0]=x``."""
    if isinstance(value, Mapping):
        return [pair for key, item in value.items() for pair in php_pairs(f"{name}[{key}]", item)]
    if isinstance(value, list):
        return [pair for index, item in enumerate(value) for pair in php_pairs(f"{name}[{index}]", item)]
    if isinstance(value, bool):
        return [(name, "1" if value else "0")]
    return [(name, "" if value is None else str(value))]


@schemathesis.serializer("application/x-www-form-urlencoded")
def php_form(ctx: schemathesis.SerializationContext, value: Any) -> dict[str, Any]:
    """Form bodies in PHP bracket syntax, as the document's deepObject encoding says (Schemathesis's own
    serializer writes only the keys of a nested object)."""
    if isinstance(value, (str, bytes)):
        return {"data": value}
    if not isinstance(value, Mapping):  # a negative case: a body that is no object at all
        return {"data": json.dumps(value).encode()}
    pairs = [pair for key, item in value.items() for pair in php_pairs(str(key), item)]
    return {"data": urlencode(pairs), "headers": {"Content-Type": "application/x-www-form-urlencoded"}}


def add_records(server: LiveServer) -> None:
    """Leads 1-5 and contacts 1-5, bound in pairs: small generated ids then find records to answer."""
    for n in range(1, 6):
        fields = {"TITLE": f"Lead {n}", "BIRTHDATE": "1990-05-03", "OPPORTUNITY": n * 1.5}
        fields["PHONE"] = [{"VALUE": f"+49{n}", "VALUE_TYPE": "WORK"}]
        assert server.call("crm.lead.add", {"fields": fields}).result == n
        assert server.call("crm.contact.add", {"fields": {"NAME": f"Contact {n}"}}).result == n
        assert server.call("crm.lead.contact.add", {"id": n, "fields": {"CONTACT_ID": n}}).result is True


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    folder = Path(tmp_path_factory.mktemp("schemathesis"))
    server = start_server(folder / "b24local.db", "--auto-approve-user", "1")
    add_records(server)
    yield server
    server.stop()


def access_token(server: LiveServer) -> str:
    """An OAuth access token of user 1 for a new application with scope crm."""
    store = server.storage()
    try:
        with store.write() as tx:
            client_id, secret = oauth.create_app(tx, "Schemathesis", ("crm",), "https://app.example.test/")
    finally:
        store.close()
    approved = server.raw("GET", "/oauth/authorize/", params={"client_id": client_id, "state": "s"})
    code = parse_qs(urlsplit(approved.headers["location"]).query)["code"][0]
    grant = {
        "grant_type": "authorization_code",
        "client_id": client_id,
        "client_secret": secret,
        "code": code,
    }
    return str(server.raw("GET", "/oauth/token/", params=grant).json()["access_token"])


def operations(live: LiveServer, path_regex: str, examples: int) -> list[schemathesis.APIOperation]:
    config = schemathesis.Config.from_dict(
        {"generation": {"max-examples": examples, "no-shrink": True, "database": "none"}}
    )
    schema = schemathesis.openapi.from_url(f"{live.base_url}/_b24local/openapi.json", config=config)
    found = [result.ok() for result in schema.include(path_regex=path_regex).get_all_operations()]
    assert len(found) == 2 * len(load_all())  # GET and POST of each method
    return found


def failures_of(operation: schemathesis.APIOperation, live: LiveServer, fixed: dict[str, Any]) -> str:
    """What Schemathesis found wrong with one operation ("" when nothing), positive and negative cases;
    ``fixed``: the path parameters or query parameters that name the caller."""
    strategy = st.one_of(operation.as_strategy(mode, **fixed) for mode in schemathesis.GenerationMode)
    configured = operation.schema.config.get_hypothesis_settings(operation=operation, phase="fuzzing")

    # No health checks: on a busy machine "too slow" would fail a run that found nothing wrong.
    @hypothesis.settings(configured, suppress_health_check=list(hypothesis.HealthCheck))
    @hypothesis.seed(SEED)
    @hypothesis.given(case=strategy)
    def run(case: schemathesis.Case) -> None:
        case.call_and_validate(
            base_url=live.base_url, checks=[not_a_server_error, response_schema_conformance], timeout=30
        )

    try:
        run()
    except (Exception, schemathesis.errors.FailureGroup) as error:  # the report, with a curl command
        return f"{operation.label}: {error}"
    return ""


# The pytest integration (schemathesis.pytest.from_fixture) fails on pytest 9.2 ("'Function' object has
# no attribute '_nodeid'"), so the operations are run here one by one.
def test_webhook_form(live: LiveServer) -> None:
    user_id, code = live.webhook_path.strip("/").split("/")[1:3]
    fixed = {"path_parameters": {"user_id": int(user_id), "webhook_code": code}}
    found = [
        failures_of(op, live, fixed) for op in operations(live, r"^/rest/\{user_id\}/", WEBHOOK_EXAMPLES)
    ]
    assert not any(found), "\n\n".join(f for f in found if f)


def test_oauth_form(live: LiveServer) -> None:
    fixed = {"query": {"auth": access_token(live)}}
    found = [failures_of(op, live, fixed) for op in operations(live, r"^/rest/[^{]+$", OAUTH_EXAMPLES)]
    assert not any(found), "\n\n".join(f for f in found if f)
