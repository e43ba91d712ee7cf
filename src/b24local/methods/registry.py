"""The method registry: one declarative entry per REST method.

Dispatch, the `methods`/`scope` system methods and the documentation are all generated from
:data:`REGISTRY`; a new method is one :func:`method` decorator in its family's module.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from b24local.auth.context import AuthContext
from b24local.crm.permissions import Permissions
from b24local.storage.base import Transaction


@dataclass(frozen=True, slots=True)
class Param:
    name: str
    type: str
    required: bool = False
    description: str = ""


@dataclass(slots=True)
class Call:
    """One method call: who calls, with what, inside which transaction."""

    ctx: AuthContext
    params: dict[str, Any]
    tx: Transaction
    perms: Permissions


Handler = Callable[[Call], Any]


@dataclass(frozen=True, slots=True)
class Method:
    name: str  # lower case, as dispatched
    scope: str
    handler: Handler
    write: bool  # runs in a write transaction
    params: tuple[Param, ...] = field(default_factory=tuple)
    summary: str = ""
    batch: bool = True  # may run inside `batch`


REGISTRY: dict[str, Method] = {}


def method(
    name: str,
    *,
    scope: str,
    write: bool = False,
    params: tuple[Param, ...] = (),
    summary: str = "",
    batch: bool = True,
) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        key = name.lower()
        if key in REGISTRY:
            raise RuntimeError(f"method {name} registered twice")
        REGISTRY[key] = Method(key, scope, handler, write, params, summary or (handler.__doc__ or ""), batch)
        return handler

    return register


def load_all() -> dict[str, Method]:
    """Import every method family so that its entries are registered."""
    from b24local.methods import crm_contact, crm_lead, crm_lead_contact  # noqa: F401

    return REGISTRY
