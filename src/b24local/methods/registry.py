"""The method registry: one declarative entry per REST method.

Dispatch, the `methods`/`scope` system methods and the documentation are all generated from
:data:`REGISTRY`; a new method is one :func:`method` decorator in its family's module, and a new
family is one entry in methods/families.py (the registry imports no family). A method is of one of two
kinds: a :class:`Method` runs its handler in one transaction, a :class:`CallsMethod` (``batch``) runs
other calls. Its declared :class:`Param` s document it and decode its parameters.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import KW_ONLY, dataclass, field
from typing import Any, Generic, TypedDict, TypeVar, Unpack

from b24local.auth.context import AuthContext
from b24local.crm.permissions import Permissions
from b24local.methods.decode import Reader, lookup
from b24local.protocol.budget import ParamBudget
from b24local.storage.base import Transaction

#: A JSON Schema (draft 2020-12, as OpenAPI 3.1 uses it).
Schema = Mapping[str, Any]
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Param(Generic[T]):
    """A declared parameter: documented (methods.md, OpenAPI) and read with its ``reader``."""

    name: str
    type: str  # integer, string, boolean, object, string[], object[] (methods/openapi.py maps them)
    required: bool = False
    description: str = ""
    #: A precise JSON Schema where ``type`` says too little (a CRM entity's ``fields``).
    schema: Schema | None = field(default=None, compare=False)
    #: How a call's parameters give this one's value, refused as a portal refuses it (methods/decode.py).
    reader: Reader[T] = field(default=lookup, compare=False)

    def read(self, params: Mapping[str, Any]) -> T:
        return self.reader(self.name, params)


@dataclass(frozen=True, slots=True)
class Result:
    """What a method answers: the JSON Schema of ``result``; ``page``: a list method, whose envelope
    adds ``total`` and ``next``."""

    schema: Schema = field(default_factory=dict, compare=False)
    page: bool = False


@dataclass(slots=True)
class Call:
    """One method call: who calls, with what, inside which transaction."""

    ctx: AuthContext
    params: dict[str, Any]
    tx: Transaction
    perms: Permissions
    budget: ParamBudget = field(default_factory=ParamBudget)  # the request's (a batch's, for its calls)


@dataclass(slots=True)
class Calls:
    """What a method that runs other methods (``batch``) gets: the caller and a way to call.

    ``run(name, params)`` runs one method under the same caller in its own transaction and returns
    ``(result, seconds)``; it raises ApiError as a direct call would. ``budget`` is what is left of
    the request's parameter limits, for decoding the calls' own parameters.
    """

    ctx: AuthContext
    params: dict[str, Any]
    run: Callable[[str, dict[str, Any]], tuple[Any, float]]
    find: Callable[[str], AnyMethod]
    budget: ParamBudget = field(default_factory=ParamBudget)


Handler = Callable[[Call], Any]
CallsHandler = Callable[[Calls], Any]


@dataclass(frozen=True, slots=True)
class _Declared:
    """What every method declares: read by dispatch, `methods`, the OpenAPI document and methods.md."""

    name: str  # lower case, as dispatched
    scope: str
    _: KW_ONLY
    params: tuple[Param[Any], ...] = ()
    summary: str = ""
    batch: bool = True  # may run inside `batch`
    result: Result = field(default_factory=Result)


@dataclass(frozen=True, slots=True)
class Method(_Declared):
    """A method whose handler runs inside one transaction, read or write."""

    handler: Handler
    write: bool = False  # runs in a write transaction
    _: KW_ONLY
    #: False: a read whose data is one statement, run without a transaction (Storage.read(snapshot=False))
    snapshot: bool = True

    def __post_init__(self) -> None:
        if not self.summary:
            object.__setattr__(self, "summary", self.handler.__doc__ or "")


@dataclass(frozen=True, slots=True)
class CallsMethod(_Declared):
    """A method that runs other methods (``batch``): no transaction of its own, one per call it runs."""

    handler: CallsHandler

    def __post_init__(self) -> None:
        if not self.summary:
            object.__setattr__(self, "summary", self.handler.__doc__ or "")


AnyMethod = Method | CallsMethod

REGISTRY: dict[str, AnyMethod] = {}


def _add(entry: AnyMethod) -> None:
    if entry.name in REGISTRY:
        raise RuntimeError(f"method {entry.name} registered twice")
    REGISTRY[entry.name] = entry


class Declaration(TypedDict, total=False):
    """What a decorator passes on to the method it registers, beside its name, scope and handler."""

    params: tuple[Param[Any], ...]
    summary: str  # default: the handler's docstring
    result: Result


def method(
    name: str,
    *,
    scope: str,
    write: bool = False,
    batch: bool = True,
    snapshot: bool = True,
    **declared: Unpack[Declaration],
) -> Callable[[Handler], Handler]:
    """Register a :class:`Method`."""
    if write and not snapshot:
        raise RuntimeError(f"{name}: a write always runs in one transaction")

    def register(handler: Handler) -> Handler:
        _add(Method(name.lower(), scope, handler, write, batch=batch, snapshot=snapshot, **declared))
        return handler

    return register


def calls_method(
    name: str, *, scope: str, batch: bool = False, **declared: Unpack[Declaration]
) -> Callable[[CallsHandler], CallsHandler]:
    """Register a :class:`CallsMethod`."""

    def register(handler: CallsHandler) -> CallsHandler:
        _add(CallsMethod(name.lower(), scope, handler, batch=batch, **declared))
        return handler

    return register
