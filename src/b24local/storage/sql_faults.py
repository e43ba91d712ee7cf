"""The fault rules in SQL (storage.base FaultStore, test-portal.md T9, migration 13)."""

from __future__ import annotations

from collections.abc import Sequence

from b24local.storage.base import FaultRow
from b24local.storage.sql_base import SqlBase


class FaultSql(SqlBase):
    """The rules of the current generation and their counts."""

    _Q_FAULT_GENERATION = "SELECT generation FROM fault_state WHERE id = 1"
    #: One statement, so that the generation and its rows are read together even outside a transaction.
    _Q_FAULT_RULES = (
        "SELECT s.generation, r.position, r.rule, r.hits, r.faulted, r.remaining FROM fault_state s "
        "LEFT JOIN fault_rule r ON r.generation = s.generation WHERE s.id = 1 ORDER BY r.position"
    )
    _Q_FAULT_BUMP = "UPDATE fault_state SET generation = generation + 1 WHERE id = 1 RETURNING generation"
    _Q_FAULT_CLEAR = "DELETE FROM fault_rule"
    _Q_FAULT_ADD = "INSERT INTO fault_rule (generation, position, rule, remaining) VALUES (?, ?, ?, ?)"
    #: Counted under the row's lock (SQLite's write lock, PostgreSQL's row lock) until the commit, so
    #: that concurrent calls of any process each see their own count.
    _Q_FAULT_HIT = (
        "UPDATE fault_rule SET hits = hits + 1 WHERE generation = ? AND position = ? "
        "RETURNING hits, remaining"
    )
    _Q_FAULT_FIRED = (
        "UPDATE fault_rule SET faulted = faulted + 1, remaining = remaining - 1 "
        "WHERE generation = ? AND position = ?"
    )

    def fault_generation(self) -> int:
        return int(self._one(self._Q_FAULT_GENERATION))

    def fault_rules(self) -> tuple[int, list[FaultRow]]:
        rows = self.conn.execute(self._Q_FAULT_RULES).fetchall()
        generation = int(rows[0][0])
        found = [FaultRow(int(r[1]), str(r[2]), int(r[3]), int(r[4]), r[5]) for r in rows if r[1] is not None]
        return generation, found

    def fault_rules_set(self, rules: Sequence[tuple[str, int | None]]) -> int:
        self.conn.execute(self._Q_FAULT_CLEAR)
        generation = int(self._one(self._Q_FAULT_BUMP))
        self._executemany(
            self._Q_FAULT_ADD,
            [(generation, position, rule, remaining) for position, (rule, remaining) in enumerate(rules)],
        )
        return generation

    def fault_hit(self, generation: int, position: int) -> tuple[int, int | None] | None:
        row = self.conn.execute(self._Q_FAULT_HIT, (generation, position)).fetchone()
        return None if row is None else (int(row[0]), None if row[1] is None else int(row[1]))

    def fault_fired(self, generation: int, position: int) -> None:
        self.conn.execute(self._Q_FAULT_FIRED, (generation, position))

    def fault_announce(self, generation: int) -> None:
        """Nothing to do here: SQLite writes its hint (storage/fault_hint.py); PostgreSQL's trigger
        announced the change at the commit (migration 13)."""
