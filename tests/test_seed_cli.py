"""``b24local seed``, ``b24local export`` and ``serve --seed`` (test-portal.md T5), and the progress bars
of long command-line work (seed and export of 10,000 records or more, migrations)."""

from __future__ import annotations

import contextlib
import os
import pty
import subprocess
import sys
from pathlib import Path

import orjson
import pytest
import yaml

from b24local.storage.migrations import scripts
from tests.admin.test_seed import CLIENT_SECRET, FULL, WEBHOOK_CODE
from tests.conftest import new_database, start_server

pytestmark = pytest.mark.live  # the command line


def b24local(*args: str, progress: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("B24LOCAL_DATABASE_URL", "B24LOCAL_PROGRESS")}
    if progress is not None:
        env["B24LOCAL_PROGRESS"] = progress
    # Bytes decoded here: text mode would turn the bars' carriage returns into newlines.
    done = subprocess.run(
        [sys.executable, "-m", "b24local", *args], capture_output=True, check=False, timeout=120, env=env
    )
    return subprocess.CompletedProcess(done.args, done.returncode, done.stdout.decode(), done.stderr.decode())


def database(request: pytest.FixtureRequest, backend: str, folder: Path) -> str:
    folder.mkdir(exist_ok=True)
    made = new_database(request, backend, folder)
    return f"sqlite:///{made}" if isinstance(made, Path) else made


def test_seed_and_export_round_trip_on_the_command_line(
    request: pytest.FixtureRequest, backend: str, tmp_path: Path
) -> None:
    doc = {**FULL, "users": [{"id": 1, "name": "Admin", "admin": True}, *FULL["users"]]}
    (tmp_path / "seed.yaml").write_text(yaml.safe_dump(doc), encoding="utf-8")
    first, second = database(request, backend, tmp_path / "a"), database(request, backend, tmp_path / "b")
    done = b24local("seed", "--database", first, str(tmp_path / "seed.yaml"))
    assert (done.returncode, done.stdout, done.stderr) == (
        0,
        "Seeded: departments 2, users 3, roles 1, webhooks 1, apps 1, pipelines 1, leads 2, contacts 2, "
        "deals 2, companies 1, lead_contact 2, deal_contact 1, contact_company 2\n",
        "",
    )
    assert b24local("export", "--database", first, str(tmp_path / "a.yaml")).returncode == 0
    exported = (tmp_path / "a.yaml").read_text(encoding="utf-8")
    assert WEBHOOK_CODE not in exported and CLIENT_SECRET not in exported
    assert b24local("seed", "--database", second, str(tmp_path / "a.yaml")).returncode == 0
    assert b24local("export", "--database", second, str(tmp_path / "b.yaml")).returncode == 0
    assert (tmp_path / "b.yaml").read_text(encoding="utf-8") == exported
    # JSON on stdout: the same document.
    as_json = b24local("export", "--database", second, "--format", "json")
    assert orjson.loads(as_json.stdout) == yaml.safe_load(exported)


def test_a_refused_seed_writes_nothing_and_says_where(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'x.db'}"
    (tmp_path / "bad.json").write_bytes(
        orjson.dumps({"contacts": [{"NAME": "ok"}], "leads": [{"OPENED": "maybe"}]})
    )
    done = b24local("seed", "--database", url, str(tmp_path / "bad.json"))
    assert (done.returncode, done.stdout, done.stderr) == (
        2,
        "",
        f"b24local: error: {tmp_path / 'bad.json'}: seed refused, nothing written: "
        "leads[0].OPENED: 'maybe' is neither Y nor N\n",
    )
    assert b24local("export", "--database", url).stdout == "{}\n"


def test_progress_bars_from_ten_thousand_records_when_forced(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'big.db'}"
    (tmp_path / "big.json").write_bytes(orjson.dumps({"leads": [{"TITLE": f"L{i}"} for i in range(10_000)]}))
    seeded = b24local("seed", "--database", url, str(tmp_path / "big.json"), progress="1")
    pending = len(scripts("sqlite"))
    assert seeded.stdout == "Seeded: leads 10000\n"
    assert seeded.stderr.startswith("\rMigrating [")
    assert f"100% {pending}/{pending} migrations\n\rSeeding [" in seeded.stderr
    assert seeded.stderr.endswith("\rSeeding [" + "#" * 30 + "] 100% 10,000/10,000 records\n")
    exported = b24local("export", "--database", url, str(tmp_path / "out.json"), progress="1")
    assert exported.stderr.startswith("\rExporting [")
    assert exported.stderr.endswith("\rExporting [" + "#" * 30 + "] 100% 10,000/10,000 records\n")
    # Not a terminal (captured) and not forced: no bar; fewer than 10,000 records: none either.
    assert b24local("export", "--database", url, str(tmp_path / "out.json")).stderr == ""
    (tmp_path / "small.json").write_bytes(orjson.dumps({"leads": [{"TITLE": "one"}]}))
    assert b24local("seed", "--database", url, str(tmp_path / "small.json"), progress="1").stderr == ""


def test_serve_seeds_an_empty_database_and_skips_it_later(tmp_path: Path) -> None:
    seed = tmp_path / "seed.yaml"
    seed.write_text("leads:\n- TITLE: Seeded lead\ncontacts:\n- NAME: Ann\n", encoding="utf-8")
    first = start_server(tmp_path / "s.db", "--seed", str(seed))
    try:
        assert f"--seed {seed}: Seeded: leads 1, contacts 1" in first.output()
        lead = first.call("crm.lead.get", {"id": 1}).result
        assert (lead["TITLE"], lead["CREATED_BY_ID"]) == ("Seeded lead", "1")
    finally:
        first.stop()
    again = start_server(tmp_path / "s.db", "--seed", str(seed), webhook_path=first.webhook_path)
    try:
        assert f"--seed {seed}: the database is not empty; the seed was not applied" in again.output()
        assert again.call("crm.lead.list", {}).body["total"] == 1
    finally:
        again.stop()


def test_the_bar_is_drawn_when_stderr_is_a_terminal(tmp_path: Path) -> None:
    """Not forced: stderr on a pseudo-terminal is enough (stdout stays a pipe, its output plain)."""
    (tmp_path / "big.json").write_bytes(
        orjson.dumps({"contacts": [{"NAME": f"C{i}"} for i in range(10_000)]})
    )
    leader, follower = pty.openpty()
    env = {k: v for k, v in os.environ.items() if k not in ("B24LOCAL_DATABASE_URL", "B24LOCAL_PROGRESS")}
    argv = ["seed", "--database", f"sqlite:///{tmp_path / 't.db'}", str(tmp_path / "big.json")]
    with subprocess.Popen(
        [sys.executable, "-m", "b24local", *argv], stdout=subprocess.PIPE, stderr=follower, env=env
    ) as process:
        os.close(follower)
        out, _ = process.communicate(timeout=120)
    drawn = b""
    with contextlib.suppress(OSError):  # EIO once the terminal's last writer has gone
        while chunk := os.read(leader, 65536):
            drawn += chunk
    os.close(leader)
    assert (process.returncode, out) == (0, b"Seeded: contacts 10000\n")
    assert drawn.endswith(b"\rSeeding [" + b"#" * 30 + b"] 100% 10,000/10,000 records\r\n")
