"""The PostgreSQL backend: migrations, the invariants the schema itself enforces, transactions, and
concurrent calls on one lead (row locks; a lost race is rerun by the server)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from importlib import resources
from typing import Any

import psycopg
import psycopg.errors
import pytest

from b24local.auth.context import AuthContext
from b24local.crm.entities import CONTACT, LEAD, LEAD_CONTACT
from b24local.methods.dispatch import Dispatcher
from b24local.model.query import AllOf, Column, Cond, Query
from b24local.storage.base import Binding
from b24local.storage.errors import ReferenceGone, Rerun, StorageBusy, StorageError
from b24local.storage.open import open_storage
from b24local.storage.postgres import PostgresStorage
from tests.conftest import start_in_process
from tests.pgcluster import Cluster
from tests.test_cli import b24local

MIGRATIONS = sorted(
    int(item.name[:4])
    for item in (resources.files("b24local.storage.migrations") / "postgres").iterdir()
    if item.name.endswith(".sql")
)
SQLITE_MIGRATIONS = sorted(
    int(item.name[:4])
    for item in (resources.files("b24local.storage.migrations") / "sqlite").iterdir()
    if item.name.endswith(".sql")
)


@pytest.fixture
def url(pg_cluster: Cluster) -> str:
    return pg_cluster.new_database()


@pytest.fixture
def store(url: str) -> Iterator[PostgresStorage]:
    opened = PostgresStorage(url)
    yield opened
    opened.close()


def test_open_storage_by_scheme(url: str) -> None:
    for form in (url, url.replace("postgresql://", "postgres://", 1)):
        opened = open_storage(form)
        assert isinstance(opened, PostgresStorage)
        opened.close()


def test_unreachable_database_is_a_one_line_storage_error(pg_cluster: Cluster) -> None:
    with pytest.raises(StorageError) as caught:
        open_storage(f"postgresql://postgres:pw@127.0.0.1:{pg_cluster.port}/no_such_database")
    message = str(caught.value)
    assert message.startswith("cannot connect to database postgresql://postgres:***@127.0.0.1:")
    assert "\n" not in message and "pw@" not in message and "no_such_database" in message


def test_migrations_mirror_sqlite_and_are_idempotent(url: str) -> None:
    assert MIGRATIONS == SQLITE_MIGRATIONS
    first = PostgresStorage(url)
    with first.read() as tx:
        member_id = tx.oauth_member_id()
    first.close()
    again = PostgresStorage(url)  # nothing left to apply: no error, no second portal row
    try:
        versions = [r[0] for r in again.conn.execute("SELECT version FROM schema_migrations ORDER BY 1")]
        assert versions == MIGRATIONS
        assert again.conn.execute("SELECT count(*) FROM oauth_portal").fetchone() == (1,)
        with again.read() as tx:
            assert tx.oauth_member_id() == member_id
            assert len(member_id) == 32
    finally:
        again.close()


def test_concurrent_first_opens_migrate_once(url: str) -> None:
    errors: list[BaseException] = []

    def open_one() -> None:
        try:
            PostgresStorage(url).close()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=open_one) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with psycopg.connect(url) as conn:
        assert conn.execute("SELECT count(*) FROM schema_migrations").fetchone() == (len(MIGRATIONS),)


def _lead_and_contacts(store: PostgresStorage, contacts: int = 2) -> tuple[int, list[int]]:
    with store.write() as tx:
        lead = tx.entity_insert(LEAD, {"title": "L"})
        return lead, [tx.entity_insert(CONTACT, {"name": f"C{i}"}) for i in range(contacts)]


def test_two_primaries_refused(store: PostgresStorage) -> None:
    lead, (c1, c2) = _lead_and_contacts(store)
    with pytest.raises(psycopg.errors.UniqueViolation), store.write() as tx:
        tx.binding_insert(LEAD_CONTACT, lead, Binding(c1, 10, True))
        tx.binding_insert(LEAD_CONTACT, lead, Binding(c2, 20, True))
    with store.read() as tx:
        assert tx.bindings_get(LEAD_CONTACT, lead) == []  # rolled back whole


def test_dangling_contact_refused_and_deletes_cascade(store: PostgresStorage) -> None:
    lead, (c1, c2) = _lead_and_contacts(store)
    with pytest.raises(ReferenceGone) as caught, store.write() as tx:
        tx.binding_insert(LEAD_CONTACT, lead, Binding(c2 + 1000, 10, True))
    assert isinstance(caught.value.__cause__, psycopg.errors.ForeignKeyViolation)
    with store.write() as tx:
        tx.bindings_replace(LEAD_CONTACT, lead, [Binding(c2, 10, True), Binding(c1, 10, False)])
    with store.read() as tx:  # ordered by SORT, then the bound id
        assert [b.bound_id for b in tx.bindings_get(LEAD_CONTACT, lead)] == [c1, c2]
    with store.write() as tx:
        tx.entity_delete(CONTACT, c1)
    with store.read() as tx:
        assert tx.bindings_get(LEAD_CONTACT, lead) == [Binding(c2, 10, True)]
    with store.write() as tx:
        tx.entity_delete(LEAD, lead)
    with store.read() as tx:
        assert tx.owners_of(LEAD_CONTACT, c2) == []


def test_rollback_on_exception(store: PostgresStorage) -> None:
    with pytest.raises(RuntimeError), store.write() as tx:
        tx.entity_insert(LEAD, {"title": "gone"})
        raise RuntimeError("boom")
    with store.read() as tx:
        assert tx.entity_select(LEAD, Query()) == []
    with store.write() as tx:  # the connection is usable again
        assert tx.entity_insert(LEAD, {"title": "kept"}) > 0


def test_explicit_ids_move_the_identity_on(store: PostgresStorage) -> None:
    with store.write() as tx:
        assert tx.entity_insert(LEAD, {"id": 40, "title": "fixed"}) == 40
        assert tx.entity_insert(LEAD, {"title": "next"}) == 41


def test_untyped_numbers_compare_with_text_columns(store: PostgresStorage) -> None:
    with store.write() as tx:
        lead = tx.entity_insert(LEAD, {"title": 123, "assigned_by_id": "7", "opportunity": 2})
        row = tx.entity_get(LEAD, lead)
    assert row is not None
    assert (row["title"], row["assigned_by_id"], row["opportunity"]) == ("123", 7, 2.0)


def test_concurrent_binding_writes_on_one_lead_serialise(url: str) -> None:
    """Two connections read-modify-write one lead's bindings at once: the second waits for the first's
    row lock and sees its binding (without the lock both would add a primary, and one would fail)."""
    first, second = PostgresStorage(url), PostgresStorage(url)
    try:
        lead, (c1, c2) = _lead_and_contacts(first)
        inside = threading.Event()
        results: dict[int, list[Binding]] = {}

        def add(store: PostgresStorage, contact: int, hold: float) -> None:
            with store.write() as tx:
                current = tx.bindings_get(LEAD_CONTACT, lead)
                inside.set()
                time.sleep(hold)
                has_primary = any(b.is_primary for b in current)
                sort = max((b.sort for b in current), default=0) + 10
                tx.binding_insert(LEAD_CONTACT, lead, Binding(contact, sort, not has_primary))
                results[contact] = current

        holder = threading.Thread(target=add, args=(first, c1, 0.5))
        holder.start()
        assert inside.wait(10)
        started = time.monotonic()
        add(second, c2, 0)
        waited = time.monotonic() - started
        holder.join()
        assert waited > 0.3  # it waited for the first transaction
        assert results[c2] == [Binding(c1, 10, True)]
        with first.read() as tx:
            assert tx.bindings_get(LEAD_CONTACT, lead) == [Binding(c1, 10, True), Binding(c2, 20, False)]
    finally:
        first.close()
        second.close()


def test_deadlock_leaves_as_storage_busy_and_the_connection_recovers(url: str) -> None:
    store = PostgresStorage(url)
    try:
        lead, (contact,) = _lead_and_contacts(store, 1)
        with psycopg.connect(url) as other:
            other.execute("SET deadlock_timeout = '30s'")  # the storage's transaction is the victim
            other.execute("SELECT 1 FROM crm_contact WHERE id = %s FOR UPDATE", (contact,))
            failure: list[BaseException] = []

            def bind() -> None:
                try:
                    with store.write() as tx:
                        tx.bindings_replace(LEAD_CONTACT, lead, [Binding(contact, 10, True)])
                except BaseException as exc:
                    failure.append(exc)

            thread = threading.Thread(target=bind)
            thread.start()
            _wait_for_lock_waiter(other)
            other.execute("SELECT 1 FROM crm_lead WHERE id = %s FOR UPDATE", (lead,))
            other.commit()
            thread.join()
        assert len(failure) == 1 and isinstance(failure[0], StorageBusy), failure
        assert isinstance(failure[0].__cause__, psycopg.errors.DeadlockDetected)
        with store.write() as tx:
            tx.bindings_replace(LEAD_CONTACT, lead, [Binding(contact, 10, True)])
        with store.read() as tx:
            assert tx.bindings_get(LEAD_CONTACT, lead) == [Binding(contact, 10, True)]
    finally:
        store.close()


def test_server_reruns_a_call_that_lost_a_deadlock(pg_cluster: Cluster) -> None:
    """A live server's items.set deadlocks with another connection and is the one rolled back; the
    server reruns it, and the client sees plain success (never a 500)."""
    live = start_in_process(pg_cluster.new_database())
    try:
        lead, contact = live.insert_lead(), live.insert_contact()
        with psycopg.connect(live.db_url) as other:
            other.execute("SET deadlock_timeout = '30s'")
            other.execute("SELECT 1 FROM crm_contact WHERE id = %s FOR UPDATE", (contact,))
            replies: list[object] = []
            call = threading.Thread(
                target=lambda: replies.append(
                    live.call(
                        "crm.lead.contact.items.set",
                        {"id": lead, "items": [{"CONTACT_ID": contact, "IS_PRIMARY": "Y"}]},
                    )
                )
            )
            call.start()
            _wait_for_lock_waiter(other)
            # Takes the lead's row lock: possible only once the server's first attempt has rolled back.
            other.execute("UPDATE crm_lead SET title = 'other writer' WHERE id = %s", (lead,))
            other.commit()
            call.join(30)
        (reply,) = replies
        assert (reply.status, reply.result) == (200, True)  # type: ignore[attr-defined]
        got = live.call("crm.lead.contact.items.get", {"id": lead}).result
        assert [(c["CONTACT_ID"], c["IS_PRIMARY"]) for c in got] == [(contact, "Y")]
        assert live.call("crm.lead.get", {"id": lead}).result["TITLE"] == "other writer"
    finally:
        live.stop()


def _wait_for_lock_waiter(conn: psycopg.Connection[object]) -> None:
    """Until another backend of this database waits for a lock (the call under test)."""
    deadline = time.monotonic() + 20
    with psycopg.connect(conn.info.dsn, autocommit=True) as watcher:
        while time.monotonic() < deadline:
            row = watcher.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND wait_event_type = 'Lock'"
            ).fetchone()
            if row and row[0]:
                return
            time.sleep(0.02)
    raise AssertionError("no transaction waited for the lock")


def test_a_lost_connection_is_reopened_by_the_next_call(url: str, store: PostgresStorage) -> None:
    lead, _ = _lead_and_contacts(store, 0)
    with psycopg.connect(url, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (store.conn.info.backend_pid,))
    with store.read() as tx:
        assert tx.entity_get(LEAD, lead) is not None


def test_a_read_without_a_snapshot_on_a_lost_connection_runs_again_on_a_new_one(
    url: str, store: PostgresStorage
) -> None:
    """items.get runs without BEGIN/COMMIT: its first statement meets the broken connection, and the
    dispatcher reruns the call on a new one instead of answering 500."""
    lead, (c1, c2) = _lead_and_contacts(store)
    with store.write() as tx:
        tx.bindings_replace(LEAD_CONTACT, lead, [Binding(c2, 10, True), Binding(c1, 20, False)])
    assert Dispatcher(store).methods["crm.lead.contact.items.get"].snapshot is False
    with psycopg.connect(url, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (store.conn.info.backend_pid,))
    admin_ctx = AuthContext(
        user_id=1, is_admin=True, scopes=frozenset({"crm"}), credential_kind="webhook", credential_id=1
    )
    result, _ = Dispatcher(store).call(admin_ctx, "crm.lead.contact.items.get", {"id": lead})
    assert result == [
        {"CONTACT_ID": c2, "SORT": 10, "ROLE_ID": 0, "IS_PRIMARY": "Y"},
        {"CONTACT_ID": c1, "SORT": 20, "ROLE_ID": 0, "IS_PRIMARY": "N"},
    ]


def test_db_upgrade_prints_the_applied_migrations_and_the_schema_version(url: str) -> None:
    first = b24local("db", "upgrade", "--database", url)
    assert first.returncode == 0, first.stderr
    assert first.stdout == (
        f"Applied migrations: {', '.join(map(str, MIGRATIONS))}\nSchema version: {MIGRATIONS[-1]}\n"
    )
    again = b24local("db", "upgrade", "--database", url)
    assert again.returncode == 0, again.stderr
    assert again.stdout == f"No pending migrations.\nSchema version: {MIGRATIONS[-1]}\n"


def test_deep_pages_select_ids_first_and_find_the_same_rows(store: PostgresStorage) -> None:
    """From ``DEFERRED_OFFSET`` on, a page's ids come from a subquery; the page is the same, in order."""
    with store.write() as tx:
        for n in range(1, 31):
            tx.entity_insert(LEAD, {"id": n, "title": f"t{n % 4}", "opportunity": n})
    query = Query(
        where=AllOf((Cond(Column("opportunity"), "gt", 3), Cond(Column("title"), "ne", "t0"))),
        order=[(Column("title"), True)],
        offset=4,
        limit=5,
    )
    # title DESC then id: t3 (3, 7, 11, ...) first; opportunity > 3 and title != t0 leave
    # t3: 7 11 15 19 23 27, t2: 6 10 ...; skipping four leaves 23 27 6 10 14
    expected = [23, 27, 6, 10, 14]
    with store.read() as tx:
        assert tx.DEFERRED_OFFSET == 1000
        assert [r["id"] for r in tx.entity_select(LEAD, query)] == expected
        tx.DEFERRED_OFFSET = 0  # this transaction object only: the deferred form for any offset
        try:
            rows = tx.entity_select(LEAD, query)
        finally:
            del tx.DEFERRED_OFFSET
    assert [r["id"] for r in rows] == expected
    assert rows[0]["title"] == "t3" and rows[2]["title"] == "t2"


@pytest.fixture
def two_connections(url: str) -> Iterator[tuple[PostgresStorage, PostgresStorage, int, int]]:
    """(another connection, like the CLI's; a server's connection; a user; that user's webhook)."""
    other = PostgresStorage(url)
    serving = PostgresStorage(url, serving=True)
    with other.write() as tx:
        user = tx.user_add("Ann", "", True)
        hook = tx.webhook_add(user, "f" * 64, ["crm"])
    yield other, serving, user, hook
    serving.close()
    other.close()


def test_a_serving_connection_keeps_the_auth_epoch_until_it_hears_of_a_change(
    two_connections: tuple[PostgresStorage, PostgresStorage, int, int],
) -> None:
    """A server's read calls reuse the auth epoch (which keeps its webhook logins valid) without
    reading it; a change committed through another connection (the CLI's) is announced, and the next
    call reads it again."""
    other, serving, user, hook = two_connections
    with other.read() as tx:
        before = tx.auth_epoch()
    epochs, trusted = [], []
    for _ in range(3):
        with serving.read(snapshot=False) as tx:
            epochs.append(tx.auth_epoch())
            trusted.append(tx.trusted_at is not None)
    assert (epochs, trusted) == ([before] * 3, [False, True, True])  # read once, then reused

    with other.write() as tx:
        tx.webhook_set_active(hook, False)
    time.sleep(0.2)  # the announcement reaches the idle connection's socket
    # No statement of the call ran before the epoch was asked for: the socket was read.
    with serving.read(snapshot=False) as tx:
        assert tx.auth_epoch() == before + 1
        assert tx.trusted_at is None
        assert [(w.id, w.active) for w, _ in tx.webhook_logins(user)] == [(hook, False)]
    with serving.read() as tx:
        assert tx.auth_epoch() == before + 1
        assert tx.trusted_at is not None


def test_a_read_that_hears_of_a_change_of_the_epoch_it_trusted_runs_again(
    two_connections: tuple[PostgresStorage, PostgresStorage, int, int],
) -> None:
    """Committed after the call took the kept epoch, before its last statement: the announcement
    arrives with that statement's answer, and the call leaves as Rerun (the runner runs it again, with
    the epoch read anew)."""
    other, serving, user, hook = two_connections
    for snapshot in (False, True):
        with serving.read(snapshot) as tx:
            tx.auth_epoch()  # read, and kept
        with pytest.raises(Rerun, match="users or webhooks changed"), serving.read(snapshot) as tx:
            tx.auth_epoch()
            assert [w.active for w, _ in tx.webhook_logins(user)] == [snapshot is False]
            assert tx.trusted_at is not None
            with other.write() as changing:
                changing.webhook_set_active(hook, snapshot)  # off in the first round, on in the second
            assert tx.user_get(user) is not None  # the call's own statement
    # A write reads the epoch in its own transaction, as before.
    with serving.write() as tx:
        tx.auth_epoch()
        assert [w.active for w, _ in tx.webhook_logins(user)] == [True]
        assert tx.trusted_at is None


def test_a_login_that_hears_of_an_auth_change_logs_in_again_batch_or_not(
    two_connections: tuple[PostgresStorage, PostgresStorage, int, int],
) -> None:
    """Issue 15: the batch authenticates in its own read; the "users or webhooks changed" rerun there
    runs through the runner like any call's (it used to leave _run_calls as an error: 500). And a
    rerun authenticates again (a call used to keep the context of the attempt that saw the change)."""
    other, serving, user, hook = two_connections
    with serving.read() as tx:
        tx.auth_epoch()  # read, and kept: the batch login below trusts it
    logins: list[int] = []

    def login(tx: Any) -> AuthContext:
        tx.auth_epoch()
        if not logins:
            with other.write() as changing:
                changing.webhook_set_active(hook, True)  # a change all the same (moves the epoch)
        logins.append(tx.user_get(user).id)  # the statement that hears of it on the first login
        return AuthContext(
            user_id=user,
            is_admin=True,
            scopes=frozenset({"crm"}),
            credential_kind="webhook",
            credential_id=hook,
        )

    dispatcher = Dispatcher(serving)
    result, _ = dispatcher.call(login, "batch", {"cmd": {"n": "crm.lead.list"}})
    assert logins == [user, user]
    assert result["result"] == {"n": []}
    # A plain call's rerun logs in again too, not with the context of the attempt that saw the change.
    with serving.read() as tx:
        tx.auth_epoch()
    logins.clear()
    assert dispatcher.call(login, "crm.lead.list", {})[0].items == []
    assert logins == [user, user]
