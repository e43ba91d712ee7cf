"""Running one method call: lookup, scope check, one transaction, timing.

Used by the HTTP layer for every call and by `batch` for each of its commands.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any, Protocol, TypeVar

from b24local.auth.context import AuthContext
from b24local.crm.errors import CrmError
from b24local.crm.permissions import Permissions
from b24local.methods.errors import api_error
from b24local.methods.families import load_all
from b24local.methods.official import unknown_method
from b24local.methods.registry import AnyMethod, Call, Calls, CallsMethod, Method
from b24local.protocol.budget import ParamBudget
from b24local.protocol.errors import insufficient_scope, server_busy
from b24local.storage.base import Storage, Transaction
from b24local.storage.errors import BusyPastDeadline
from b24local.storage.runner import lock_wait_of, run

log = logging.getLogger("b24local")
T = TypeVar("T")

#: Authenticates a request inside the call's transaction.
Authenticator = Callable[[Transaction], AuthContext]


class CallLimits(Protocol):
    """A step of every call the dispatcher runs (the portal's operating-time limit, auth/limits.py):
    the composition root passes one in, so that the methods layer names no layer above it."""

    def check(self, ctx: AuthContext, method_name: str, tx: Transaction) -> None:
        """After the scope check, before the method runs, inside the call's transaction; raises
        ApiError to refuse the call."""

    def record(self, ctx: AuthContext, method_name: str, seconds: float) -> None:
        """After a method ran (not after a refused call), with how long it ran."""


class CallFaults(Protocol):
    """The fault rules' step before each command of ``batch`` (test-portal.md T9, admin/faults.py),
    passed in by the composition root like :class:`CallLimits`."""

    def command(self, ctx: AuthContext, method_name: str) -> None:
        """Before the command's transaction; raises ApiError to answer it with a fault."""


class Dispatcher:
    def __init__(
        self, storage: Storage, limits: CallLimits | None = None, faults: CallFaults | None = None
    ) -> None:
        self.storage = storage
        #: How long one call may keep retrying a busy database before it answers 503 (seconds).
        self.lock_wait = lock_wait_of(storage)
        self.methods = load_all()
        self.limits = limits
        self.faults = faults

    def find(self, name: str) -> AnyMethod:
        found = self.methods.get(name.lower())
        if found is None:
            raise unknown_method(name)
        return found

    def call(
        self,
        auth: AuthContext | Authenticator,
        name: str,
        params: dict[str, Any],
        budget: ParamBudget | None = None,
    ) -> tuple[Any, float]:
        """Run a call in one transaction; returns its result and how long the method ran (seconds).

        ``auth`` is a known context (batch commands) or a function that authenticates inside the
        call's own transaction, so that a request costs one transaction. Failures answer in this
        order: credentials, unknown method, scope. ``budget`` is what the request's parameters left
        of the decoder's limits (a method that runs other calls decodes theirs from it).
        """
        methods = self.methods
        found = methods.get(name) or methods.get(name.lower())
        if isinstance(found, CallsMethod):
            return self._run_calls(auth, found, params, ParamBudget() if budget is None else budget)
        entry: Method | None = found
        started = time.perf_counter()
        ctx: AuthContext | None = auth if isinstance(auth, AuthContext) else None
        ran = False  # limits record only calls whose method ran (not refused ones)
        request = ParamBudget() if budget is None else budget

        def attempt(tx: Transaction) -> Any:
            nonlocal ctx, ran
            if not isinstance(auth, AuthContext):
                ctx = auth(tx)  # on every attempt: a rerun may be for credentials that changed
            assert ctx is not None
            if entry is None:
                raise unknown_method(name)
            if not ctx.has_scope(entry.scope):
                raise insufficient_scope(scope_refusal(ctx, entry))
            if self.limits is not None:
                self.limits.check(ctx, entry.name, tx)
            ran = True
            try:
                return entry.handler(Call(ctx, params, tx, Permissions(ctx, tx), request))
            except CrmError as error:  # worded here, once, for direct calls and batch commands alike
                raise api_error(error) from error

        write = entry is not None and entry.write
        snapshot = entry is None or entry.snapshot
        try:
            result = self._run(write, attempt, snapshot, name)
        finally:
            elapsed = time.perf_counter() - started
            if ran and ctx is not None and entry is not None and self.limits is not None:
                self.limits.record(ctx, entry.name, elapsed)
        return result, elapsed

    def _run(self, write: bool, fn: Callable[[Transaction], T], snapshot: bool, what: str) -> T:
        """``fn`` in the runner's transaction; a database busy past the bound answers 503."""
        try:
            return run(self.storage, write, fn, snapshot=snapshot, lock_wait=self.lock_wait)
        except BusyPastDeadline:
            log.warning("database busy past %.1f s: %s answered 503", self.lock_wait, what)
            raise server_busy(f"the database stayed busy past {self.lock_wait:.1f} s") from None

    def authenticate(self, auth: Authenticator) -> AuthContext:
        """The caller of a request, in a read transaction of its own (before the call's)."""
        return self._run(False, auth, True, "authentication")

    def _run_calls(
        self,
        auth: AuthContext | Authenticator,
        entry: CallsMethod,
        params: dict[str, Any],
        budget: ParamBudget,
    ) -> tuple[Any, float]:
        """A method that runs other calls: authenticate once, then each call has its own transaction."""
        # Inside the runner: a busy database or a rerun here answers as for any call (503), not 500.
        ctx = auth if isinstance(auth, AuthContext) else self._run(False, auth, True, entry.name)
        if not ctx.has_scope(entry.scope):
            raise insufficient_scope(scope_refusal(ctx, entry))
        started = time.perf_counter()
        faults = self.faults

        def command(name: str, command_params: dict[str, Any]) -> tuple[Any, float]:
            if faults is not None:
                faults.command(ctx, name)
            return self.call(ctx, name, command_params, budget)

        calls = Calls(ctx, params, command, self.find, budget)
        result = entry.handler(calls)
        return result, time.perf_counter() - started


def scope_refusal(ctx: AuthContext, entry: AnyMethod) -> str:
    """Why a credential's scopes do not reach a method, for the journal."""
    held = ",".join(sorted(ctx.scopes)) or "none"
    return f"{entry.name} needs scope {entry.scope}; {ctx.credential()} has scope {held}"
