"""``b24local snapshot save|list|restore|delete`` and ``db reset --all|--to`` (test-portal.md T3, T4)
on a server's database, both backends; the surface's side is tests/admin/test_snapshots.py."""

from __future__ import annotations

import re

import pytest

from b24local.cli import main
from tests.conftest import InProcessServer


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_save_list_restore_delete(fresh_server: InProcessServer, capsys: pytest.CaptureFixture[str]) -> None:
    db = ("--database", fresh_server.db_url)
    fresh_server.call("crm.company.add", {"fields": {"TITLE": "ACME"}})
    assert run(capsys, "snapshot", "save", *db, "one") == (
        0,
        "Saved snapshot one: users 1, webhooks 1, companies 1.\n",
        "",
    )
    fresh_server.call("crm.company.add", {"fields": {"TITLE": "Later"}})
    assert (
        run(capsys, "snapshot", "save", *db, "two")[1]
        == "Saved snapshot two: users 1, webhooks 1, companies 2.\n"
    )
    assert run(capsys, "snapshot", "save", *db, "two")[1] == (
        "Replaced snapshot two: users 1, webhooks 1, companies 2.\n"
    )
    status, out, _ = run(capsys, "snapshot", "list", *db)
    moment = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00"
    assert status == 0
    assert re.fullmatch(
        f"NAME\tTIME\tCOUNTS\none\t{moment}\tusers 1, webhooks 1, companies 1\n"
        f"two\t{moment}\tusers 1, webhooks 1, companies 2\n",
        out,
    ), out
    assert run(capsys, "db", "reset", *db, "--to", "one") == (0, "Restored snapshot one.\n", "")
    assert fresh_server.call("crm.company.list", {}).body["total"] == 1
    assert fresh_server.call("crm.company.add", {"fields": {"TITLE": "Next"}}).result == 2
    assert run(capsys, "snapshot", "delete", *db, "one") == (0, "Deleted snapshot one.\n", "")
    assert run(capsys, "snapshot", "list", *db)[1].splitlines()[1:][0].startswith("two\t")


def test_unknown_and_bad_names(fresh_server: InProcessServer, capsys: pytest.CaptureFixture[str]) -> None:
    db = ("--database", fresh_server.db_url)
    for argv in (("snapshot", "restore", *db, "nope"), ("db", "reset", *db, "--to", "nope")):
        assert run(capsys, *argv) == (2, "", "b24local: error: no snapshot named nope\n")
    assert run(capsys, "snapshot", "delete", *db, "nope") == (
        2,
        "",
        "b24local: error: no snapshot named nope\n",
    )
    assert run(capsys, "snapshot", "save", *db, "no/slash") == (
        2,
        "",
        "b24local: error: argument NAME: A snapshot name is 1 to 64 letters, digits, '_', '.' or '-'\n",
    )
    status, _, err = run(capsys, "db", "reset", *db, "--all", "--to", "x")
    assert (status, err) == (2, "b24local: error: argument --to: not allowed with argument --all\n")
    assert run(capsys, "db", "reset", *db, "--webhook-code", "abc-1") == (
        2,
        "",
        "b24local: error: --webhook-code goes with --all\n",
    )


def test_reset_all_prints_the_new_webhook(
    fresh_server: InProcessServer, capsys: pytest.CaptureFixture[str]
) -> None:
    db = ("--database", fresh_server.db_url)
    fresh_server.call("crm.lead.add", {"fields": {"TITLE": "gone"}})
    fresh_server.add_user("Second")
    status, out, _ = run(capsys, "db", "reset", "--all", *db)
    first, url = out.splitlines()
    assert (status, first) == (
        0,
        "Removed everything; created user 1 (administrator) and a webhook with scope crm:",
    )
    assert re.fullmatch(r"http://127\.0\.0\.1:8000/rest/1/[a-z0-9]{16}/", url), url
    assert fresh_server.call("crm.lead.list", {}).status == 401
    new_hook = fresh_server.base_url + "/rest/" + url.split("/rest/")[1]
    assert fresh_server.call("crm.lead.list", {}, webhook=new_hook).body["total"] == 0
    assert run(capsys, "webhook", "list", *db)[1] == "ID\tUSER\tSCOPE\tSTATE\n1\t1\tcrm\tactive\n"
    assert run(capsys, "db", "reset", "--all", *db, "--webhook-code", "known-1")[1].endswith(
        "http://127.0.0.1:8000/rest/1/known-1/\n"
    )
