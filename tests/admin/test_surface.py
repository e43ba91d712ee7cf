"""The test portal's surface (contract test-portal.md): health (T1) and the admin token (T2).

In-process servers on both backends; the database made unreachable for real (an SQLite file removed, a
PostgreSQL cluster stopped) for health's 503.
"""

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from b24local.auth import oauth
from b24local.auth.webhooks import hash_secret
from b24local.cli.flags import CliError
from b24local.cli.parser import build_parser
from b24local.cli.serve import serving_config
from tests.conftest import InProcessServer, missing_tool, new_database, start_in_process, start_server
from tests.pgcluster import Cluster, find_bindir

TOKEN = "adm-7Qx2-secret"
CLOSED = {
    "error": "INVALID_CREDENTIALS",
    "error_description": "The test portal's surface needs Authorization: Bearer <admin token>",
}
NO_TOKEN_SET = {
    "error": "INVALID_CREDENTIALS",
    "error_description": (
        "No admin token is set for this database: start the server with --admin-token or "
        "$B24LOCAL_ADMIN_TOKEN"
    ),
}
#: The schema version of a new database: the number of the last migration.
SCHEMA = 15


@pytest.fixture(scope="module")
def portal(
    request: pytest.FixtureRequest, backend: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[InProcessServer]:
    folder = tmp_path_factory.mktemp("surface")
    db = new_database(request, backend, folder)
    server = start_in_process(db, "--admin-token", TOKEN, "--auto-approve-user", "1")
    yield server
    server.stop()


def kind(server: InProcessServer) -> str:
    return "sqlite" if server.backend == "sqlite" else "postgresql"


def bearer(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


# --- T1: health --------------------------------------------------------------------------------------


def test_health_tells_version_database_and_schema(portal: InProcessServer) -> None:
    answer = portal.raw("GET", "/_b24local/health")
    assert answer.status_code == 200
    assert answer.json() == {"status": "ok", "version": "0.1.0", "database": kind(portal), "schema": SCHEMA}
    assert answer.headers["content-type"] == "application/json; charset=utf-8"
    assert answer.headers["cache-control"] == "no-store"
    head = portal.raw("HEAD", "/_b24local/health")
    assert (head.status_code, head.content) == (200, b"")
    assert head.headers["content-length"] == answer.headers["content-length"]


def test_health_needs_no_credentials_and_ignores_wrong_ones(portal: InProcessServer) -> None:
    for headers in ({}, bearer("wrong"), {"authorization": "Basic eDp5"}):
        answer = portal.raw("GET", "/_b24local/health", headers=headers)
        assert (answer.status_code, answer.json()["status"]) == (200, "ok")


def test_health_and_openapi_take_only_get_and_head(portal: InProcessServer) -> None:
    for path in ("/_b24local/health", "/_b24local/openapi.json"):
        answer = portal.raw("POST", path, headers=bearer(TOKEN))
        assert answer.status_code == 405
        assert answer.headers["allow"] == "GET, HEAD"
        assert answer.json() == {"error": "METHOD_NOT_ALLOWED", "error_description": "Use GET"}
    assert portal.raw("GET", "/_b24local/openapi.json").json()["openapi"] == "3.1.0"


@pytest.mark.sqlite_only
def test_health_is_503_when_the_sqlite_file_is_gone(tmp_path: Path) -> None:
    db = tmp_path / "b24local.db"
    server = start_in_process(db)
    try:
        assert server.raw("GET", "/_b24local/health").status_code == 200
        for name in ("b24local.db", "b24local.db-wal", "b24local.db-shm"):
            (tmp_path / name).unlink(missing_ok=True)
        answer = server.raw("GET", "/_b24local/health")
        assert answer.status_code == 503
        assert answer.json() == {"status": "unavailable", "version": "0.1.0", "database": "sqlite"}
    finally:
        server.stop()


def test_health_is_503_when_postgresql_is_stopped() -> None:
    bindir = find_bindir()
    if bindir is None:
        missing_tool("PostgreSQL server binaries (initdb, pg_ctl) not found: apt-get install postgresql")
    cluster = Cluster(bindir)
    try:
        cluster.start()
        server = start_in_process(cluster.new_database())
        try:
            answer = server.raw("GET", "/_b24local/health")
            assert answer.json() == {
                "status": "ok",
                "version": "0.1.0",
                "database": "postgresql",
                "schema": SCHEMA,
            }
            cluster.stop()
            for _ in range(2):  # the broken connection, then a new one refused
                answer = server.raw("GET", "/_b24local/health")
                assert answer.status_code == 503
                assert answer.json() == {
                    "status": "unavailable",
                    "version": "0.1.0",
                    "database": "postgresql",
                }
        finally:
            server.stop()
    finally:
        if cluster.root.exists():  # not stopped by the test itself
            cluster.stop()


# --- T2: the admin token -----------------------------------------------------------------------------


def test_the_admin_token_opens_the_surface(portal: InProcessServer) -> None:
    for authorization in (f"Bearer {TOKEN}", f"bearer {TOKEN}", f"Bearer  {TOKEN} "):
        answer = portal.raw("GET", "/_b24local/no-such-thing", headers={"authorization": authorization})
        assert answer.status_code == 404  # past the token: the path is looked at
        assert answer.json() == {
            "error": "NOT_FOUND",
            "error_description": "No such resource: /_b24local/no-such-thing",
        }


def oauth_access_token(server: InProcessServer, token: str = "oauth-access-token-1") -> str:
    """An OAuth access token of user 1 (for an app of its own), written to the database as the token
    endpoint writes one."""
    store = server.storage()
    try:
        with store.write() as tx:
            client_id, _ = oauth.create_app(tx, "App", ("crm",), "https://app.example.test/cb")
            app = tx.oauth_app_by_client_id(client_id)
            assert app is not None
            far = int(time.time()) + 3600
            tx.oauth_token_add(
                app.id,
                1,
                access_hash=hash_secret(token),
                access_expires_at=far,
                refresh_hash=hash_secret(token + "-refresh"),
                refresh_expires_at=far,
            )
    finally:
        store.close()
    assert server.raw("POST", "/rest/crm.lead.list", json={"auth": token}).status_code == 200
    return token


def test_no_other_credential_opens_the_surface(portal: InProcessServer) -> None:
    webhook_code = portal.webhook_path.split("/")[3]
    access_token = oauth_access_token(portal)
    refused = [
        {},
        bearer("wrong"),
        bearer(TOKEN + "x"),
        bearer(TOKEN[:-1]),
        {"authorization": TOKEN},
        {"authorization": f"Basic {TOKEN}"},
        {"authorization": "Bearer "},
        bearer(webhook_code),
        bearer(access_token),
    ]
    for headers in refused:
        for http_method in ("GET", "POST", "PUT", "DELETE"):
            answer = portal.raw(http_method, "/_b24local/reset", headers=headers)
            assert answer.status_code == 401, (headers, http_method)
            assert answer.json() == CLOSED
            assert answer.headers["www-authenticate"] == 'Bearer realm="b24local"'
    for query in ({"auth": access_token}, {"auth": TOKEN}, {"access_token": TOKEN}):
        assert portal.raw("GET", "/_b24local/reset", params=query).json() == CLOSED


def test_the_admin_token_never_opens_rest(portal: InProcessServer) -> None:
    by_param = portal.raw("POST", "/rest/crm.lead.list", json={"auth": TOKEN})
    assert (by_param.status_code, by_param.json()) == (
        401,
        {"error": "invalid_token", "error_description": "The access token provided is invalid."},
    )
    as_code = portal.raw("POST", f"/rest/1/{TOKEN}/crm.lead.list", json={})
    assert (as_code.status_code, as_code.json()) == (
        401,
        {"error": "INVALID_CREDENTIALS", "error_description": "Invalid request credentials"},
    )
    by_header = portal.raw("POST", "/rest/crm.lead.list", json={}, headers=bearer(TOKEN))
    assert (by_header.status_code, by_header.json()) == (
        401,
        {"error": "NO_AUTH_FOUND", "error_description": "Wrong authorization data"},
    )


def test_a_new_database_without_a_given_token_makes_its_own(
    request: pytest.FixtureRequest, backend: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Made at random with the database, kept only as its hash, and it alone opens the surface."""
    monkeypatch.delenv("B24LOCAL_ADMIN_TOKEN", raising=False)
    database = new_database(request, backend, tmp_path)
    server = start_in_process(database)
    try:
        made = server.app.admin_token
        assert made is not None and len(made) == 32
        for headers in ({}, bearer(""), bearer("None"), bearer(TOKEN)):
            answer = server.raw("GET", "/_b24local/reset", headers=headers)
            assert (answer.status_code, answer.json()) == (401, CLOSED)
        assert server.raw("POST", "/_b24local/reset", headers=bearer(made)).status_code == 200
        store = server.storage()
        try:
            with store.read() as tx:  # only the hash is kept
                assert tx.setting_get("admin_token_sha256") == hashlib.sha256(made.encode()).hexdigest()
        finally:
            store.close()
    finally:
        server.stop()
    # not new: no other token is made, and the first one still opens the surface
    again = start_in_process(database, webhook_path=server.webhook_path)
    try:
        assert again.app.admin_token is None
        assert again.raw("POST", "/_b24local/reset", headers=bearer(made)).status_code == 200
    finally:
        again.stop()


def test_a_database_without_a_token_keeps_the_surface_closed(
    request: pytest.FixtureRequest, backend: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A database made before tokens were (no stored hash), started without one: closed to all."""
    monkeypatch.delenv("B24LOCAL_ADMIN_TOKEN", raising=False)
    database = new_database(request, backend, tmp_path)
    first = start_in_process(database, "--admin-token", TOKEN)  # made with a given token: none stored
    first.stop()
    server = start_in_process(database, webhook_path=first.webhook_path)
    try:
        for headers in ({}, bearer(""), bearer(TOKEN)):
            answer = server.raw("GET", "/_b24local/reset", headers=headers)
            assert (answer.status_code, answer.json()) == (401, NO_TOKEN_SET)
        assert server.raw("GET", "/_b24local/health").status_code == 200
    finally:
        server.stop()


@pytest.mark.sqlite_only
def test_the_token_comes_from_the_environment_and_the_flag_wins(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("B24LOCAL_ADMIN_TOKEN", "from-env")
    server = start_in_process(tmp_path / "a.db")
    try:
        assert server.raw("GET", "/_b24local/x", headers=bearer("from-env")).status_code == 404
    finally:
        server.stop()
    server = start_in_process(tmp_path / "b.db", "--admin-token", "from-flag")
    try:
        assert server.raw("GET", "/_b24local/x", headers=bearer("from-env")).status_code == 401
        assert server.raw("GET", "/_b24local/x", headers=bearer("from-flag")).status_code == 404
    finally:
        server.stop()


def test_a_token_that_cannot_go_in_a_header_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("B24LOCAL_ADMIN_TOKEN", raising=False)
    for token in ("two words", "tab\there", "ünï"):
        args = build_parser().parse_args(["serve", "--admin-token", token])
        with pytest.raises(CliError) as refused:
            serving_config(args, "sqlite:///x.db")
        assert (
            str(refused.value)
            == "the admin token must be printable ASCII without spaces (it goes in a header)"
        )


def test_the_token_stays_out_of_the_config_repr() -> None:
    args = build_parser().parse_args(["serve", "--admin-token", TOKEN])
    config = serving_config(args, "sqlite:///x.db")
    assert config.admin_token == TOKEN
    assert TOKEN not in repr(config)


@pytest.mark.live  # what `serve` prints
@pytest.mark.sqlite_only
def test_serve_prints_the_made_token_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("B24LOCAL_ADMIN_TOKEN", raising=False)
    server = start_server(tmp_path / "b24local.db")
    try:
        printed = re.search(
            r"Admin token for /_b24local/ \(stored hashed, shown once\): (\S+)", server.output()
        )
        assert printed is not None
        assert server.raw("POST", "/_b24local/reset", headers=bearer(printed.group(1))).status_code == 200
    finally:
        server.stop()
    again = start_server(tmp_path / "b24local.db", webhook_path=server.webhook_path)
    try:
        assert "Admin token" not in again.output()
    finally:
        again.stop()
