"""Departments and CRM roles in the SQLite backend: the two queries the permission service makes."""

from __future__ import annotations

from pathlib import Path

from b24local.storage.sqlite import SqliteStorage


def test_levels_and_members_over_a_deep_tree(tmp_path: Path) -> None:
    store = SqliteStorage(f"sqlite:///{tmp_path / 'x.db'}")
    try:
        with store.write() as tx:
            top = tx.department_add("Top", None)
            mid = tx.department_add("Mid", top)
            low = tx.department_add("Low", mid)
            side = tx.department_add("Side", top)
            users = {name: tx.user_add(name, "", False) for name in ("t", "m", "l", "s", "m_and_s", "none")}
            for name, departments in (
                ("t", [top]),
                ("m", [mid]),
                ("l", [low]),
                ("s", [side]),
                ("m_and_s", [mid, side]),
            ):
                tx.user_departments_set(users[name], departments)
            on_top = tx.role_add("top", {("lead", "read"): 2, ("lead", "update"): 1})
            on_mid = tx.role_add("mid", {("lead", "read"): 4, ("contact", "add"): 0})
            personal = tx.role_add("personal", {("lead", "update"): 5})
            assert tx.role_assign(on_top, department_id=top)
            assert tx.role_assign(on_mid, department_id=mid)
            assert tx.role_assign(personal, user_id=users["s"])
            assert not tx.role_assign(personal, user_id=users["s"])  # held already
        with store.read() as tx:
            levels = {name: tx.role_levels(user) for name, user in users.items()}
            members = {name: tx.department_members(user) for name, user in users.items()}
    finally:
        store.close()
    top_only = {("lead", "read"): 2, ("lead", "update"): 1}
    with_mid = {("lead", "read"): 4, ("lead", "update"): 1, ("contact", "add"): 0}
    assert levels == {
        "t": top_only,
        "m": with_mid,
        "l": with_mid,  # two levels down still holds Top's and Mid's roles
        "s": {("lead", "read"): 2, ("lead", "update"): 5},
        "m_and_s": with_mid,
        "none": {},
    }
    u = users
    assert members == {
        "t": (frozenset({u["t"]}), frozenset(u[n] for n in ("t", "m", "l", "s", "m_and_s"))),
        "m": (frozenset({u["m"], u["m_and_s"]}), frozenset({u["m"], u["m_and_s"], u["l"]})),
        "l": (frozenset({u["l"]}), frozenset({u["l"]})),
        "s": (frozenset({u["s"], u["m_and_s"]}), frozenset({u["s"], u["m_and_s"]})),
        "m_and_s": (
            frozenset({u["m"], u["s"], u["m_and_s"]}),
            frozenset({u["m"], u["s"], u["m_and_s"], u["l"]}),
        ),
        "none": (frozenset(), frozenset()),
    }
