"""System methods of scope ``basic``: scope, methods, method.get, server.time, profile, user.current,
user.admin, app.info. Their lists are generated from the method registry.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from b24local.clock import iso_local
from b24local.methods import decode, schemas
from b24local.methods.registry import REGISTRY, Call, Param, Result, method
from b24local.protocol.errors import ApiError
from b24local.storage.base import User

_TEXT: dict[str, Any] = {"type": "string"}
_ID_TEXT: dict[str, Any] = {"type": "string", "pattern": "^[0-9]+$"}
#: Empty for an inactive user.
PROFILE = schemas.strict_object(
    {
        "ID": _ID_TEXT,
        "ADMIN": {"type": "boolean"},
        "NAME": _TEXT,
        "LAST_NAME": _TEXT,
        "PERSONAL_GENDER": _TEXT,
        "TIME_ZONE": _TEXT,
    }
)
USER = schemas.strict_object(
    {
        "ID": _ID_TEXT,
        "XML_ID": {"type": ["string", "null"]},
        "ACTIVE": {"type": "boolean"},
        "NAME": _TEXT,
        "LAST_NAME": _TEXT,
        "SECOND_NAME": _TEXT,
        "EMAIL": _TEXT,
        "PERSONAL_GENDER": _TEXT,
        "IS_ONLINE": schemas.YES_NO,
        "TIME_ZONE": _TEXT,
        "UF_DEPARTMENT": {"type": "array", "items": {"type": "integer"}},
        "USER_TYPE": _TEXT,
    },
    ("ID", "ACTIVE", "NAME", "LAST_NAME"),
)
APP = schemas.strict_object(
    {
        "ID": {"type": "integer"},
        "CODE": _TEXT,
        "VERSION": {"type": "integer"},
        "STATUS": _TEXT,
        "INSTALLED": {"type": "boolean"},
        "PAYMENT_EXPIRED": schemas.YES_NO,
        "DAYS": {"type": ["integer", "null"]},
        "LANGUAGE_ID": _TEXT,
        "LICENSE": _TEXT,
        "LICENSE_TYPE": _TEXT,
        "LICENSE_FAMILY": _TEXT,
    },
    ("ID", "CODE", "STATUS"),
)


def _scope_filter(name: str, params: Mapping[str, Any]) -> str | None:
    """None when not given at all; empty means the basic methods."""
    return str(params[name] or "basic").lower() if name in params else None


# The system methods read their parameters under exactly the name given.
_FULL = decode.yes_no(decode.exact)
FULL_SCOPES = Param("full", "boolean", False, "true: every scope the server has methods in", reader=_FULL)
FULL_METHODS = Param("full", "boolean", False, "true: every method", reader=_FULL)
SCOPE = Param(
    "scope", "string", False, "Only the methods of this scope; empty: the basic ones", reader=_scope_filter
)
NAME = Param("name", "string", True, "A method name", reader=decode.exact)


def _user(call: Call) -> User:
    user = call.tx.user_get(call.ctx.user_id)
    if user is None:  # deleted between authentication and now
        raise ApiError(401, "INVALID_CREDENTIALS", "Invalid request credentials")
    return user


def all_scopes() -> list[str]:
    """The scopes some registered method needs (``basic`` is granted to all, so never listed): a scope
    without methods here (``user``) would promise a client calls that answer 404."""
    return sorted({m.scope for m in REGISTRY.values()} - {"basic"})


@method(
    "scope",
    scope="basic",
    params=(FULL_SCOPES,),
    summary="Scopes granted to the webhook or application.",
    result=schemas.STRINGS,
)
def scope(call: Call) -> list[str]:
    if FULL_SCOPES.read(call.params):
        return all_scopes()
    return sorted(call.ctx.scopes)


@method(
    "methods",
    scope="basic",
    params=(FULL_METHODS, SCOPE),
    summary="Methods available to the caller.",
    result=schemas.STRINGS,
)
def methods(call: Call) -> list[str]:
    names = sorted(REGISTRY)
    if FULL_METHODS.read(call.params):
        return names
    wanted = SCOPE.read(call.params)
    if wanted is not None:
        return [n for n in names if REGISTRY[n].scope == wanted]
    return [n for n in names if call.ctx.has_scope(REGISTRY[n].scope)]


@method(
    "method.get",
    scope="basic",
    params=(NAME,),
    summary="Does a method exist, and may the caller call it?",
    result=Result(
        schemas.strict_object(
            {"isExisting": {"type": "boolean"}, "isAvailable": {"type": "boolean"}},
            ("isExisting", "isAvailable"),
        )
    ),
)
def method_get(call: Call) -> dict[str, bool]:
    name = NAME.read(call.params)
    entry = REGISTRY.get(name.lower()) if isinstance(name, str) and name else None
    return {
        "isExisting": entry is not None,
        "isAvailable": entry is not None and call.ctx.has_scope(entry.scope),
    }


@method("server.time", scope="basic", summary="The server's current time.", result=schemas.DATE_TIME)
def server_time(call: Call) -> str:
    return iso_local(time.time())


@method("profile", scope="basic", summary="The calling user's basic data.", result=Result(PROFILE))
def profile(call: Call) -> dict[str, Any]:
    user = _user(call)
    if not user.active:
        return {}
    return {
        "ID": str(user.id),
        "ADMIN": user.is_admin,
        "NAME": user.name,
        "LAST_NAME": user.last_name,
        "PERSONAL_GENDER": "",
        "TIME_ZONE": "",
    }


@method("user.current", scope="basic", summary="The calling user.", result=Result(USER))
def user_current(call: Call) -> dict[str, Any]:
    user = _user(call)
    return {
        "ID": str(user.id),
        "XML_ID": None,
        "ACTIVE": user.active,
        "NAME": user.name,
        "LAST_NAME": user.last_name,
        "SECOND_NAME": "",
        "EMAIL": "",
        "PERSONAL_GENDER": "",
        "IS_ONLINE": "Y",
        "TIME_ZONE": "",
        "UF_DEPARTMENT": [],
        "USER_TYPE": "employee",
    }


@method(
    "user.admin",
    scope="basic",
    summary="Whether the calling user is an administrator.",
    result=schemas.BOOLEAN,
)
def user_admin(call: Call) -> bool:
    return call.ctx.is_admin


@method("app.info", scope="basic", summary="The calling application (OAuth calls only).", result=Result(APP))
def app_info(call: Call) -> dict[str, Any]:
    # Only an OAuth call has an application context; a webhook gets ACCESS_DENIED.
    app = call.tx.oauth_app_get(call.ctx.app_id) if call.ctx.app_id is not None else None
    if app is None:
        raise ApiError(400, "ACCESS_DENIED", "Access denied! Application context required")
    # b24local applications are local ones (STATUS "L"): never paid, never expiring; the licence
    # fields name b24local itself rather than a Bitrix24 plan.
    return {
        "ID": app.id,
        "CODE": app.client_id,
        "VERSION": app.version,
        "STATUS": "L",
        "INSTALLED": True,
        "PAYMENT_EXPIRED": "N",
        "DAYS": None,
        "LANGUAGE_ID": "en",
        "LICENSE": "en_local",
        "LICENSE_TYPE": "local",
        "LICENSE_FAMILY": "local",
    }
