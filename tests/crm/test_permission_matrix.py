"""The permission matrix: every method × every level × every kind of item, with the exact answer.

One live server for the module. The caller at each level is a user in the department "Sales":

- NONE: a user without CRM access (``--no-crm-access``) and no role;
- OWN: a plain user (the built-in role "Employee" only);
- DEPARTMENT, SUBDEPARTMENTS, OPEN, ALL: a plain user holding a role with that level for every
  entity type and action.

The items (targets), made afresh for every cell:

- ``own``: assigned to the caller, ``OPENED`` = N;
- ``colleague``: assigned to another user of Sales, ``OPENED`` = N;
- ``sub``: assigned to a user of "Sales / East" (a sub-department of Sales), ``OPENED`` = N;
- ``open``: assigned to a stranger in "Support" (another tree), ``OPENED`` = Y;
- ``closed``: assigned to that stranger, ``OPENED`` = N;
- ``missing``: an id that does not exist.

For ``*.add`` the target is the user the new item is assigned to (``ASSIGNED_BY_ID``; ``missing``: a
user id that does not exist, ``open``: the new item has ``OPENED`` = Y). For the binding methods the
target is the lead (the contact is the caller's own) or, in the ``[contact]`` rows, the contact (the
lead is the caller's own).

The expected outcomes below are written out by hand from the contracts (crud.md M2/M5, protocol.md Q3,
lead-contact-bindings.md E7–E11 and the check order) and docs/deviations.md ("Permissions"); they are
not computed from the code under test.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from b24local.auth.webhooks import hash_secret, new_code
from b24local.crm.entities import COMPANY, CONTACT, DEAL, ENTITIES, LEAD, LEAD_CONTACT, EntityType
from b24local.storage.base import Binding, Storage
from tests.conftest import LiveServer, Response, new_database, start_in_process
from tests.expected import LEAD_CONTACT_FIELDS

LEVELS = ("NONE", "OWN", "DEPARTMENT", "SUBDEPARTMENTS", "OPEN", "ALL")
TARGETS = ("own", "colleague", "sub", "open", "closed", "missing")
MISSING_ID = 900_000_000  # no item and no user has this id

# Named outcomes, each defined once ---------------------------------------------------------------

OK = "OK"  # 200 with the method's own success result (see Method.ok)
FALSE = "FALSE"  # 200 with result false (the binding to remove does not exist)
LISTED = "LISTED"  # list: 200, the item is the only row and total is 1
HIDDEN = "HIDDEN"  # list: 200, no rows and total 0 (Q3: not returned, not counted)
DENIED = "DENIED"  # M2 / E9
DENIED_403 = "DENIED_403"  # E8
NOT_FOUND = "NOT_FOUND"  # M2
NOT_FOUND_E7 = "NOT_FOUND_E7"  # E7
CONTACT_DENIED = "CONTACT_DENIED"  # E11
CONTACT_NOT_FOUND = "CONTACT_NOT_FOUND"  # E10

ERRORS: dict[str, tuple[int, dict[str, str]]] = {
    DENIED: (400, {"error": "", "error_description": "Access denied."}),
    DENIED_403: (403, {"error": "ACCESS_DENIED", "error_description": "Access denied!"}),
    NOT_FOUND: (400, {"error": "", "error_description": "Not found."}),
    NOT_FOUND_E7: (400, {"error": "NOT_FOUND", "error_description": "Not found."}),
    CONTACT_DENIED: (400, {"error": "", "error_description": "[Contact #{id}] Access denied."}),
    CONTACT_NOT_FOUND: (400, {"error": "NOT_FOUND", "error_description": "Contact #{id} not found."}),
}

# The table ---------------------------------------------------------------------------------------
# (method, level) → outcomes for the targets in the order of TARGETS:
#                     own  colleague  sub  open  closed  missing

_NONE6 = (DENIED,) * 6

_ITEM = {  # crm.{lead,contact,deal,company}.{get,update,delete}: M2, permission before "Not found."
    "NONE": _NONE6,
    "OWN": (OK, DENIED, DENIED, DENIED, DENIED, DENIED),
    "DEPARTMENT": (OK, OK, DENIED, DENIED, DENIED, DENIED),
    "SUBDEPARTMENTS": (OK, OK, OK, DENIED, DENIED, DENIED),
    "OPEN": (OK, OK, OK, OK, DENIED, DENIED),
    "ALL": (OK, OK, OK, OK, OK, NOT_FOUND),
}
_LIST = {  # crm.{lead,contact}.list with filter ID = target
    "NONE": _NONE6,
    "OWN": (LISTED, HIDDEN, HIDDEN, HIDDEN, HIDDEN, HIDDEN),
    "DEPARTMENT": (LISTED, LISTED, HIDDEN, HIDDEN, HIDDEN, HIDDEN),
    "SUBDEPARTMENTS": (LISTED, LISTED, LISTED, HIDDEN, HIDDEN, HIDDEN),
    "OPEN": (LISTED, LISTED, LISTED, LISTED, HIDDEN, HIDDEN),
    "ALL": (LISTED, LISTED, LISTED, LISTED, LISTED, HIDDEN),
}
_ADD = {  # crm.{lead,contact}.add assigned to the target user
    "NONE": _NONE6,
    "OWN": (OK, DENIED, DENIED, DENIED, DENIED, DENIED),
    "DEPARTMENT": (OK, OK, DENIED, DENIED, DENIED, DENIED),
    "SUBDEPARTMENTS": (OK, OK, OK, DENIED, DENIED, DENIED),
    "OPEN": (OK, OK, OK, OK, DENIED, DENIED),
    "ALL": (OK, OK, OK, OK, OK, OK),
}
_ON_LEAD = {  # crm.lead.contact.* on the target lead: E9, then E8 before E7
    "NONE": _NONE6,
    "OWN": (OK, DENIED_403, DENIED_403, DENIED_403, DENIED_403, DENIED_403),
    "DEPARTMENT": (OK, OK, DENIED_403, DENIED_403, DENIED_403, DENIED_403),
    "SUBDEPARTMENTS": (OK, OK, OK, DENIED_403, DENIED_403, DENIED_403),
    "OPEN": (OK, OK, OK, OK, DENIED_403, DENIED_403),
    "ALL": (OK, OK, OK, OK, OK, NOT_FOUND_E7),
}
_BIND_CONTACT = {  # crm.lead.contact.add / items.set binding the target contact: E10, then E11
    "NONE": _NONE6,
    "OWN": (OK, CONTACT_DENIED, CONTACT_DENIED, CONTACT_DENIED, CONTACT_DENIED, CONTACT_NOT_FOUND),
    "DEPARTMENT": (OK, OK, CONTACT_DENIED, CONTACT_DENIED, CONTACT_DENIED, CONTACT_NOT_FOUND),
    "SUBDEPARTMENTS": (OK, OK, OK, CONTACT_DENIED, CONTACT_DENIED, CONTACT_NOT_FOUND),
    "OPEN": (OK, OK, OK, OK, CONTACT_DENIED, CONTACT_NOT_FOUND),
    "ALL": (OK, OK, OK, OK, OK, CONTACT_NOT_FOUND),
}
_UNBIND_CONTACT = {  # crm.lead.contact.delete of the target contact: E11 (a missing one is not E10)
    "NONE": _NONE6,
    "OWN": (OK, CONTACT_DENIED, CONTACT_DENIED, CONTACT_DENIED, CONTACT_DENIED, CONTACT_DENIED),
    "DEPARTMENT": (OK, OK, CONTACT_DENIED, CONTACT_DENIED, CONTACT_DENIED, CONTACT_DENIED),
    "SUBDEPARTMENTS": (OK, OK, OK, CONTACT_DENIED, CONTACT_DENIED, CONTACT_DENIED),
    "OPEN": (OK, OK, OK, OK, CONTACT_DENIED, CONTACT_DENIED),
    "ALL": (OK, OK, OK, OK, OK, FALSE),
}
_FIELDS = {  # crm.lead.contact.fields: no item; only E9
    "NONE": _NONE6,
    "OWN": (OK,) * 6,
    "DEPARTMENT": (OK,) * 6,
    "SUBDEPARTMENTS": (OK,) * 6,
    "OPEN": (OK,) * 6,
    "ALL": (OK,) * 6,
}

TABLE: dict[str, dict[str, tuple[str, ...]]] = {
    "crm.lead.get": _ITEM,
    "crm.lead.update": _ITEM,
    "crm.lead.delete": _ITEM,
    "crm.lead.list": _LIST,
    "crm.lead.add": _ADD,
    "crm.contact.get": _ITEM,
    "crm.contact.update": _ITEM,
    "crm.contact.delete": _ITEM,
    "crm.contact.list": _LIST,
    "crm.contact.add": _ADD,
    "crm.deal.get": _ITEM,
    "crm.deal.update": _ITEM,
    "crm.deal.delete": _ITEM,
    "crm.deal.list": _LIST,
    "crm.deal.add": _ADD,
    "crm.company.get": _ITEM,
    "crm.company.update": _ITEM,
    "crm.company.delete": _ITEM,
    "crm.company.list": _LIST,
    "crm.company.add": _ADD,
    "crm.lead.contact.items.get": _ON_LEAD,
    "crm.lead.contact.items.set": _ON_LEAD,
    "crm.lead.contact.add": _ON_LEAD,
    "crm.lead.contact.delete": _ON_LEAD,
    "crm.lead.contact.items.delete": _ON_LEAD,
    "crm.lead.contact.add[contact]": _BIND_CONTACT,
    "crm.lead.contact.items.set[contact]": _BIND_CONTACT,
    "crm.lead.contact.delete[contact]": _UNBIND_CONTACT,
    "crm.lead.contact.fields": _FIELDS,
}

EXPECTED: dict[tuple[str, str, str], str] = {
    (method, level, target): outcome
    for method, by_level in TABLE.items()
    for level, row in by_level.items()
    for target, outcome in zip(TARGETS, row, strict=True)
}
assert len(EXPECTED) == len(TABLE) * len(LEVELS) * len(TARGETS)

# The world: users, departments, roles ------------------------------------------------------------


@dataclass
class World:
    server: LiveServer
    store: Storage
    callers: dict[str, tuple[int, str]] = field(default_factory=dict)  # level → (user id, webhook)
    colleague: int = 0
    sub: int = 0
    stranger: int = 0
    departments: dict[str, int] = field(default_factory=dict)

    def user(self, name: str, departments: tuple[str, ...], *, crm_access: bool = True) -> tuple[int, str]:
        code = new_code()
        with self.store.write() as tx:
            user_id = tx.user_add(name, "", False, crm_access)
            tx.webhook_add(user_id, hash_secret(code), ("crm",))
            tx.user_departments_set(user_id, [self.departments[d] for d in departments])
        return user_id, f"{self.server.base_url}/rest/{user_id}/{code}/"

    def role(self, name: str, levels: dict[tuple[str, str], int], *, user: int | None = None) -> int:
        with self.store.write() as tx:
            role_id = tx.role_add(name, levels)
            if user is not None:
                tx.role_assign(role_id, user_id=user)
        return role_id

    def item(self, entity: EntityType, owner: int, opened: str = "N") -> int:
        values: dict[str, Any] = {"assigned_by_id": owner, "opened": opened}
        values["name" if entity is CONTACT else "title"] = "matrix"
        with self.store.write() as tx:
            return tx.entity_insert(entity, values)

    def bind(self, lead_id: int, contact_id: int) -> None:
        with self.store.write() as tx:
            tx.bindings_replace(LEAD_CONTACT, lead_id, [Binding(contact_id, 10, True)])

    def target_owner(self, level: str, target: str) -> tuple[int, str]:
        """(ASSIGNED_BY_ID, OPENED) of a target."""
        return {
            "own": (self.callers[level][0], "N"),
            "colleague": (self.colleague, "N"),
            "sub": (self.sub, "N"),
            "open": (self.stranger, "Y"),
            "closed": (self.stranger, "N"),
            "missing": (MISSING_ID, "N"),
        }[target]

    def target(self, entity: EntityType, level: str, target: str) -> int:
        if target == "missing":
            return MISSING_ID
        owner, opened = self.target_owner(level, target)
        return self.item(entity, owner, opened)


LEVEL_VALUES = {name: number for number, name in enumerate(LEVELS)}  # as stored: 0 none … 5 all
EVERYTHING = [(e, a) for e in ENTITIES for a in ("read", "add", "update", "delete")]


@pytest.fixture(scope="module")
def world(
    request: pytest.FixtureRequest, backend: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[World]:
    server = start_in_process(new_database(request, backend, tmp_path_factory.mktemp("matrix")))
    store = server.storage()
    live = World(server, store)
    with store.write() as tx:
        sales = tx.department_add("Sales", None)
        live.departments = {
            "Sales": sales,
            "Sales / East": tx.department_add("East", sales),
            "Support": tx.department_add("Support", None),
        }
    live.colleague = live.user("Colleague", ("Sales",))[0]
    live.sub = live.user("Junior", ("Sales / East",))[0]
    live.stranger = live.user("Stranger", ("Support",))[0]
    for level in LEVELS:
        caller = live.user(f"Caller {level}", ("Sales",), crm_access=level != "NONE")
        live.callers[level] = caller
        if level not in ("NONE", "OWN"):
            live.role(level, {pair: LEVEL_VALUES[level] for pair in EVERYTHING}, user=caller[0])
    yield live
    store.close()
    server.stop()


# The methods ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Prepared:
    api: str  # the REST method
    params: dict[str, Any]
    ok: Any  # the expected `result` of OK (a dict: these keys of the result)
    target_id: int  # the target's id (the contact's in E10/E11 bodies)


Prepare = Callable[[World, str, str], Prepared]


def _get(entity: EntityType) -> Prepare:
    def prepare(w: World, level: str, target: str) -> Prepared:
        item = w.target(entity, level, target)
        owner = w.target_owner(level, target)[0]
        ok = {"ID": str(item), "ASSIGNED_BY_ID": str(owner)}
        return Prepared(f"crm.{entity.name}.get", {"id": item}, ok, item)

    return prepare


def _update(entity: EntityType) -> Prepare:
    def prepare(w: World, level: str, target: str) -> Prepared:
        item = w.target(entity, level, target)
        return Prepared(f"crm.{entity.name}.update", {"id": item, "fields": {"COMMENTS": "x"}}, True, item)

    return prepare


def _delete(entity: EntityType) -> Prepare:
    def prepare(w: World, level: str, target: str) -> Prepared:
        item = w.target(entity, level, target)
        return Prepared(f"crm.{entity.name}.delete", {"id": item}, True, item)

    return prepare


def _list(entity: EntityType) -> Prepare:
    def prepare(w: World, level: str, target: str) -> Prepared:
        item = w.target(entity, level, target)
        params = {"filter": {"ID": item}, "select": ["ID"]}
        return Prepared(f"crm.{entity.name}.list", params, None, item)

    return prepare


def _add(entity: EntityType) -> Prepare:
    def prepare(w: World, level: str, target: str) -> Prepared:
        owner, opened = w.target_owner(level, target)
        fields = {"ASSIGNED_BY_ID": owner, "OPENED": opened, "NAME": "new", "TITLE": "new"}
        return Prepared(f"crm.{entity.name}.add", {"fields": fields}, int, owner)

    return prepare


def _on_lead(api: str, bound: bool) -> Prepare:
    """A binding method on the target lead with the caller's own contact (bound first if ``bound``)."""

    def prepare(w: World, level: str, target: str) -> Prepared:
        lead = w.target(LEAD, level, target)
        contact = w.item(CONTACT, w.callers[level][0])
        if bound and target != "missing":
            w.bind(lead, contact)
        binding = {"CONTACT_ID": contact}
        params: dict[str, Any] = {"id": lead}
        ok: Any = True
        if api == "crm.lead.contact.items.get":
            ok = [{"CONTACT_ID": contact, "SORT": 10, "ROLE_ID": 0, "IS_PRIMARY": "Y"}]
        elif api == "crm.lead.contact.items.set":
            params["items"] = [binding]
        elif api in ("crm.lead.contact.add", "crm.lead.contact.delete"):
            params["fields"] = binding
        return Prepared(api, params, ok, lead)

    return prepare


def _on_contact(api: str) -> Prepare:
    """A binding method on the caller's own lead with the target contact."""

    def prepare(w: World, level: str, target: str) -> Prepared:
        lead = w.item(LEAD, w.callers[level][0])
        contact = w.target(CONTACT, level, target)
        binding = {"CONTACT_ID": contact}
        if api == "crm.lead.contact.delete" and target != "missing":
            w.bind(lead, contact)
        params: dict[str, Any] = {"id": lead}
        if api == "crm.lead.contact.items.set":
            params["items"] = [binding]
        else:
            params["fields"] = binding
        return Prepared(api, params, True, contact)

    return prepare


def _fields(w: World, level: str, target: str) -> Prepared:
    return Prepared("crm.lead.contact.fields", {}, LEAD_CONTACT_FIELDS, 0)


METHODS: dict[str, Prepare] = {
    "crm.lead.get": _get(LEAD),
    "crm.lead.update": _update(LEAD),
    "crm.lead.delete": _delete(LEAD),
    "crm.lead.list": _list(LEAD),
    "crm.lead.add": _add(LEAD),
    "crm.contact.get": _get(CONTACT),
    "crm.contact.update": _update(CONTACT),
    "crm.contact.delete": _delete(CONTACT),
    "crm.contact.list": _list(CONTACT),
    "crm.contact.add": _add(CONTACT),
    **{
        f"crm.{entity.name}.{action}": make(entity)
        for entity in (DEAL, COMPANY)
        for action, make in (
            ("get", _get),
            ("update", _update),
            ("delete", _delete),
            ("list", _list),
            ("add", _add),
        )
    },
    "crm.lead.contact.items.get": _on_lead("crm.lead.contact.items.get", bound=True),
    "crm.lead.contact.items.set": _on_lead("crm.lead.contact.items.set", bound=False),
    "crm.lead.contact.add": _on_lead("crm.lead.contact.add", bound=False),
    "crm.lead.contact.delete": _on_lead("crm.lead.contact.delete", bound=True),
    "crm.lead.contact.items.delete": _on_lead("crm.lead.contact.items.delete", bound=True),
    "crm.lead.contact.add[contact]": _on_contact("crm.lead.contact.add"),
    "crm.lead.contact.items.set[contact]": _on_contact("crm.lead.contact.items.set"),
    "crm.lead.contact.delete[contact]": _on_contact("crm.lead.contact.delete"),
    "crm.lead.contact.fields": _fields,
}
assert set(METHODS) == set(TABLE)


def check(outcome: str, prepared: Prepared, response: Response) -> None:
    seen = (response.status, response.body)
    if outcome in ERRORS:
        status, body = ERRORS[outcome]
        wanted = {k: v.replace("{id}", str(prepared.target_id)) for k, v in body.items()}
        assert seen == (status, wanted)
        return
    assert response.status == 200, seen
    body = response.body
    if outcome == FALSE:
        assert body["result"] is False
    elif outcome == LISTED:
        assert (body["result"], body["total"]) == ([{"ID": str(prepared.target_id)}], 1)
    elif outcome == HIDDEN:
        assert (body["result"], body["total"]) == ([], 0)
    elif prepared.ok is int:
        assert isinstance(body["result"], int) and not isinstance(body["result"], bool)
    elif isinstance(prepared.ok, dict) and prepared.api.endswith(".get"):
        assert {k: body["result"].get(k) for k in prepared.ok} == prepared.ok
    else:
        assert body["result"] == prepared.ok


@pytest.mark.parametrize(
    ("method", "level", "target"),
    list(EXPECTED),
    ids=[f"{m}-{lv}-{t}" for m, lv, t in EXPECTED],
)
def test_matrix(world: World, method: str, level: str, target: str) -> None:
    prepared = METHODS[method](world, level, target)
    response = world.server.call(prepared.api, prepared.params, webhook=world.callers[level][1])
    check(EXPECTED[(method, level, target)], prepared, response)


# Whole lists: what each level sees, and total (Q3) -------------------------------------------------

VISIBLE = {  # the targets (of own, colleague, sub, open, closed) a list shows at each level
    "OWN": {"own"},
    "DEPARTMENT": {"own", "colleague"},
    "SUBDEPARTMENTS": {"own", "colleague", "sub"},
    "OPEN": {"own", "colleague", "sub", "open"},
    "ALL": {"own", "colleague", "sub", "open", "closed"},
}


@pytest.mark.parametrize("entity", list(ENTITIES.values()), ids=lambda e: e.name)
@pytest.mark.parametrize("level", list(VISIBLE))
def test_list_leaves_out_unreadable_rows_and_total(world: World, entity: EntityType, level: str) -> None:
    marker = f"q3 {entity.name} {level}"
    made: dict[str, int] = {}
    for target in TARGETS[:-1]:
        owner, opened = world.target_owner(level, target)
        with world.store.write() as tx:
            made[target] = tx.entity_insert(
                entity, {"assigned_by_id": owner, "opened": opened, "comments": marker}
            )
    params = {"filter": {"COMMENTS": marker}, "select": ["ID"], "order": {"ID": "ASC"}}
    body = world.server.call(f"crm.{entity.name}.list", params, webhook=world.callers[level][1]).body
    wanted = [str(made[t]) for t in TARGETS[:-1] if t in VISIBLE[level]]
    assert ([row["ID"] for row in body["result"]], body["total"]) == (wanted, len(wanted))


# Roles through departments, combinations, administrators ---------------------------------------------


def test_department_role_reaches_sub_departments_only_downwards(world: World) -> None:
    """A role given to a department holds for its members and the members of its sub-departments,
    not for the members of its parent department."""
    with world.store.write() as tx:
        parent = tx.department_add("Region", None)
        child = tx.department_add("Region / City", parent)
        role = tx.role_add("region readers", {("lead", "read"): LEVEL_VALUES["ALL"]})
        tx.role_assign(role, department_id=parent)
    world.departments.update({"Region": parent, "Region / City": child})
    in_child = world.user("City clerk", ("Region / City",))[1]
    in_parent = world.user("Region clerk", ("Region",))[1]
    outside = world.user("Support clerk", ("Support",))[1]
    lead = world.item(LEAD, world.stranger)
    for webhook, status in ((in_child, 200), (in_parent, 200), (outside, 400)):
        assert world.server.call("crm.lead.get", {"id": lead}, webhook=webhook).status == status
    with world.store.write() as tx:
        only_child = tx.role_add("city readers", {("contact", "read"): LEVEL_VALUES["ALL"]})
        tx.role_assign(only_child, department_id=child)
    contact = world.item(CONTACT, world.stranger)
    assert world.server.call("crm.contact.get", {"id": contact}, webhook=in_child).status == 200
    assert world.server.call("crm.contact.get", {"id": contact}, webhook=in_parent).body == {
        "error": "",
        "error_description": "Access denied.",
    }


def test_roles_combine_by_most_permissive(world: World) -> None:
    user_id, webhook = world.user("Two roles", ("Sales",))
    world.role("nothing", {pair: LEVEL_VALUES["NONE"] for pair in EVERYTHING}, user=user_id)
    world.role("department readers", {("lead", "read"): LEVEL_VALUES["DEPARTMENT"]}, user=user_id)
    world.role("open updaters", {("lead", "update"): LEVEL_VALUES["OPEN"]}, user=user_id)
    mine = world.item(LEAD, user_id)
    colleagues = world.item(LEAD, world.colleague)
    open_one = world.item(LEAD, world.stranger, "Y")
    subs = world.item(LEAD, world.sub)

    def status(api: str, lead: int) -> int:
        params = {"id": lead, "fields": {"COMMENTS": "x"}}
        return world.server.call(api, params, webhook=webhook).status

    # a NONE role takes nothing away from the built-in Employee role (OWN)
    assert status("crm.lead.get", mine) == 200
    assert status("crm.lead.delete", colleagues) == 400
    # read: DEPARTMENT
    assert [status("crm.lead.get", x) for x in (colleagues, subs, open_one)] == [200, 400, 400]
    # update: OPEN covers the sub-department and open items
    assert [status("crm.lead.update", x) for x in (colleagues, subs, open_one)] == [200, 200, 200]
    # items.delete needs read and update (E8)
    assert world.server.call("crm.lead.contact.items.delete", {"id": subs}, webhook=webhook).body == {
        "error": "ACCESS_DENIED",
        "error_description": "Access denied!",
    }
    assert world.server.call("crm.lead.contact.items.delete", {"id": colleagues}, webhook=webhook).result


def test_role_without_employee_role(world: World) -> None:
    """No CRM access plus a role: only what the role gives (here leads, not contacts)."""
    user_id, webhook = world.user("Lead desk", ("Support",), crm_access=False)
    world.role(
        "leads only", {(e, a): LEVEL_VALUES["ALL"] for e, a in EVERYTHING if e == "lead"}, user=user_id
    )
    lead = world.item(LEAD, world.stranger)
    contact = world.item(CONTACT, user_id)
    assert world.server.call("crm.lead.contact.items.get", {"id": lead}, webhook=webhook).result == []
    assert world.server.call("crm.contact.get", {"id": contact}, webhook=webhook).body == {
        "error": "",
        "error_description": "Access denied.",
    }
    answer = world.server.call(
        "crm.lead.contact.add", {"id": lead, "fields": {"CONTACT_ID": contact}}, webhook=webhook
    )
    assert (answer.status, answer.body) == (
        400,
        {"error": "", "error_description": f"[Contact #{contact}] Access denied."},
    )


def test_department_level_without_a_department_is_own(world: World) -> None:
    user_id, webhook = world.user("Loner", ())
    world.role("department", {pair: LEVEL_VALUES["SUBDEPARTMENTS"] for pair in EVERYTHING}, user=user_id)
    mine = world.item(LEAD, user_id)
    other = world.item(LEAD, world.colleague)
    body = world.server.call("crm.lead.list", {"filter": {"@ID": [mine, other]}}, webhook=webhook).body
    assert ([row["ID"] for row in body["result"]], body["total"]) == ([str(mine)], 1)


def test_two_departments_cover_both(world: World) -> None:
    user_id, webhook = world.user("Bridge", ("Sales / East", "Support"))
    world.role("department", {("lead", "read"): LEVEL_VALUES["DEPARTMENT"]}, user=user_id)
    leads = [world.item(LEAD, owner) for owner in (world.sub, world.stranger, world.colleague)]
    body = world.server.call("crm.lead.list", {"filter": {"@ID": leads}}, webhook=webhook).body
    assert ([row["ID"] for row in body["result"]], body["total"]) == ([str(leads[0]), str(leads[1])], 2)


def test_administrators_bypass_roles(world: World) -> None:
    code = new_code()
    with world.store.write() as tx:
        admin = tx.user_add("Second admin", "", True, False)
        tx.webhook_add(admin, hash_secret(code), ("crm",))
    world.role("nothing", {pair: LEVEL_VALUES["NONE"] for pair in EVERYTHING}, user=admin)
    webhook = f"{world.server.base_url}/rest/{admin}/{code}/"
    lead = world.item(LEAD, world.stranger)
    assert world.server.call("crm.lead.get", {"id": lead}, webhook=webhook).status == 200
    assert world.server.call("crm.lead.get", {"id": MISSING_ID}, webhook=webhook).body == {
        "error": "",
        "error_description": "Not found.",
    }


def test_inactive_user_webhook_is_refused(world: World) -> None:
    user_id, webhook = world.user("Leaver", ("Sales",))
    assert world.server.call("crm.lead.list", {}, webhook=webhook).status == 200
    with world.store.write() as tx:
        tx.user_update(user_id, {"active": False})
    answer = world.server.call("crm.lead.list", {}, webhook=webhook)
    assert (answer.status, answer.body) == (
        401,
        {"error": "INVALID_CREDENTIALS", "error_description": "Invalid request credentials"},
    )
    with world.store.write() as tx:
        tx.user_update(user_id, {"active": True})
    assert world.server.call("crm.lead.list", {}, webhook=webhook).status == 200
