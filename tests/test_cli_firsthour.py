"""The first hour of a new user (issue 16): the README's examples as written, help for every option,
bare database paths, webhook URLs on the running server, the restart message, stable webhook codes
(test-portal.md T6) and ``webhook list``."""

from __future__ import annotations

import argparse
import json
import re
import shlex
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from b24local.cli.parser import build_parser, parsers
from b24local.config import Config
from tests.conftest import LiveServer, free_port, start_server
from tests.servers import end_process
from tests.test_cli import b24local

pytestmark = pytest.mark.live  # `serve` processes and admin commands

README = Path(__file__).resolve().parent.parent / "README.md"
#: The webhook URL the README's examples use.
README_WEBHOOK = "http://127.0.0.1:8000/rest/1/k3v9x0q2m7aa1b2c/"


def readme_curls() -> list[list[str]]:
    """The curl commands of the README's code block after "Then call it as you would call a portal"."""
    text = README.read_text(encoding="utf-8")
    after = text[text.index("Then call it as you would call a portal") :]
    block = after.split("```\n", 2)[1]
    joined = block.replace("\\\n", " ")
    return [shlex.split(line) for line in joined.splitlines() if line.startswith("curl ")]


def test_readme_quick_start_examples_work_on_a_new_database(fresh_live_server: LiveServer) -> None:
    commands = readme_curls()
    assert [c[-1].rsplit("/", 1)[1] for c in commands] == [
        "crm.contact.add",
        "crm.lead.add",
        "crm.lead.contact.items.set",
        "crm.lead.contact.items.get?id=1",
    ]
    answers = []
    for command in commands:
        args = [a.replace(README_WEBHOOK, fresh_live_server.webhook_url) for a in command]
        done = subprocess.run(
            [*args, "-sS", "-w", "\n%{http_code}"], capture_output=True, text=True, timeout=30, check=False
        )
        body, _, status = done.stdout.rpartition("\n")
        assert (done.returncode, status) == (0, "200"), (args, done.stdout, done.stderr)
        answers.append(json.loads(body)["result"])
    assert answers == [1, 1, True, [{"CONTACT_ID": 1, "SORT": 10, "ROLE_ID": 0, "IS_PRIMARY": "Y"}]]


def test_no_command_prints_the_help_and_exits_2() -> None:
    done = b24local()
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr.startswith("usage: b24local [-h] [--version] COMMAND ...\n")
    for command in ("serve", "db", "app", "webhook", "user", "department", "role", "pipeline"):
        assert re.search(rf"^    {command}\b", done.stderr, re.MULTILINE), command
    group = b24local("webhook")
    assert (group.returncode, group.stdout) == (2, "")
    assert group.stderr.startswith("usage: b24local webhook [-h] ACTION ...\n")
    assert "    list      print every webhook" in group.stderr


def test_every_option_of_every_command_has_help() -> None:
    missing = []
    checked = 0
    for parser in parsers(build_parser()):
        for action in parser._actions:
            if not action.option_strings or isinstance(action, argparse._HelpAction):
                continue
            checked += 1
            if not action.help or action.help == argparse.SUPPRESS:
                missing.append(f"{parser.prog} {action.option_strings[0]}")
    assert missing == []
    assert checked > 60


def test_help_shows_the_defaults() -> None:
    done = b24local("serve", "--help")
    assert done.returncode == 0
    text = " ".join(done.stdout.split())  # argparse wraps the help at the terminal's width
    assert "--host HOST the address to listen on (default: 127.0.0.1)" in text
    assert "--port PORT the port to listen on (default: 8000)" in text
    assert "(default: $B24LOCAL_DATABASE_URL, else sqlite:///b24local.db in the working directory)" in text
    assert "--workers N server processes sharing the port and the database (default: 1)" in text
    assert "(default: None)" not in text
    # Every option whose default is a value says so, in its own words or the formatter's.
    shown = 0
    for parser in parsers(build_parser()):
        formatter = parser._get_formatter()
        for action in parser._actions:
            if action.option_strings and action.default not in (None, False, argparse.SUPPRESS):
                assert "default" in (formatter._get_help_string(action) or ""), parser.prog
                shown += 1
    assert shown == 11  # serve: host, port, limits, 3 OAuth lifetimes, workers, sqlite-synchronous,
    # cors-origin, journal-size; last-name


def test_a_bare_path_is_an_sqlite_database(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "b24local", "user", "create", "--database", "./x.db", "--name", "Anna"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert (done.returncode, done.stdout, done.stderr) == (0, "1\n", "")
    assert (tmp_path / "x.db").is_file()
    # The same database as its URL.
    listed = b24local("user", "create", "--database", f"sqlite:///{tmp_path / 'x.db'}", "--name", "Boris")
    assert (listed.returncode, listed.stdout) == (0, "2\n")


def test_webhook_create_prints_the_running_servers_url(fresh_live_server: LiveServer) -> None:
    db = fresh_live_server.db_url
    hook = b24local("webhook", "create", "--database", db, "--user", "1", "--scope", "crm", "--code", "k_1")
    assert (hook.returncode, hook.stdout) == (0, f"{fresh_live_server.base_url}/rest/1/k_1/\n")
    assert fresh_live_server.call("crm.lead.list", webhook=hook.stdout.strip()).status == 200
    moved = b24local("webhook", "create", "--database", db, "--user", "1", "--scope", "crm", "--code", "k_2",
                     "--port", "9")  # fmt: skip
    assert moved.stdout == "http://127.0.0.1:9/rest/1/k_2/\n"


def test_webhook_create_before_the_first_start_says_serve_makes_user_1(tmp_path: Path) -> None:
    done = b24local(
        "webhook", "create", "--database", str(tmp_path / "new.db"), "--user", "1", "--scope", "crm"
    )
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == (
        "b24local: error: no user with id 1: the database has no users yet; 'b24local serve' creates "
        "user 1 (an administrator) on its first start, 'b24local user create' makes one now\n"
    )


def test_restart_message_names_a_command_that_works_when_pasted(tmp_path: Path) -> None:
    db = tmp_path / "b24local.db"
    start_server(db).stop()
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "b24local", "serve", "--port", str(port), "--database", str(db)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        cwd=tmp_path,
    )
    try:
        assert process.stdout is not None
        lines = [process.stdout.readline() for _ in range(2)]
        base_url = f"http://127.0.0.1:{port}"
        assert lines == [
            f"b24local 0.1.0 on {base_url} with sqlite:///{db}\n",
            f"Existing database: use the webhook URL printed when it was created, or make another on "
            f"{base_url} with: b24local webhook create --database sqlite:///{db} --user 1 --scope crm\n",
        ]
        command = shlex.split(lines[1].split(" with: ", 1)[1])
        done = b24local(*command[1:])  # pasted in another shell: no port given, yet the server's URL
        assert done.returncode == 0, done.stderr
        assert re.fullmatch(rf"{re.escape(base_url)}/rest/1/[a-z0-9]{{16}}/\n", done.stdout), done.stdout
        for _ in range(100):
            try:
                reply = httpx.post(done.stdout.strip() + "crm.lead.list", timeout=5)
                break
            except httpx.TransportError:
                time.sleep(0.05)
        assert reply.status_code == 200
    finally:
        end_process(process)


def test_webhook_code_is_stable_across_starts_and_listed_without_it(tmp_path: Path) -> None:
    db = tmp_path / "b24local.db"
    first = start_server(db, "--webhook-code", "ci_code_1")
    try:
        assert first.webhook_url == f"{first.base_url}/rest/1/ci_code_1/"
        assert first.call("crm.lead.list").status == 200
    finally:
        first.stop()
    disabled = b24local(
        "webhook", "disable", "--database", f"sqlite:///{db}", "--user", "1", "--code", "ci_code_1"
    )
    assert disabled.returncode == 0, disabled.stderr
    # Every start makes the code work again, from the flag or from the environment.
    second = start_server(db, env={"B24LOCAL_WEBHOOK_CODE": "ci_code_1"})
    try:
        assert second.webhook_url == f"{second.base_url}/rest/1/ci_code_1/"
        assert second.call("crm.lead.list").status == 200
    finally:
        second.stop()
    listed = b24local("webhook", "list", "--database", f"sqlite:///{db}")
    assert (listed.returncode, listed.stdout) == (0, "ID\tUSER\tSCOPE\tSTATE\n2\t1\tcrm\tactive\n")
    assert "ci_code_1" not in listed.stdout


def test_a_bad_webhook_code_in_the_environment_is_one_line(tmp_path: Path) -> None:
    done = b24local("serve", "--database", str(tmp_path / "e.db"), "--port", "1",
                    env={"B24LOCAL_WEBHOOK_CODE": "12345"})  # fmt: skip
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == "b24local: error: $B24LOCAL_WEBHOOK_CODE: a webhook code must not be all digits\n"


def test_a_wildcard_host_gives_webhook_urls_with_the_loopback_address() -> None:
    every_v4 = Config(host="0.0.0.0", port=8123)
    every_v6 = Config(host="::", port=8123, tls=True)
    one = Config(host="10.1.2.3", port=8123)
    assert (every_v4.listen_url, every_v4.base_url) == ("http://0.0.0.0:8123", "http://127.0.0.1:8123")
    assert (every_v6.listen_url, every_v6.webhook_url(1, "k")) == (
        "https://[::]:8123",
        "https://[::1]:8123/rest/1/k/",
    )
    assert (one.listen_url, one.base_url) == ("http://10.1.2.3:8123", "http://10.1.2.3:8123")
