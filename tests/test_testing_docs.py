"""docs/testing.md beyond pytest (tests/test_pytest_plugin.py runs that part): the PHPUnit example under
Debian's ``phpunit``, the Vitest example with @bitrix24/b24jssdk (tests/clients/js has the npm setup),
and the CI job's script, each written out as the page names its files and run against a live server;
and the compose file, checked against the Dockerfile (tests/test_docker.py runs it)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from b24local.cli import environment
from b24local.cli.parser import build_parser
from tests.clients.runtime import JS_DIR, environment_without_proxies, node_with_sdk
from tests.conftest import free_port, missing_tool, start_server

pytestmark = pytest.mark.live  # live servers, phpunit, node

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "testing.md"
CODE = "ci_code_1"  # the code the page's examples use


def snippets(section: str) -> dict[str, str]:
    """The files of a section of docs/testing.md: each code block after a line "`path`:"."""
    found = re.search(
        rf"^## {re.escape(section)}\n(.*?)(?=^## |\Z)", DOC.read_text(encoding="utf-8"), re.S | re.M
    )
    assert found is not None, f"docs/testing.md has no section {section!r}"
    return dict(re.findall(r"^`([^`\n]+)`:\n\n```\w*\n(.*?)```", found.group(1), re.S | re.M))


def write(folder: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text, encoding="utf-8")


def phpunit() -> str:
    found = shutil.which("phpunit")
    if found is None:
        missing_tool("phpunit not found: apt-get install phpunit (.ci/run installs it)")
    assert found is not None
    return found


def test_the_phpunit_example_passes(tmp_path: Path) -> None:
    files = snippets("PHPUnit")
    assert sorted(files) == ["phpunit.xml", "tests/LeadTest.php"]
    write(tmp_path / "project", files)
    runner = phpunit()
    server = start_server(tmp_path / "b24local.db", "--webhook-code", CODE)
    try:
        done = subprocess.run(
            [runner],
            cwd=tmp_path / "project",
            env={**environment_without_proxies(), "BITRIX24_WEBHOOK": server.webhook_url},
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, done.stdout + done.stderr
        assert "OK (2 tests, 2 assertions)" in done.stdout
        # Against this server: the lead the example added is there.
        assert server.call("crm.lead.list", {"select": ["TITLE"]}).body["result"] == [
            {"ID": "1", "TITLE": "From PHPUnit"}
        ]
    finally:
        server.stop()


def vitest() -> Path:
    """tests/clients/js's vitest, installed with its lock file when missing."""
    node_with_sdk()  # Node, and node_modules as locked
    binary = JS_DIR / "node_modules" / ".bin" / "vitest"
    if not binary.exists():
        done = subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=JS_DIR, capture_output=True,
                              text=True, timeout=600, check=False)  # fmt: skip
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return binary


def test_the_vitest_example_passes(tmp_path: Path) -> None:
    files = snippets("Vitest (or Jest) with @bitrix24/b24jssdk")
    assert sorted(files) == ["lead.test.mjs"]
    project = tmp_path / "project"
    write(project, files)
    runner = vitest()
    (project / "node_modules").symlink_to(JS_DIR / "node_modules")
    server = start_server(tmp_path / "b24local.db", "--tls", "--webhook-code", CODE)
    try:
        assert server.ca_file is not None and server.webhook_url.startswith("https://127.0.0.1:")
        env = {**environment_without_proxies(), "NODE_EXTRA_CA_CERTS": server.ca_file, "NO_COLOR": "1"}
        env["B24_WEBHOOK_URL"] = server.webhook_url
        done = subprocess.run([str(runner), "run"], cwd=project, env=env, capture_output=True, text=True,
                              timeout=300, check=False)  # fmt: skip
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
        assert re.search(r"Tests\s+2 passed \(2\)", done.stdout), done.stdout
        assert server.call("crm.lead.list", {"select": ["TITLE"]}).body["result"] == [
            {"ID": "1", "TITLE": "From Vitest"}
        ]
    finally:
        server.stop()


def test_the_ci_job_starts_the_server_runs_the_suite_and_stops_it(tmp_path: Path) -> None:
    files = {**snippets("PHPUnit"), **snippets("In a CI job")}
    assert sorted(files) == ["ci/b24local-tests.sh", "phpunit.xml", "tests/LeadTest.php"]
    write(tmp_path, files)
    phpunit()
    port = free_port()
    env = {**environment_without_proxies(), "B24LOCAL_PORT": str(port)}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"  # this b24local
    done = subprocess.run(["bash", "ci/b24local-tests.sh"], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=180, check=False)  # fmt: skip
    log = (tmp_path / "b24local.log").read_text(encoding="utf-8")
    assert done.returncode == 0, done.stdout + done.stderr + log
    assert done.stdout.startswith('{"status":"ok","version":"0.1.0","database":"sqlite","schema":')
    assert "OK (2 tests, 2 assertions)" in done.stdout
    assert log.splitlines()[1:3] == [
        "Created user 1 (administrator) and a webhook with scope crm:",
        f"http://127.0.0.1:{port}/rest/1/{CODE}/",
    ]


def test_the_compose_file_matches_the_image() -> None:
    compose = yaml.safe_load((ROOT / "docs" / "examples" / "compose.yaml").read_text(encoding="utf-8"))
    service = compose["services"]["b24local"]
    context = (ROOT / "docs" / "examples" / service["build"]["context"]).resolve()
    dockerfile = (context / "Dockerfile").read_text(encoding="utf-8")
    assert context == ROOT
    assert service["image"] == "${B24LOCAL_IMAGE:-b24local:latest}"
    assert service["ports"] == ["127.0.0.1:${B24LOCAL_PUBLISHED_PORT:-8000}:8000"]
    assert "\nEXPOSE 8000\n" in dockerfile
    assert service["volumes"] == ["b24local-data:/data"] and "\nVOLUME /data\n" in dockerfile
    assert set(compose["volumes"]) == {"b24local-data"}
    serve = environment.subcommand(build_parser(), "serve")
    variables = {environment.variable(a) for a in environment.options(serve)}
    assert service["environment"] == {
        "B24LOCAL_WEBHOOK_CODE": CODE,
        "B24LOCAL_CORS_ORIGIN": "http://localhost:3000",
    }
    assert set(service["environment"]) <= variables
