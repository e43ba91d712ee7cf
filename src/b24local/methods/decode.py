"""Reading REST parameters as a portal does: by name in any of its spellings (P2), cast like PHP (P1),
refused with the portal's words (contract lead-contact-bindings.md P1–P4, crud.md M1–M4).

Each :class:`~b24local.methods.registry.Param` holds one of the readers below and decodes itself with
it; the handlers build crm/commands.py's typed commands from what the readers return. Values inside
``fields`` and ``filter`` stay as given: the CRM converts those per field type.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from b24local.crm.bindings import Wanted
from b24local.crm.values import as_php_array, is_numeric_id, php_int
from b24local.protocol.errors import bad_request

T = TypeVar("T")
#: Reads one parameter: (its declared name, the call's parameters) → its value; raises ApiError.
Reader = Callable[[str, Mapping[str, Any]], T]

_TRUE_WORDS = frozenset({"1", "true", "y", "yes"})


def param(params: Mapping[str, Any], name: str) -> Any:
    """A top-level parameter by its name as written, upper case, lower case or capitalised (P2)."""
    for key in (name, name.upper(), name.lower(), name.capitalize()):
        if key in params and params[key] is not None:
            return params[key]
    return None


def id_param(params: Mapping[str, Any]) -> int:
    """``id`` read from ``ID``, then ``id``, cast like PHP ``(int)`` (P1)."""
    if params.get("ID") is not None:
        return php_int(params["ID"])
    return php_int(params.get("id"))


def php_map(value: Any) -> dict[Any, Any] | None:
    """A PHP array by its keys: maps as they are, lists keyed by position; None when not an array."""
    if isinstance(value, list):
        return dict(enumerate(value))
    if isinstance(value, dict):
        return value
    return None


def flag(value: Any) -> bool:
    """A yes/no parameter (``halt``, ``full``): JSON booleans and numbers, or ``1/true/Y/yes`` in any case."""
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        return value != 0
    return isinstance(value, str) and value.strip().lower() in _TRUE_WORDS


# Readers -----------------------------------------------------------------------------------------


def lookup(name: str, params: Mapping[str, Any]) -> Any:
    """The value as given, found by P2."""
    return param(params, name)


def exact(name: str, params: Mapping[str, Any]) -> Any:
    """The value under exactly this name (the system methods read their parameters so)."""
    return params.get(name)


def exact_or_upper(name: str, params: Mapping[str, Any]) -> Any:
    """The value under this name, else under its upper-case spelling (``batch``'s ``cmd``, ``halt``)."""
    return params.get(name, params.get(name.upper()))


def yes_no(reader: Reader[Any]) -> Reader[bool]:
    """What ``reader`` finds, as a :func:`flag`."""
    return lambda name, params: flag(reader(name, params))


def integer(name: str, params: Mapping[str, Any]) -> int:
    """P2, then PHP ``(int)`` (``start``)."""
    return php_int(param(params, name))


def names(name: str, params: Mapping[str, Any]) -> tuple[str, ...]:
    """A list of names (``select``): an array's strings in order, or one string; anything else none."""
    raw = param(params, name)
    if raw is None or raw == "":
        return ()
    items = as_php_array(raw)
    return tuple(n for n in (items if items is not None else [raw]) if isinstance(n, str))


def positive_id(message: str) -> Reader[int]:
    """``id`` by P1; 0 or less (missing, not a number) is refused with ``message``."""

    def read(name: str, params: Mapping[str, Any]) -> int:
        value = id_param(params)
        if value <= 0:
            raise bad_request(message)
        return value

    return read


def array(message: str) -> Reader[dict[Any, Any]]:
    """An object or a list (keyed by position); anything else, missing included, is refused."""

    def read(name: str, params: Mapping[str, Any]) -> dict[Any, Any]:
        value = php_map(param(params, name))
        if value is None:
            raise bad_request(message)
        return value

    return read


def array_or_empty(message: str) -> Reader[dict[Any, Any]]:
    """As :func:`array`, but missing or "" is an empty array (``filter``, ``order``)."""
    must_be_array = array(message)

    def read(name: str, params: Mapping[str, Any]) -> dict[Any, Any]:
        value = param(params, name)
        return {} if value is None or value == "" else must_be_array(name, params)

    return read


def array_or_none(message: str) -> Reader[dict[Any, Any] | list[Any] | None]:
    """An optional array (``params`` of add/update): missing is None, anything but an array refused."""

    def read(name: str, params: Mapping[str, Any]) -> dict[Any, Any] | list[Any] | None:
        value = param(params, name)
        if value is not None and not isinstance(value, (dict, list)):
            raise bad_request(message)
        return value

    return read


# Bindings (contract P3: inside a binding only the bound id, SORT and IS_PRIMARY are read) ---------


def _wanted(bound_field: str, item: Any, strict: bool) -> Wanted:
    """One binding as given; a bound id the service must refuse (E6, E12) is read as 0.

    ``strict`` (items.set, E12): the id must be numeric as written, "12abc" is no id; add and delete
    cast it like PHP (E6)."""
    if not isinstance(item, dict):
        return Wanted(0, None, False)
    raw = item.get(bound_field)
    bound_id = 0 if strict and not is_numeric_id(raw) else php_int(raw)
    sort = php_int(item["SORT"]) if item.get("SORT") is not None else None
    return Wanted(bound_id, sort, item.get("IS_PRIMARY") == "Y")


def binding(bound_field: str, message: str) -> Reader[Wanted]:
    """``fields`` of add/delete: an array (else ``message``, E3/E4) read as one binding."""
    must_be_array = array(message)

    def read(name: str, params: Mapping[str, Any]) -> Wanted:
        return _wanted(bound_field, must_be_array(name, params), strict=False)

    return read


def bindings(bound_field: str, message: str) -> Reader[tuple[Wanted, ...]]:
    """``items`` of items.set: an array (else ``message``, E5) of bindings, in order."""

    def read(name: str, params: Mapping[str, Any]) -> tuple[Wanted, ...]:
        items = as_php_array(param(params, name))
        if items is None:
            raise bad_request(message)
        return tuple(_wanted(bound_field, item, strict=True) for item in items)

    return read
