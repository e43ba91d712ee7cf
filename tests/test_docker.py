"""The Dockerfile, built and run (tests/dockerimage.py makes its base where no registry answers): the
container on the host network with a known webhook code, healthy, answering the seed examples
(tests/test_seed_examples.py), as a non-root user, and its data kept in the /data volume across a
restart of the container; a command given after the image's name; and docs/examples/compose.yaml run
on that image. Locally without docker this is skipped; under CI it fails (.ci/run installs and starts
docker, debootstrap and docker-compose)."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from tests import dockerimage
from tests import test_seed_examples as seed_examples
from tests.admin.test_surface import SCHEMA
from tests.conftest import LiveServer, free_port, missing_tool
from tests.dockerimage import docker
from tests.servers import _output_lines, end_process

CODE = "docker_code_1"
COMPOSE = Path(__file__).resolve().parents[1] / "docs" / "examples" / "compose.yaml"
#: A fixture row written inside the container, as the seed examples need them (ids 1010, 1011, ...).
INSERT = """
import sys, orjson
from b24local.crm.entities import ENTITIES
from b24local.storage.open import open_storage
store = open_storage("sqlite:////data/b24local.db")
with store.write() as tx:
    print(tx.entity_insert(ENTITIES[sys.argv[1]], orjson.loads(sys.argv[2])))
store.close()
"""


@dataclass(kw_only=True)
class ContainerServer(LiveServer):
    """``docker run`` of the image in the foreground: ``process`` is the docker client, whose SIGTERM
    goes on to b24local in the container; fixture rows are written by a process in the container."""

    name: str

    def _insert(self, entity: Any, entity_id: int | None, values: dict[str, Any]) -> int:
        row = values if entity_id is None else {"id": entity_id, **values}
        done = docker("exec", "-i", self.name, "python", "-", entity.name, orjson.dumps(row).decode(),
                      input=INSERT)  # fmt: skip
        return int(done.stdout)

    def stop(self) -> None:
        super().stop()
        docker("rm", "--force", self.name, check=False)


@pytest.fixture(scope="module")
def image() -> Iterator[str]:
    reason = dockerimage.missing()
    if reason is not None:
        missing_tool(reason)
    tag, made = dockerimage.build(dockerimage.base_image())
    yield tag
    dockerimage.remove_images(made)


@pytest.fixture
def volume() -> Iterator[str]:
    name = f"b24local-test-{uuid.uuid4().hex[:12]}"
    docker("volume", "create", name)
    yield name
    docker("volume", "rm", "--force", name, check=False)


def start(image: str, volume: str, port: int) -> ContainerServer:
    """The container with the webhook code and port from the environment, once it answers health."""
    name = f"b24local-test-{uuid.uuid4().hex[:12]}"
    process = subprocess.Popen(
        ["docker", "run", "--name", name, "--network", "host", "--volume", f"{volume}:/data",
         "--env", f"B24LOCAL_PORT={port}", "--env", f"B24LOCAL_WEBHOOK_CODE={CODE}", image],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    base_url = f"http://127.0.0.1:{port}"
    server = ContainerServer(
        base_url=base_url,
        webhook_url=f"{base_url}/rest/1/{CODE}/",
        db_path=None,
        database_url="sqlite:////data/b24local.db",
        client=httpx.Client(timeout=30),
        process=process,
        lines=_output_lines(process),
        name=name,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and process.poll() is None:
        try:
            if server.client.get(base_url + "/_b24local/health").status_code == 200:
                return server
        except httpx.TransportError:
            time.sleep(0.2)
    output = server.output()
    server.stop()
    raise AssertionError(f"the container did not answer health in 60 s:\n{output}")


def health_status(name: str) -> str:
    """The HEALTHCHECK's verdict, once it has one (its first run is 10 s after the start)."""
    deadline = time.monotonic() + 60
    while True:
        status = docker("inspect", "--format", "{{.State.Health.Status}}", name).stdout.strip()
        if status != "starting" or time.monotonic() > deadline:
            return status
        time.sleep(1)


def stop_and_wait(server: ContainerServer) -> int:
    end_process(server.process)
    return int(docker("wait", server.name).stdout)


@pytest.mark.live
def test_container_serves_the_seed_examples_and_keeps_its_data(image: str, volume: str) -> None:
    port = free_port()
    first = start(image, volume, port)
    try:
        lines = first.output(wait=2).splitlines()
        assert lines[:3] == [
            f"b24local 0.1.0 on http://0.0.0.0:{port} with sqlite:////data/b24local.db",
            "Created user 1 (administrator) and a webhook with scope crm:",
            f"http://127.0.0.1:{port}/rest/1/{CODE}/",
        ]
        assert lines[3].startswith("Admin token for /_b24local/ (stored hashed, shown once): ")
        assert docker("exec", first.name, "id", "-u").stdout == "10001\n"
        assert health_status(first.name) == "healthy"
        # The seed examples' fixture (tests/test_seed_examples.py, ``seeded``), then its example.
        assert first.insert_lead() == 1
        assert [first.insert_contact(i) for i in (1010, 1011, 1020)] == [1010, 1011, 1020]
        seed_examples.test_items_set_seed_example(first)
        assert stop_and_wait(first) == 0
    finally:
        first.stop()
    # The same volume in a new container: the database, its webhook and what the example bound.
    second = start(image, volume, port)
    try:
        assert second.output(wait=2).splitlines()[1:] == [
            "The webhook of user 1 with scope crm:",
            f"http://127.0.0.1:{port}/rest/1/{CODE}/",
        ]
        body = seed_examples.run_curl(seed_examples.webhook_curl("crm-lead-contact-items-get.ru.md"), second)
        assert body["result"] == [
            {"CONTACT_ID": 1010, "SORT": 10, "ROLE_ID": 0, "IS_PRIMARY": "Y"},
            {"CONTACT_ID": 1020, "SORT": 20, "ROLE_ID": 0, "IS_PRIMARY": "N"},
        ]
        assert second.call("crm.contact.list", {"select": ["ID"]}).body["total"] == 3
    finally:
        second.stop()
    # Arguments after the image's name replace `serve` (README, "Docker"); the database is /data's.
    listed = docker(
        "run", "--rm", "--network", "none", "--volume", f"{volume}:/data", image, "webhook", "list"
    )
    assert listed.stdout == "ID\tUSER\tSCOPE\tSTATE\n1\t1\tcrm\tactive\n"


def test_the_base_comes_from_the_machines_own_apt_source(tmp_path: Path) -> None:
    one_line = tmp_path / "sources.list"
    one_line.write_text(
        "deb http://mirror.test/ubuntu jammy main\ndeb [arch=amd64] http://mirror.test/debian/ trixie main\n"
    )
    deb822 = tmp_path / "debian.sources"
    deb822.write_text(
        "Types: deb\nURIs: https://deb.test/debian\nSuites: bookworm bookworm-updates\nComponents: main\n\n"
        "Types: deb\nURIs: http://security.test/debian-security\nSuites: bookworm-security\n"
    )
    assert dockerimage.apt_source([one_line, deb822], "trixie") == ("http://mirror.test/debian", "trixie")
    assert dockerimage.apt_source([one_line, deb822], "bookworm") == ("https://deb.test/debian", "bookworm")


def compose_command() -> list[str]:
    """``docker compose`` (v2), else ``docker-compose`` (v1, Debian bookworm's)."""
    if subprocess.run(["docker", "compose", "version"], capture_output=True, check=False).returncode == 0:
        return ["docker", "compose"]
    if shutil.which("docker-compose") is not None:
        return ["docker-compose"]
    missing_tool("neither `docker compose` nor docker-compose: .ci/run installs docker-compose")
    raise AssertionError  # not reached


@pytest.mark.live
def test_the_compose_file_runs_the_image(image: str) -> None:
    """docs/examples/compose.yaml as written, on the image built here ($B24LOCAL_IMAGE) and a free port
    of the host ($B24LOCAL_PUBLISHED_PORT): its own network, the port published, the volume dropped."""
    port = free_port()
    project = f"b24localtest{uuid.uuid4().hex[:12]}"
    compose = [*compose_command(), "--file", str(COMPOSE), "--project-name", project]
    env = {**os.environ, "B24LOCAL_IMAGE": image, "B24LOCAL_PUBLISHED_PORT": str(port)}
    try:
        up = subprocess.run(
            [*compose, "up", "--detach"], env=env, capture_output=True, text=True, check=False
        )
        assert up.returncode == 0, up.stdout + up.stderr
        client = httpx.Client(timeout=30)
        base_url = f"http://127.0.0.1:{port}"
        health = {"status": "ok", "version": "0.1.0", "database": "sqlite", "schema": SCHEMA}
        assert wait_for_health(client, base_url) == health
        added = client.post(
            f"{base_url}/rest/1/ci_code_1/crm.lead.add",
            json={"fields": {"TITLE": "Compose"}},
            headers={"Origin": "http://localhost:3000"},
        )
        assert (added.status_code, added.json()["result"]) == (200, 1)
        assert added.headers["access-control-allow-origin"] == "http://localhost:3000"
    finally:
        down = subprocess.run(
            [*compose, "down", "--volumes"], env=env, capture_output=True, text=True, check=False
        )
        assert down.returncode == 0, down.stdout + down.stderr


def wait_for_health(client: httpx.Client, base_url: str) -> object:
    """The first 200 answer of /_b24local/health, within 60 s."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            reply = client.get(base_url + "/_b24local/health")
            if reply.status_code == 200:
                return reply.json()
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"{base_url}/_b24local/health did not answer 200 within 60 s")
