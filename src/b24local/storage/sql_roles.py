"""Departments and CRM roles in SQL (storage.base AccessStore)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from b24local.storage.sql_base import SqlBase


class RoleSql(SqlBase):
    """Departments, users' departments, roles and their holders."""

    # Departments and CRM roles --------------------------------------------------------------------
    _USER_COLUMNS = ("name", "last_name", "is_admin", "active", "crm_access")
    _Q_DEPARTMENT_ADD = "INSERT INTO b_department (name, parent_id) VALUES (?, ?)"
    _Q_DEPARTMENT_EXISTS = "SELECT 1 FROM b_department WHERE id = ?"
    _Q_USER_DEPARTMENTS = "SELECT department_id FROM b_user_department WHERE user_id = ? ORDER BY 1"
    _Q_USER_DEPARTMENTS_CLEAR = "DELETE FROM b_user_department WHERE user_id = ?"
    _Q_USER_DEPARTMENT_ADD = "INSERT INTO b_user_department (user_id, department_id) VALUES (?, ?)"
    _Q_ROLE_ADD = "INSERT INTO crm_role (name) VALUES (?)"
    _Q_ROLE_PERMISSION_ADD = (
        "INSERT INTO crm_role_permission (role_id, entity, action, level) VALUES (?, ?, ?, ?)"
    )
    _Q_ROLE_EXISTS = "SELECT 1 FROM crm_role WHERE id = ?"
    # Both walk the department tree with UNION ALL and aggregate in Python: no temporary B-trees, which
    # cost ten times the rest of the query. A parent always exists before its child, so the tree has no
    # cycles; the depth bound only guards against a database edited by hand.
    _Q_ROLE_LEVELS = (
        "WITH RECURSIVE up(id, depth) AS ("
        " SELECT department_id, 0 FROM b_user_department WHERE user_id = ?"
        " UNION ALL SELECT d.parent_id, up.depth + 1 FROM up JOIN b_department d ON d.id = up.id"
        " WHERE d.parent_id IS NOT NULL AND up.depth < 100) "
        "SELECT p.entity, p.action, p.level FROM crm_role_holder h "
        "JOIN crm_role_permission p ON p.role_id = h.role_id WHERE h.user_id = ? "
        "UNION ALL SELECT p.entity, p.action, p.level FROM up "
        "JOIN crm_role_holder h ON h.department_id = up.id "
        "JOIN crm_role_permission p ON p.role_id = h.role_id"
    )
    #: The same walk, naming each role (the journal's reason for a refusal: crm/why.py).
    _Q_ROLE_GRANTS = (
        "WITH RECURSIVE up(id, depth) AS ("
        " SELECT department_id, 0 FROM b_user_department WHERE user_id = ?"
        " UNION ALL SELECT d.parent_id, up.depth + 1 FROM up JOIN b_department d ON d.id = up.id"
        " WHERE d.parent_id IS NOT NULL AND up.depth < 100) "
        "SELECT r.name, p.entity, p.action, p.level FROM crm_role_holder h "
        "JOIN crm_role r ON r.id = h.role_id "
        "JOIN crm_role_permission p ON p.role_id = h.role_id WHERE h.user_id = ? "
        "UNION ALL SELECT r.name, p.entity, p.action, p.level FROM up "
        "JOIN crm_role_holder h ON h.department_id = up.id "
        "JOIN crm_role r ON r.id = h.role_id "
        "JOIN crm_role_permission p ON p.role_id = h.role_id"
    )
    _Q_DEPARTMENT_MEMBERS = (
        "WITH RECURSIVE down(id, depth) AS ("
        " SELECT department_id, 0 FROM b_user_department WHERE user_id = ?"
        " UNION ALL SELECT d.id, down.depth + 1 FROM down JOIN b_department d ON d.parent_id = down.id"
        " WHERE down.depth < 100) "
        "SELECT ud.user_id, down.depth FROM down JOIN b_user_department ud ON ud.department_id = down.id"
    )

    def user_update(self, user_id: int, changes: Mapping[str, Any]) -> None:
        columns = [c for c in self._USER_COLUMNS if c in changes]
        if not columns:
            return
        values = [int(changes[c]) if isinstance(changes[c], bool) else changes[c] for c in columns]
        ph = self.ph
        assignments = ", ".join(f"{c} = {ph}" for c in columns)
        self.conn.execute(f"UPDATE b_user SET {assignments} WHERE id = {ph}", [*values, user_id])

    def department_add(self, name: str, parent_id: int | None) -> int:
        return self._insert(self._Q_DEPARTMENT_ADD, (name, parent_id))

    def department_exists(self, department_id: int) -> bool:
        return self._one(self._Q_DEPARTMENT_EXISTS, (department_id,)) is not None

    def user_departments(self, user_id: int) -> list[int]:
        rows = self.conn.execute(self._Q_USER_DEPARTMENTS, (user_id,))
        return [r[0] for r in rows]

    def user_departments_set(self, user_id: int, department_ids: Sequence[int]) -> None:
        self.conn.execute(self._Q_USER_DEPARTMENTS_CLEAR, (user_id,))
        self._executemany(self._Q_USER_DEPARTMENT_ADD, [(user_id, d) for d in dict.fromkeys(department_ids)])

    def role_add(self, name: str, levels: Mapping[tuple[str, str], int]) -> int:
        role_id = self._insert(self._Q_ROLE_ADD, (name,))
        self._executemany(
            self._Q_ROLE_PERMISSION_ADD,
            [(role_id, entity, action, int(level)) for (entity, action), level in levels.items()],
        )
        return role_id

    def role_exists(self, role_id: int) -> bool:
        return self._one(self._Q_ROLE_EXISTS, (role_id,)) is not None

    def role_assign(
        self, role_id: int, *, user_id: int | None = None, department_id: int | None = None
    ) -> bool:
        cur = self.conn.execute(self._ROLE_ASSIGN, (role_id, user_id, department_id))
        return bool(cur.rowcount > 0)

    def role_levels(self, user_id: int) -> dict[tuple[str, str], int]:
        rows = self.conn.execute(self._Q_ROLE_LEVELS, (user_id, user_id))
        levels: dict[tuple[str, str], int] = {}
        for entity, action, level in rows:
            if level > levels.get((entity, action), -1):
                levels[(entity, action)] = level
        return levels

    def role_grants(self, user_id: int) -> list[tuple[str, str, str, int]]:
        rows = self.conn.execute(self._Q_ROLE_GRANTS, (user_id, user_id))
        return sorted({(str(r[0]), str(r[1]), str(r[2]), int(r[3])) for r in rows})

    def department_members(self, user_id: int) -> tuple[frozenset[int], frozenset[int]]:
        rows = self.conn.execute(self._Q_DEPARTMENT_MEMBERS, (user_id,)).fetchall()
        return frozenset(r[0] for r in rows if r[1] == 0), frozenset(r[0] for r in rows)
