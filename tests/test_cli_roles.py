"""``b24local department create``, ``user update``, ``role create``, ``role assign``: the exact forms,
what they store, and one-line errors."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from b24local.cli import main
from b24local.storage.sqlite import SqliteStorage
from tests.conftest import LiveServer

pytestmark = pytest.mark.live  # the command line: admin commands, as processes

# Stored levels: 0 none, 1 own, 2 department, 3 sub-departments, 4 open, 5 all.


@pytest.fixture
def db(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'b24local.db'}"


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def ok(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    code, out, err = run(capsys, *args)
    assert (code, err) == (0, ""), err
    return out


def fails(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code, out, err = run(capsys, *args)
    assert out == ""
    assert err.count("\n") == 1 and err.startswith("b24local: error: "), err
    return code, err.removeprefix("b24local: error: ").rstrip("\n")


def user(capsys: pytest.CaptureFixture[str], db: str, name: str = "Ann") -> int:
    return int(ok(capsys, "user", "create", "--database", db, "--name", name))


def test_department_create(capsys: pytest.CaptureFixture[str], db: str) -> None:
    assert ok(capsys, "department", "create", "--database", db, "--name", "Sales") == "1\n"
    assert ok(capsys, "department", "create", "--database", db, "--name", "East", "--parent", "1") == "2\n"
    assert fails(capsys, "department", "create", "--database", db, "--name", "X", "--parent", "7") == (
        2,
        "no department with id 7",
    )
    assert fails(capsys, "department", "create", "--database", db, "--name", " ") == (
        2,
        "--name must not be empty",
    )
    assert fails(capsys, "department", "create", "--database", db)[0] == 2  # --name is required
    store = SqliteStorage(db)
    try:
        with store.read() as tx:
            assert [tx.department_exists(d) for d in (1, 2, 3)] == [True, True, False]
            assert store.conn.execute("SELECT id, name, parent_id FROM b_department").fetchall() == [
                (1, "Sales", None),
                (2, "East", 1),
            ]
    finally:
        store.close()


def test_user_update(capsys: pytest.CaptureFixture[str], db: str) -> None:
    ann = user(capsys, db)
    for name in ("Sales", "East", "Support"):
        ok(capsys, "department", "create", "--database", db, "--name", name)
    base = ("user", "update", "--database", db, "--id", str(ann))
    assert ok(capsys, *base, "--name", "Anna", "--last-name", "Lee", "--admin", "--inactive") == ""
    assert ok(capsys, *base, "--department", "1", "3") == ""
    store = SqliteStorage(db)
    try:
        with store.read() as tx:
            found = tx.user_get(ann)
            assert found is not None
            assert (found.name, found.last_name, found.is_admin, found.active, found.crm_access) == (
                "Anna",
                "Lee",
                True,
                False,
                True,
            )
            assert tx.user_departments(ann) == [1, 3]
        # each option changes only itself; --department replaces the list, repeated or not
        ok(
            capsys,
            *base,
            "--no-admin",
            "--active",
            "--no-crm-access",
            "--department",
            "2",
            "--department",
            "1",
        )
        with store.read() as tx:
            found = tx.user_get(ann)
            assert found is not None
            assert (found.name, found.last_name, found.is_admin, found.active, found.crm_access) == (
                "Anna",
                "Lee",
                False,
                True,
                False,
            )
            assert tx.user_departments(ann) == [1, 2]
        ok(capsys, *base, "--no-department")
        with store.read() as tx:
            assert tx.user_departments(ann) == []
    finally:
        store.close()
    assert fails(capsys, *base) == (2, "nothing to change")
    assert fails(capsys, *base, "--department", "9") == (2, "no department with id 9")
    assert fails(capsys, "user", "update", "--database", db, "--id", "99", "--name", "X") == (
        2,
        "no user with id 99",
    )
    assert fails(capsys, *base, "--name", "") == (2, "--name must not be empty")
    assert fails(capsys, *base, "--department", "1", "--no-department")[0] == 2


def test_role_create(capsys: pytest.CaptureFixture[str], db: str) -> None:
    ann = user(capsys, db)
    out = ok(
        capsys, "role", "create", "--database", db, "--name", "Sales", "--perm", "lead:read:all",
        "--perm", "contact:*:own", "--perm", "LEAD:Update:SubDepartments",
    )  # fmt: skip
    assert out == "1\n"
    assert ok(capsys, "role", "create", "--database", db, "--name", "All", "--perm", "*:*:open") == "2\n"
    # a later --perm overrides an earlier one for the same pair
    out = ok(
        capsys, "role", "create", "--database", db, "--name", "Mixed", "--perm", "*:*:department",
        "--perm", "lead:delete:none",
    )  # fmt: skip
    assert out == "3\n"
    store = SqliteStorage(db)
    try:
        rows = store.conn.execute(
            "SELECT role_id, entity, action, level FROM crm_role_permission ORDER BY 1, 2, 3"
        ).fetchall()
        assert rows == [
            (1, "contact", "add", 1),
            (1, "contact", "delete", 1),
            (1, "contact", "read", 1),
            (1, "contact", "update", 1),
            (1, "lead", "read", 5),
            (1, "lead", "update", 3),
            *[
                (2, e, a, 4)
                for e in ("company", "contact", "deal", "lead")
                for a in ("add", "delete", "read", "update")
            ],
            *[
                (3, e, a, 2)
                for e in ("company", "contact", "deal")
                for a in ("add", "delete", "read", "update")
            ],
            (3, "lead", "add", 2),
            (3, "lead", "delete", 0),
            (3, "lead", "read", 2),
            (3, "lead", "update", 2),
        ]
        with store.write() as tx:
            tx.role_assign(1, user_id=ann)
            tx.role_assign(3, user_id=ann)
            assert tx.role_levels(ann) == {
                **{(e, a): 2 for e in ("company", "deal") for a in ("add", "delete", "read", "update")},
                ("contact", "add"): 2,
                ("contact", "delete"): 2,
                ("contact", "read"): 2,
                ("contact", "update"): 2,
                ("lead", "add"): 2,
                ("lead", "delete"): 0,
                ("lead", "read"): 5,
                ("lead", "update"): 3,
            }
    finally:
        store.close()
    base = ("role", "create", "--database", db, "--name", "Bad")
    assert fails(capsys, *base, "--perm", "lead:read") == (
        2,
        "argument --perm: expected ENTITY:ACTION:LEVEL, got 'lead:read'",
    )
    assert fails(capsys, *base, "--perm", "quote:read:all") == (
        2,
        "argument --perm: unknown entity 'quote' "
        "(one of lead, contact, deal, company, deal_c<pipeline id>, *)",
    )
    assert fails(capsys, *base, "--perm", "deal_c0:read:all")[0] == 2  # pipeline 0 is "deal"
    assert fails(capsys, *base, "--perm", "lead:export:all") == (
        2,
        "argument --perm: unknown action 'export' (one of read, add, update, delete, *)",
    )
    assert fails(capsys, *base, "--perm", "lead:read:some") == (
        2,
        "argument --perm: unknown level 'some' (one of none, own, department, subdepartments, open, all)",
    )
    assert fails(capsys, *base)[0] == 2  # --perm is required


def test_role_assign(capsys: pytest.CaptureFixture[str], db: str) -> None:
    ann = user(capsys, db)
    ok(capsys, "department", "create", "--database", db, "--name", "Sales")
    ok(capsys, "role", "create", "--database", db, "--name", "R", "--perm", "lead:read:all")
    base = ("role", "assign", "--database", db, "--role", "1")
    assert ok(capsys, *base, "--user", str(ann)) == ""
    assert ok(capsys, *base, "--user", str(ann)) == ""  # again: no change, no error
    assert ok(capsys, *base, "--department", "1") == ""
    store = SqliteStorage(db)
    try:
        assert store.conn.execute(
            "SELECT role_id, user_id, department_id FROM crm_role_holder"
        ).fetchall() == [
            (1, ann, None),
            (1, None, 1),
        ]
    finally:
        store.close()
    assert fails(capsys, "role", "assign", "--database", db, "--role", "5", "--user", str(ann)) == (
        2,
        "no role with id 5",
    )
    assert fails(capsys, *base, "--user", "42") == (2, "no user with id 42")
    assert fails(capsys, *base, "--department", "42") == (2, "no department with id 42")
    assert fails(capsys, *base) == (2, "one of the arguments --user --department is required")
    assert fails(capsys, *base, "--user", str(ann), "--department", "1") == (
        2,
        "argument --department: not allowed with argument --user",
    )


def b24local(*args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "b24local", *args], capture_output=True, check=True, text=True, timeout=60
    )
    assert done.stderr == ""
    return done.stdout


def test_commands_give_access_on_a_live_server(fresh_live_server: LiveServer) -> None:
    """The four commands as a script runs them, against the database of a running server."""
    db = ("--database", fresh_live_server.db_url)
    webhook = fresh_live_server.add_user("Manager")
    manager = webhook.split("/rest/")[1].split("/")[0]
    sales = b24local("department", "create", *db, "--name", "Sales").strip()
    east = b24local("department", "create", *db, "--name", "East", "--parent", sales).strip()
    colleague = b24local("user", "create", *db, "--name", "Colleague").strip()
    assert b24local("user", "update", *db, "--id", colleague, "--department", east) == ""
    assert b24local("user", "update", *db, "--id", manager, "--department", sales) == ""
    lead = fresh_live_server.insert_lead(assigned_by=int(colleague), opened="N")
    assert fresh_live_server.call("crm.lead.get", {"id": lead}, webhook=webhook).status == 400
    role = b24local("role", "create", *db, "--name", "Heads", "--perm", "lead:*:subdepartments").strip()
    assert b24local("role", "assign", *db, "--role", role, "--department", sales) == ""
    assert fresh_live_server.call("crm.lead.get", {"id": lead}, webhook=webhook).result["ID"] == str(lead)
    assert b24local("user", "update", *db, "--id", manager, "--inactive") == ""
    assert fresh_live_server.call("crm.lead.get", {"id": lead}, webhook=webhook).status == 401
