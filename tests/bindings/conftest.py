"""Fixtures of the binding tests: every test runs once per relation (``rel``, binding-family.md B1).

After every test the shared server's whole database must satisfy I1 on every side of every binding
table and I4 (tests/invariants.py): a write through one side that broke the other side of contact ↔
company (B3) fails the test that made it.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.bindings.relations import RELATIONS, Relation, Users, insert, put, user_id_of
from tests.conftest import LiveServer, new_database, start_in_process
from tests.invariants import Invariants


@pytest.fixture(params=list(RELATIONS.values()), ids=list(RELATIONS))
def rel(request: pytest.FixtureRequest) -> Relation:
    relation: Relation = request.param
    return relation


@pytest.fixture
def owner(server: LiveServer, rel: Relation) -> int:
    """A new owner (lead, deal, contact or company) of the administrator."""
    return rel.insert_owner(server)


@pytest.fixture
def bound(server: LiveServer, rel: Relation) -> list[int]:
    """Five bound entities of the administrator, in ascending id order."""
    return [rel.insert_bound(server) for _ in range(5)]


@pytest.fixture(scope="module")
def users(server: LiveServer) -> Users:
    user = server.add_user("Caller")
    other = server.add_user("Other")
    no_crm = server.add_user("No CRM", crm_access=False)
    return Users(user, user_id_of(user), user_id_of(other), no_crm)


@pytest.fixture(scope="module")
def exact(
    request: pytest.FixtureRequest, backend: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    """A server of this module's own with fixed ids: in every relation, owners 1, 5 and 12 bound to
    100 + their id (lead 1 → contact 101, contact 1 → company 101, company 1 → contact 101, ...)."""
    live = start_in_process(new_database(request, backend, tmp_path_factory.mktemp("bindings_exact")))
    for entity in ("lead", "deal", "contact", "company"):
        for entity_id in (1, 5, 12, 101, 105, 112):
            if entity_id < 100 or entity in ("contact", "company"):
                insert(live, entity, entity_id)
    for relation in RELATIONS.values():
        for owner_id in (1, 5, 12):
            put(live, relation, owner_id, [(100 + owner_id, 10, "Y")])
    yield live
    live.stop()


@pytest.fixture(scope="module")
def invariants(server: LiveServer) -> Iterator[Invariants]:
    check = Invariants(server.db_url)
    yield check
    check.close()


@pytest.fixture(autouse=True)
def invariants_hold(invariants: Invariants) -> Iterator[None]:
    yield
    assert invariants.violations() == []
