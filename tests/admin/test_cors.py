"""CORS (contract test-portal.md T10): ``serve --cors-origin`` on in-process servers, both backends."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from b24local.cli.flags import CliError
from b24local.cli.parser import build_parser
from tests.conftest import InProcessServer, new_database, start_in_process

APP = "https://app.example.test"
PREFLIGHT = {
    "origin": APP,
    "access-control-request-method": "POST",
    "access-control-request-headers": "content-type",
}


@pytest.fixture(scope="module")
def cors(
    request: pytest.FixtureRequest, backend: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[InProcessServer]:
    db = new_database(request, backend, tmp_path_factory.mktemp("cors"))
    server = start_in_process(db, "--cors-origin", APP + "/", "--cors-origin", "http://localhost:3000")
    yield server
    server.stop()


def cors_headers(headers: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in headers.items() if k.startswith("access-control-") or k in ("vary", "allow")}


def lead_total(server: InProcessServer) -> int:
    total = server.call("crm.lead.list", {"start": 0}).body["total"]
    assert isinstance(total, int)
    return total


def test_an_allowed_origin_gets_its_headers_on_answers_and_errors(cors: InProcessServer) -> None:
    ok = cors.client.post(cors.webhook_url + "crm.lead.fields", json={}, headers={"origin": APP})
    assert ok.status_code == 200
    assert cors_headers(dict(ok.headers)) == {"access-control-allow-origin": APP, "vary": "Origin"}
    refused = cors.raw(
        "POST", "/rest/1/wrong/crm.lead.list", json={}, headers={"origin": "http://localhost:3000"}
    )
    assert refused.status_code == 401  # a page must be able to read the error too
    assert cors_headers(dict(refused.headers)) == {
        "access-control-allow-origin": "http://localhost:3000",
        "vary": "Origin",
    }
    admin = cors.raw("GET", "/_b24local/health", headers={"origin": APP})
    assert cors_headers(dict(admin.headers)) == {"access-control-allow-origin": APP, "vary": "Origin"}


def test_other_origins_and_no_origin_get_no_cors_headers(cors: InProcessServer) -> None:
    for headers in ({"origin": "https://evil.example.test"}, {"origin": "http://localhost:3001"}, {}):
        answer = cors.client.post(cors.webhook_url + "crm.lead.fields", json={}, headers=headers)
        assert answer.status_code == 200
        assert cors_headers(dict(answer.headers)) == {}


def test_a_preflight_is_204_and_runs_nothing(cors: InProcessServer) -> None:
    before = lead_total(cors)
    for _ in range(3):
        answer = cors.client.request(
            "OPTIONS", cors.webhook_url + "crm.lead.add", json={"fields": {"TITLE": "x"}}, headers=PREFLIGHT
        )
        assert (answer.status_code, answer.content) == (204, b"")
        assert cors_headers(dict(answer.headers)) == {
            "allow": "GET, HEAD, POST, OPTIONS",
            "access-control-allow-origin": APP,
            "vary": "Origin",
            "access-control-allow-methods": "GET, HEAD, POST, OPTIONS",
            "access-control-allow-headers": "content-type",
            "access-control-max-age": "600",
        }
    assert lead_total(cors) == before


def test_a_preflight_of_the_admin_surface_allows_its_methods_and_authorization(cors: InProcessServer) -> None:
    headers = {
        **PREFLIGHT,
        "access-control-request-method": "PUT",
        "access-control-request-headers": "authorization",
    }
    answer = cors.raw("OPTIONS", "/_b24local/snapshots/a", headers=headers)
    assert answer.status_code == 204
    assert cors_headers(dict(answer.headers)) == {
        "allow": "GET, HEAD, POST, PUT, DELETE, OPTIONS",
        "access-control-allow-origin": APP,
        "vary": "Origin",
        "access-control-allow-methods": "GET, HEAD, POST, PUT, DELETE, OPTIONS",
        "access-control-allow-headers": "authorization",
        "access-control-max-age": "600",
    }


def test_a_preflight_from_another_origin_is_answered_without_cors(cors: InProcessServer) -> None:
    headers = {**PREFLIGHT, "origin": "https://evil.example.test"}
    answer = cors.client.request("OPTIONS", cors.webhook_url + "crm.lead.add", headers=headers)
    assert answer.status_code == 204
    assert cors_headers(dict(answer.headers)) == {"allow": "GET, HEAD, POST, OPTIONS"}


def test_any_origin(
    request: pytest.FixtureRequest, backend: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    server = start_in_process(
        new_database(request, backend, tmp_path_factory.mktemp("any")), "--cors-origin", "*"
    )
    try:
        answer = server.client.post(
            server.webhook_url + "crm.lead.fields", json={}, headers={"origin": "null"}
        )
        assert cors_headers(dict(answer.headers)) == {"access-control-allow-origin": "*"}
        answer = server.client.request("OPTIONS", server.webhook_url + "crm.lead.add", headers=PREFLIGHT)
        assert cors_headers(dict(answer.headers)) == {
            "allow": "GET, HEAD, POST, OPTIONS",
            "access-control-allow-origin": "*",
            "access-control-allow-methods": "GET, HEAD, POST, OPTIONS",
            "access-control-allow-headers": "content-type",
            "access-control-max-age": "600",
        }
    finally:
        server.stop()


def test_without_cors_origin_there_are_no_cors_headers(server: InProcessServer) -> None:
    answer = server.client.post(server.webhook_url + "crm.lead.fields", json={}, headers={"origin": APP})
    assert cors_headers(dict(answer.headers)) == {}
    answer = server.client.request("OPTIONS", server.webhook_url + "crm.lead.add", headers=PREFLIGHT)
    assert (answer.status_code, cors_headers(dict(answer.headers))) == (
        204,
        {"allow": "GET, HEAD, POST, OPTIONS"},
    )


@pytest.mark.parametrize(
    ("given", "message"),
    [
        (
            "https://app.example.test/path",
            "an origin is scheme://host[:port] or *, not 'https://app.example.test/path'",
        ),
        ("app.example.test", "an origin is scheme://host[:port] or *, not 'app.example.test'"),
        ("", "an origin is scheme://host[:port] or *, not ''"),
    ],
)
def test_a_malformed_origin_is_refused(given: str, message: str) -> None:
    with pytest.raises(CliError) as refused:
        build_parser().parse_args(["serve", "--cors-origin", given])
    assert str(refused.value) == f"argument --cors-origin: {message}"


def test_origins_are_kept_as_browsers_send_them() -> None:
    args = build_parser().parse_args(
        ["serve", "--cors-origin", "HTTPS://App.Example.Test/", "--cors-origin", "*"]
    )
    assert args.cors_origin == ["https://app.example.test", "*"]
