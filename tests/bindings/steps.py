"""The steps of the binding property tests: abstract calls drawn by hypothesis, and their wire form.

A step names pool entities by index (``IdRef``, ``BoundRef``) so that one drawn sequence runs on fresh
records; :func:`request` turns it into the method and parameters of one relation (the item key, the
method prefix and the entity whose ``crm.<bound>.delete`` the ``bound_delete`` step calls come from the
:class:`~tests.bindings.relations.Relation`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st

from tests.bindings.relations import Relation

OWNERS = 2  # pool size per example
BOUNDS = 3
MISSING_OWNER = 2**40 + 7  # ids no test ever creates
MISSING_BOUND = 2**40 + 11
ABSENT: Any = object()  # "this key is not sent"


# --- Abstract steps (drawn by hypothesis, resolved against the example's pool) -------------------------


@dataclass(frozen=True)
class IdRef:
    """The ``id`` parameter: a pool owner (by index), the missing owner, or a literal bad value."""

    target: int | str  # pool index, "missing" or "literal"
    form: str = "int"  # how the id is written: int, str, suffix ("12abc"), float (12.9), space (" 12")
    literal: Any = None  # for target == "literal"
    key: str = "id"  # id, ID, ID+id (ID wins), nullID+id (ID null: id is read)


@dataclass(frozen=True)
class BoundRef:
    """An item key value (CONTACT_ID, COMPANY_ID): a pool bound entity, the missing one, a literal, or
    no key at all."""

    target: int | str  # pool index, "missing", "literal" or "absent"
    form: str = "int"  # int, str, plus ("+12"), float (12.0), space (" 12 "), suffix ("12abc"), half (12.5)
    literal: Any = None


@dataclass(frozen=True)
class Item:
    """One element of ``items``: an object, or a bare non-object value."""

    bound: BoundRef
    sort: Any = ABSENT  # (wire value, PHP int cast) or ABSENT
    primary: Any = ABSENT  # wire value or ABSENT
    bare: bool = False  # send the bound id itself instead of an object
    extra: bool = False  # add keys that must be ignored (ROLE_ID, lower-case sort)


@dataclass(frozen=True)
class Step:
    op: str  # add, delete, set, clear, bound_delete (crm.<bound>.delete)
    owner: IdRef
    bound: BoundRef | None = None
    sort: Any = ABSENT
    primary: Any = ABSENT
    items: tuple[Item, ...] | None = None
    shape: str = "ok"  # ok, or a bad shape of fields/items: absent, null, string, number
    name: str = ""  # how the fields/items parameter is spelled (P2); "" → fields / items
    side: int = 0  # on a two-sided relation: 0 the relation as given, 1 its other side (B3)


SORTS = st.one_of(
    st.just(ABSENT),
    st.sampled_from(
        [
            (None, None),
            (10, 10),
            (25, 25),
            (0, 0),
            (-5, -5),
            ("30", 30),
            ("abc", 0),
            ("15.9", 15),
            (15.9, 15),
            ("7abc", 7),
            (" 40", 40),
            ("-3", -3),
            ("", 0),
            (True, 1),
        ]
    ),
    st.integers(min_value=-3, max_value=80).map(lambda n: (n, n)),
    st.sampled_from([(10, 10), (20, 20)]),  # ties, so that the tie-breaks (lowest bound id) matter
)
PRIMARIES = st.sampled_from([ABSENT, "Y", "Y", "N", "y", True, 1, "1", "Yes", None, " Y"])


def mostly(common: st.SearchStrategy[Any], rare: st.SearchStrategy[Any], odds: int) -> st.SearchStrategy[Any]:
    """``common`` about ``odds`` times as often as ``rare``."""
    return st.integers(min_value=0, max_value=odds).flatmap(lambda n: rare if n == 0 else common)


valid_owner_refs = st.builds(IdRef, target=st.sampled_from([0, 0, 0, 1]))  # most steps on one owner
any_owner_refs = st.one_of(
    st.builds(
        IdRef,
        target=st.sampled_from([0, 1, "missing"]),
        form=st.sampled_from(["int", "str", "suffix", "float", "space"]),
        key=st.sampled_from(["id", "ID", "ID+id", "nullID+id"]),
    ),
    st.builds(
        IdRef,
        target=st.just("literal"),
        literal=st.sampled_from([0, "0", "", "abc", -1, None, ABSENT, "0x1A", False, [], -(2**40)]),
        key=st.sampled_from(["id", "ID"]),
    ),
)
owner_refs = mostly(valid_owner_refs, any_owner_refs, odds=3)

valid_bound_refs = st.builds(BoundRef, target=st.sampled_from(list(range(BOUNDS))))
any_bound_refs = st.one_of(
    st.builds(
        BoundRef,
        target=st.sampled_from(list(range(BOUNDS))),
        form=st.sampled_from(["str", "plus", "float", "space", "suffix", "half"]),
    ),
    st.builds(BoundRef, target=st.just("missing"), form=st.sampled_from(["int", "str"])),
    st.builds(
        BoundRef, target=st.just("literal"), literal=st.sampled_from([0, -1, "0", "abc", None, "", "-2"])
    ),
    st.just(BoundRef("absent")),
)
bound_refs = mostly(valid_bound_refs, any_bound_refs, odds=3)

items_strategy = st.builds(
    Item,
    bound=mostly(valid_bound_refs, any_bound_refs, odds=12),
    sort=SORTS,
    primary=PRIMARIES,
    bare=mostly(st.just(False), st.just(True), odds=30),
    extra=st.booleans(),
)
SHAPES = mostly(st.just("ok"), st.sampled_from(["absent", "null", "string", "number"]), odds=12)

steps = st.one_of(
    st.builds(
        Step,
        op=st.just("add"),
        owner=owner_refs,
        bound=bound_refs,
        sort=SORTS,
        primary=PRIMARIES,
        shape=SHAPES,
        name=st.sampled_from(["fields", "FIELDS", "Fields"]),
    ),
    st.builds(
        Step,
        op=st.just("add"),
        owner=valid_owner_refs,
        bound=valid_bound_refs,
        sort=SORTS,
        primary=PRIMARIES,
    ),
    st.builds(
        Step,
        op=st.just("delete"),
        owner=owner_refs,
        bound=bound_refs,
        shape=SHAPES,
        name=st.sampled_from(["fields", "FIELDS", "Fields"]),
    ),
    st.builds(
        Step,
        op=st.just("set"),
        owner=owner_refs,
        items=st.lists(items_strategy, max_size=5).map(tuple),
        shape=SHAPES,
        name=st.sampled_from(["items", "ITEMS", "Items"]),
    ),
    st.builds(Step, op=st.just("clear"), owner=mostly(valid_owner_refs, any_owner_refs, odds=6)),
    st.builds(Step, op=st.just("bound_delete"), owner=st.just(IdRef(0)), bound=bound_refs),
)


# --- Resolving abstract values to wire values and to what PHP makes of them ----------------------------


def id_form(value: int, form: str) -> Any:
    return {
        "int": value,
        "str": str(value),
        "suffix": f"{value}abc",
        "float": value + 0.9,
        "space": f" {value}",
    }[form]


def bound_form(value: int, form: str) -> Any:
    return {
        "int": value,
        "str": str(value),
        "plus": f"+{value}",
        "float": float(value),
        "space": f" {value} ",
        "suffix": f"{value}abc",
        "half": value + 0.5,
    }[form]


# PHP (int) of the literal values drawn above.
LITERAL_INT = {
    0: 0,
    "0": 0,
    "": 0,
    "abc": 0,
    -1: -1,
    None: 0,
    "0x1A": 0,  # False looks up as 0
    "-2": -2,
    -(2**40): -(2**40),
}


@dataclass
class Pool:
    owners: list[int]
    bounds: list[int]

    def side(self, side: int) -> Pool:
        """The pool as the other side of a two-sided relation sees it (side 1): owners and bound swap."""
        return self if side == 0 else Pool(self.bounds, self.owners)

    def owner_id(self, ref: IdRef) -> tuple[Any, int]:
        """(wire value or ABSENT, PHP int cast)."""
        if ref.target == "literal":
            if ref.literal is ABSENT:
                return ABSENT, 0
            if isinstance(ref.literal, list):
                return ref.literal, 0
            return ref.literal, LITERAL_INT[ref.literal]
        real = MISSING_OWNER if ref.target == "missing" else self.owners[int(ref.target)]
        return id_form(real, ref.form), real

    def bound_id(self, ref: BoundRef) -> tuple[Any, int, bool]:
        """(wire value or ABSENT, PHP int cast, numeric in the sense of E12)."""
        if ref.target == "absent":
            return ABSENT, 0, False
        if ref.target == "literal":
            value = ref.literal
            return (
                value,
                LITERAL_INT[value],
                isinstance(value, int) or (isinstance(value, str) and value.isdigit()),
            )
        real = MISSING_BOUND if ref.target == "missing" else self.bounds[int(ref.target)]
        return bound_form(real, ref.form), real, ref.form not in ("suffix", "half")


def id_params(pool: Pool, ref: IdRef) -> dict[str, Any]:
    wire, _ = pool.owner_id(ref)
    if wire is ABSENT:
        return {}
    if ref.key == "ID":
        return {"ID": wire}
    if ref.key == "ID+id":
        return {"ID": wire, "id": 0}
    if ref.key == "nullID+id":
        return {"ID": None, "id": wire}
    return {"id": wire}


BAD_SHAPES: dict[str, Any] = {"null": None, "string": "CONTACT_ID", "number": 5}


def binding_object(
    rel: Relation, pool: Pool, bound: BoundRef, sort: Any, primary: Any, *, extra: bool = False
) -> dict[str, Any]:
    wire, _, _ = pool.bound_id(bound)
    out: dict[str, Any] = {}
    if wire is not ABSENT:
        out[rel.key] = wire
    if sort is not ABSENT:
        out["SORT"] = sort[0]
    if primary is not ABSENT:
        out["IS_PRIMARY"] = primary
    if extra:
        out["ROLE_ID"] = 7
        out["sort"] = 999
        out["is_primary"] = "Y"
    return out


def request(rel: Relation, pool: Pool, step: Step) -> tuple[str, dict[str, Any]]:
    """The method and parameters of ``step`` on ``rel`` (the side the step is on) and its pool."""
    if step.op == "bound_delete":
        assert step.bound is not None
        wire, _, _ = pool.bound_id(step.bound)
        return f"crm.{rel.bound}.delete", {} if wire is ABSENT else {"id": wire}
    params = id_params(pool, step.owner)
    name = step.name or ("items" if step.op == "set" else "fields")
    if step.op == "clear":
        return rel.m("items.delete"), params
    if step.shape != "ok":
        if step.shape != "absent":
            params[name] = BAD_SHAPES[step.shape]
    elif step.op in ("add", "delete"):
        assert step.bound is not None
        params[name] = binding_object(rel, pool, step.bound, step.sort, step.primary)
    else:
        assert step.items is not None
        elements: list[Any] = []
        for item in step.items:
            if item.bare:
                elements.append(pool.bound_id(item.bound)[0] if item.bound.target != "absent" else None)
            else:
                elements.append(
                    binding_object(rel, pool, item.bound, item.sort, item.primary, extra=item.extra)
                )
        params[name] = elements
    return rel.m({"add": "add", "delete": "delete", "set": "items.set"}[step.op]), params
