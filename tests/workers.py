"""Helpers for the tests of ``serve --workers`` on SQLite and PostgreSQL: random binding writes timed
on the client, the processes of a server, and the checks of the final state against the contract's
invariants, read straight from the database (``LiveServer.db_url``) with a plain sqlite3 or psycopg
connection.

A call's effect is checked soundly, not completely: the server commits each call between the moment
the client sends it and the moment the answer arrives, so the call serialised last on a lead is one
that no later-sent answered call followed (``last_candidates``), and the lead's final bindings must be
what one of those leaves behind (``postcondition``); and each contact's presence (and SORT) must be
what the items.set serialised last and the adds and deletes that may follow it can leave
(``after_last_set``). A call cut by a kill may or may not have applied; both are allowed.
"""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import psycopg

from tests.invariants import INVARIANTS

#: (contact id, sort, is_primary) of one lead, ordered by contact id.
State = tuple[tuple[int, int, bool], ...]


@dataclass
class Sent:
    """One call as the client saw it: when it went out, when (and whether) its answer came back."""

    lead: int
    method: str
    params: dict[str, Any]
    sent: float
    answered: float | None = None  # None: no answer (the server was killed)
    status: int | None = None
    body: Any = None
    error: str = ""  # why there is no answer

    @property
    def ok(self) -> bool:
        return self.status == 200


def random_write(
    rng: random.Random, leads: list[int], contacts: list[int]
) -> tuple[int, str, dict[str, Any]]:
    """A random items.set / add / delete on one of ``leads``."""
    lead = rng.choice(leads)
    kind = rng.random()
    if kind < 0.4:
        chosen = rng.sample(contacts, rng.randint(0, 3))
        primary = rng.randrange(len(chosen) + 1)  # == len: no "Y" at all
        items = []
        for i, contact in enumerate(chosen):
            item: dict[str, Any] = {"CONTACT_ID": contact}
            if rng.random() < 0.5:
                item["SORT"] = rng.randint(1, 100)
            item["IS_PRIMARY"] = "Y" if i == primary else "N"
            items.append(item)
        return lead, "crm.lead.contact.items.set", {"id": lead, "items": items}
    fields: dict[str, Any] = {"CONTACT_ID": rng.choice(contacts)}
    if kind < 0.75:
        fields["IS_PRIMARY"] = rng.choice(["Y", "N"])
        return lead, "crm.lead.contact.add", {"id": lead, "fields": fields}
    return lead, "crm.lead.contact.delete", {"id": lead, "fields": fields}


def send(client: httpx.Client, webhook: str, lead: int, method: str, params: dict[str, Any]) -> Sent:
    record = Sent(lead, method, params, time.monotonic())
    try:
        raw = client.post(webhook + method, json=params)
    except httpx.HTTPError as exc:
        record.error = repr(exc)
        return record
    record.answered = time.monotonic()
    record.status = raw.status_code
    record.body = raw.json() if raw.content else None
    return record


def items_set_state(items: list[dict[str, Any]]) -> State:
    """The bindings an items.set of distinct contacts leaves (contract S3, S4)."""
    primary = next((i for i, item in enumerate(items) if item.get("IS_PRIMARY") == "Y"), 0)
    return tuple(
        sorted(
            (item["CONTACT_ID"], item.get("SORT") or (i + 1) * 10, i == primary)
            for i, item in enumerate(items)
        )
    )


def postcondition(call: Sent, state: State) -> bool:
    """Whether ``state`` is one that ``call`` could leave if it was the last to apply on its lead."""
    if call.method == "crm.lead.contact.items.set":
        return state == items_set_state(call.params["items"])
    contact = call.params["fields"]["CONTACT_ID"]
    bound = {c: primary for c, _sort, primary in state}
    if call.method == "crm.lead.contact.delete":
        return contact not in bound
    if contact not in bound:
        return False
    # An add answered true with "Y" made the contact primary; one answered false changed nothing.
    if call.ok and call.body.get("result") is True and call.params["fields"].get("IS_PRIMARY") == "Y":
        return bound[contact]
    return True


def last_candidates(calls: list[Sent]) -> list[Sent]:
    """The calls of one lead that may have been serialised last: every call without an answer (it may
    have applied), and every answered one that no answered call sent after its answer follows."""
    answered = [c for c in calls if c.answered is not None]
    latest_send = max((c.sent for c in answered), default=float("-inf"))
    return [c for c in calls if c.answered is None or c.answered >= latest_send]


def after_last_set(calls: list[Sent], state: State) -> bool:
    """Whether ``state`` is what the items.set serialised last, then adds and deletes, can leave.

    For a candidate last set L, the adds and deletes that may follow it are those not answered before L
    was sent. A contact's final membership is decided by the last of those on it (one that no other on
    it was sent after the answer of), or by L when none has to follow L; a contact that only L placed
    keeps L's SORT. Each contact is checked on its own (a relaxation: sound, not complete). True when no
    items.set of ``calls`` was answered (the last one may be older than these calls)."""
    sets = [c for c in calls if c.method == "crm.lead.contact.items.set"]
    latest = max((c.sent for c in sets if c.answered is not None), default=None)
    if latest is None:
        return True
    final = {contact: sort for contact, sort, _primary in state}
    return any(
        _fits_after(last, calls, final) for last in sets if last.answered is None or last.answered >= latest
    )


def _fits_after(last: Sent, calls: list[Sent], final: dict[int, int]) -> bool:
    wanted = {contact: sort for contact, sort, _primary in items_set_state(last.params["items"])}
    later = [
        c
        for c in calls
        if c.method != "crm.lead.contact.items.set" and (c.answered is None or c.answered > last.sent)
    ]
    for contact in set(wanted) | set(final) | {c.params["fields"]["CONTACT_ID"] for c in later}:
        ops = [c for c in later if c.params["fields"]["CONTACT_ID"] == contact]
        # Only answered calls surely applied: one cut by a kill forces no order.
        applied = [c for c in ops if c.answered is not None]
        must_follow = [c for c in applied if last.answered is not None and c.sent > last.answered]
        possible = {
            o.method == "crm.lead.contact.add"
            for o in ops
            if o.answered is None or not any(p.sent > o.answered for p in applied)
        }
        if not must_follow:
            possible.add(contact in wanted)
        if (contact in final) not in possible:
            return False
        if contact in final and contact in wanted and not ops and final[contact] != wanted[contact]:
            return False
    return True


def check_serial(calls: list[Sent], states: dict[int, State], before: dict[int, State] | None = None) -> None:
    """Every lead's final state is what some call that may have been last leaves behind."""
    for lead, state in states.items():
        mine = [c for c in calls if c.lead == lead and (c.answered is None or c.ok)]
        candidates = last_candidates(mine)
        if not any(c.answered is not None for c in mine) and before is not None and state == before[lead]:
            continue  # nothing answered: the lead may be untouched
        assert any(postcondition(c, state) for c in candidates), (lead, state, candidates)
        assert after_last_set(mine, state), (lead, state)


class Database:
    """A plain connection to a server's database, beside the server: sqlite3 for ``sqlite:///path``,
    psycopg for ``postgresql://...``. Queries are written with ``?`` placeholders, as for SQLite, and
    sent with ``%s`` to PostgreSQL: the same SQL on both backends apart from the placeholders."""

    def __init__(self, db_url: str, **pg_options: Any) -> None:
        self.backend = "sqlite" if db_url.startswith("sqlite:") else "postgres"
        self.conn: Any
        if self.backend == "sqlite":
            self.conn = sqlite3.connect(db_url.removeprefix("sqlite:///"))
        else:
            self.conn = psycopg.connect(db_url, autocommit=True, connect_timeout=10, **pg_options)

    def execute(self, sql: str, params: tuple[Any, ...] = ()) -> Any:
        if self.backend == "postgres":
            sql = sql.replace("?", "%s")
        return self.conn.execute(sql, params)

    def rows(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        return list(self.execute(sql, params).fetchall())

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> Database:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def db_state(db_url: str, leads: list[int]) -> dict[int, State]:
    """The bindings of ``leads`` straight from the database (``LiveServer.db_url``: an SQLite file or
    a PostgreSQL database), after checking I1 and I4 there, and on every binding table and side
    (tests/invariants.py)."""
    with Database(db_url) as db:
        broken = {rule: rows for rule, sql in INVARIANTS.items() if (rows := db.rows(sql)[:5])}
        assert not broken, broken
        contacts = {r[0] for r in db.rows("SELECT id FROM crm_contact")}
        states: dict[int, State] = {}
        for lead in leads:
            rows = db.rows(
                "SELECT contact_id, sort, is_primary FROM crm_lead_contact "
                "WHERE lead_id = ? ORDER BY contact_id",
                (lead,),
            )
            primaries = [r for r in rows if r[2] == "Y"]
            assert not rows or len(primaries) == 1, ("I1", lead, rows)
            assert all(r[0] in contacts for r in rows), ("I4", lead, rows)
            states[lead] = tuple((r[0], r[1], r[2] == "Y") for r in rows)
        orphans = db.rows(
            "SELECT count(*) FROM crm_lead_contact b "
            "LEFT JOIN crm_lead l ON l.id = b.lead_id WHERE l.id IS NULL"
        )[0][0]
        assert orphans == 0, "I4: bindings of a deleted lead"
        return states


def lead_ids(db_url: str) -> set[int]:
    """The ids of every lead in the database."""
    with Database(db_url) as db:
        return {r[0] for r in db.rows("SELECT id FROM crm_lead")}


def wait_sessions_gone(db_url: str, timeout: float = 10) -> int:
    """After a kill, wait until no other session is connected to the database (PostgreSQL: the killed
    processes' sessions end once their backends see the closed sockets, and a COMMIT already sent may
    still land until then), so that the state read next is final; the number still there at the end.
    SQLite has no sessions: 0 at once."""
    if db_url.startswith("sqlite:"):
        return 0
    deadline = time.monotonic() + timeout
    with Database(db_url) as db:
        while True:
            left = db.rows(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND pid <> pg_backend_pid() AND backend_type = 'client backend'"
            )[0][0]
            if not left or time.monotonic() > deadline:
                return int(left)
            time.sleep(0.01)


#: The PostgreSQL superuser of the test cluster (tests/pgcluster.py): amcheck needs it.
PG_SUPERUSER = "postgres"


def integrity(db_url: str) -> str:
    """What is wrong with the database's structure, or "ok": SQLite's ``PRAGMA integrity_check``; on
    PostgreSQL amcheck, as the superuser: ``bt_index_check(index, heapallindexed => true)`` on every
    btree index of the public schema, and ``verify_heapam`` on every table (PostgreSQL 14+)."""
    if db_url.startswith("sqlite:"):
        with Database(db_url) as db:
            return str(db.rows("PRAGMA integrity_check")[0][0])
    problems: list[str] = []
    with Database(db_url, user=PG_SUPERUSER) as db:
        db.execute("CREATE EXTENSION IF NOT EXISTS amcheck")
        indexes = db.rows(
            "SELECT c.oid, c.relname FROM pg_index i "
            "JOIN pg_class c ON c.oid = i.indexrelid "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "JOIN pg_am a ON a.oid = c.relam "
            "WHERE n.nspname = 'public' AND a.amname = 'btree' ORDER BY c.relname"
        )
        assert indexes, "no btree index in the public schema: nothing checked"
        for oid, name in indexes:
            try:
                db.rows("SELECT bt_index_check(?::oid::regclass, true)", (oid,))
            except psycopg.Error as exc:
                problems.append(f"index {name}: {exc}")
        has_heapam = db.rows("SELECT count(*) FROM pg_proc WHERE proname = 'verify_heapam'")[0][0]
        if has_heapam:
            tables = db.rows(
                "SELECT c.oid, c.relname FROM pg_class c "
                "JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname = 'public' AND c.relkind IN ('r', 'm') ORDER BY c.relname"
            )
            assert tables, "no table in the public schema: nothing checked"
            for oid, name in tables:
                try:
                    found = db.rows(
                        "SELECT blkno, offnum, attnum, msg FROM verify_heapam(?::oid::regclass)", (oid,)
                    )
                except psycopg.Error as exc:
                    problems.append(f"table {name}: {exc}")
                    continue
                problems += [
                    f"table {name} block {r[0]} offset {r[1]} attribute {r[2]}: {r[3]}" for r in found
                ]
    return "; ".join(problems) or "ok"


def children(pid: int) -> list[int]:
    """The child processes of ``pid`` (Linux /proc)."""
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(p) for p in text.split()]


def wait_workers(parent: int, count: int, timeout: float = 15) -> list[int]:
    """The workers of a server once ``count`` of them run (they are forked after the startup lines)."""
    deadline = time.monotonic() + timeout
    while len(found := children(parent)) < count and time.monotonic() < deadline:
        time.sleep(0.02)
    return found


def gone(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat.rsplit(")", 1)[1].split()[0] in ("Z", "X")


def kill_all(parent: int) -> list[int]:
    """SIGKILL a server and its workers (the parent is stopped first so that it restarts none)."""
    os.kill(parent, signal.SIGSTOP)
    workers = children(parent)
    for pid in workers:
        os.kill(pid, signal.SIGKILL)
    os.kill(parent, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while not all(gone(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.01)
    return workers


def thread_index() -> int:
    """The index of the calling ``hammer`` thread."""
    return int(threading.current_thread().name.removeprefix("hammer-"))


def hammer(
    threads: int, work: Any, stop: threading.Event | None = None, clients: list[httpx.Client] | None = None
) -> list[Sent]:
    """Run ``work(client, rng) -> Sent | None`` on ``threads`` threads, each with its own connection
    (one of ``clients``, made up front: making one costs tens of milliseconds), until it returns None
    or ``stop`` is set; all the records."""
    out: list[Sent] = []
    lock = threading.Lock()
    pool = clients if clients is not None else [httpx.Client(timeout=30) for _ in range(threads)]

    def run(seed: int) -> None:
        rng = random.Random(seed)
        while stop is None or not stop.is_set():
            record = work(pool[seed], rng)
            if record is None:
                return
            with lock:
                out.append(record)

    running = [threading.Thread(target=run, args=(i,), name=f"hammer-{i}") for i in range(threads)]
    for t in running:
        t.start()
    for t in running:
        t.join()
    if clients is None:
        for client in pool:
            client.close()
    return out
