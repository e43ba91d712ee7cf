"""The OpenAPI 3.1 description of ``/rest/``, generated from the method registry.

Every method has two paths: the webhook form ``/rest/{user_id}/{webhook_code}/{method}`` and the OAuth
form ``/rest/{method}`` with the access token in ``auth``. Each answers POST (a JSON or form body) and
GET (the parameters in the query string, PHP bracket syntax).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

import orjson

from b24local import __version__
from b24local.methods import schemas
from b24local.methods.families import load_all
from b24local.methods.registry import AnyMethod, Method, Param, Schema

_TYPES: dict[str, Schema] = {
    "integer": {"type": "integer"},
    "string": {"type": "string"},
    "boolean": {"type": "boolean"},
    "object": {"type": "object"},
    "string[]": {"type": "array", "items": {"type": "string"}},
    "object[]": {"type": "array", "items": {"type": "object"}},
}

#: Error answers: (component name, status, what it means).
_ERRORS: dict[str, tuple[str, str]] = {
    "400": (
        "BadRequest",
        "Parameters that cannot be decoded (INVALID_REQUEST) or that the method refuses "
        "(most CRM checks answer an empty error code, some NOT_FOUND or ACCESS_DENIED).",
    ),
    "401": (
        "Unauthorized",
        "INVALID_CREDENTIALS (webhook unknown, deleted or disabled), NO_AUTH_FOUND (no auth), "
        "invalid_token, expired_token.",
    ),
    "403": ("Forbidden", "insufficient_scope, or ACCESS_DENIED by CRM permissions."),
    "413": ("TooLarge", "INVALID_REQUEST: the body is over the server's limit (8 MiB by default)."),
    "429": ("OperatingTimeLimit", "OPERATION_TIME_LIMIT (serve --limits): wait for operating_reset_at."),
    "500": ("InternalError", "INTERNAL_SERVER_ERROR: a fault in b24local; nothing was written."),
    "503": (
        "Busy",
        "QUERY_LIMIT_EXCEEDED: over the request limit (serve --limits), or the database stayed busy; "
        "nothing was written, try again.",
    ),
}

_DESCRIPTION = """\
The Bitrix24 REST methods b24local implements, generated from its method registry.

Authentication: an incoming webhook's user id and code in the path
(`/rest/{user_id}/{webhook_code}/{method}`), or an OAuth access token (from `/oauth/authorize/` and
`/oauth/token/`) in the `auth` parameter of `/rest/{method}`: query string, form field or JSON key.

Parameters: a JSON body, a form body or the query string in PHP bracket syntax (`filter[>ID]=5`,
`select[]=ID`); multipart bodies are read as forms too. Parameter names in capitals (`FIELDS`, `ID`)
are accepted as well. A method name may end in `.json` or `.xml` (the XML form of the same answer).

Success: `{"result", "time"}`, list methods add `total` and, when more rows follow, `next` (pages of
50). Errors: `{"error", "error_description"}` with the HTTP status of the portal's error.
"""


def _param_schema(param: Param[Any]) -> Schema:
    return param.schema if param.schema is not None else _TYPES[param.type]


def _resolved(schema: Schema) -> Schema:
    """``schema`` without a reference at its top, and its one ``allOf`` part merged in."""
    ref = schema.get("$ref")
    if isinstance(ref, str):
        return _resolved(schemas.COMPONENTS[ref.rsplit("/", 1)[1]])
    if "allOf" in schema:
        (base,) = schema["allOf"]
        return {**_resolved(base), **{k: v for k, v in schema.items() if k != "allOf"}}
    return schema


def _is_scalar(schema: Schema) -> bool:
    kinds = _resolved(schema).get("type")
    kinds = kinds if isinstance(kinds, list) else [kinds]
    return None not in kinds and not {"object", "array"} & set(kinds)


def _scalars_only(schema: Schema) -> dict[str, Any]:
    """An object schema as a query string can carry it (deepObject: one level of scalars)."""
    out = dict(_resolved(schema))
    if "properties" in out:
        out["properties"] = {k: v for k, v in out["properties"].items() if _is_scalar(v)}
        out.pop("required", None)
    extra = out.get("additionalProperties")
    if isinstance(extra, Mapping) and not _is_scalar(extra):
        out["additionalProperties"] = schemas.SCALAR
    return out


def _query_parameter(param: Param[Any]) -> dict[str, Any] | None:
    """``param`` as a query parameter, or None when OpenAPI has no style for it (a list of objects)."""
    schema = _resolved(_param_schema(param))
    out: dict[str, Any] = {"name": param.name, "in": "query", "required": param.required}
    if param.description:
        out["description"] = param.description
    kind = schema.get("type")
    if kind == "array":
        if not _is_scalar(schema.get("items", {})):
            return None
        # PHP keeps only the last of repeated plain names: a list is sent as name[]=a&name[]=b.
        return {**out, "name": f"{param.name}[]", "style": "form", "explode": True, "schema": schema}
    if kind == "object":
        return {**out, "style": "deepObject", "explode": True, "schema": _scalars_only(schema)}
    return {**out, "schema": schema}


def _body_schema(method: AnyMethod) -> dict[str, Any]:
    out: dict[str, Any] = {
        "type": "object",
        "properties": {p.name: {**_param_schema(p), "description": p.description} for p in method.params},
    }
    required = [p.name for p in method.params if p.required]
    if required:
        out["required"] = required
    return out


def _request_body(method: AnyMethod) -> dict[str, Any]:
    schema = _body_schema(method)
    nested = {
        p.name: {"style": "deepObject", "explode": True}
        for p in method.params
        if not _is_scalar(_param_schema(p))
    }
    form: dict[str, Any] = {"schema": schema}
    if nested:
        form["encoding"] = nested
    return {
        "required": "required" in schema,
        "content": {"application/json": {"schema": schema}, "application/x-www-form-urlencoded": form},
    }


def _success(method: AnyMethod) -> dict[str, Any]:
    properties: dict[str, Schema] = {"result": method.result.schema, "time": schemas.TIME}
    required = ["result", "time"]
    if method.result.page:
        properties["total"] = {
            "type": "integer",
            "minimum": 0,
            "description": "Matching rows; 0 with start=-1",
        }
        properties["next"] = {"type": "integer", "description": "start of the next page, when there is one"}
        required.append("total")
    envelope = schemas.strict_object(properties, tuple(required))
    return {"description": "Success", "content": {"application/json": {"schema": envelope}}}


def _statuses(method: AnyMethod) -> list[str]:
    statuses = ["400", "401", "413", "500", "503"]
    if method.scope != "basic":
        statuses.append("403")
    if isinstance(method, Method):  # batch's commands are accounted each, not batch itself
        statuses.append("429")
    return sorted(statuses)


def notes(method: AnyMethod) -> list[str]:
    """What a reader should know beside the summary (also in docs/methods.md)."""
    out = [f"Scope `{method.scope}`."]
    if isinstance(method, Method) and method.write:
        out.append("Writes in one transaction.")
    if not method.batch:
        out.append("Not allowed inside `batch`.")
    return out


def _operation(method: AnyMethod, verb: str, oauth: bool) -> dict[str, Any]:
    op: dict[str, Any] = {
        "operationId": f"{method.name.replace('.', '_')}_{'oauth' if oauth else 'webhook'}_{verb}",
        "tags": [method.scope],
        "summary": method.summary,
        "description": " ".join(notes(method)),
        "security": [{"oauthToken": []}] if oauth else [],
    }
    if verb == "get":
        query = [_query_parameter(p) for p in method.params]
        op["parameters"] = [q for q in query if q is not None]
        if None in query:
            op["description"] += " Lists of objects are sent only in a body (POST)."
    else:
        op["requestBody"] = _request_body(method)
    op["responses"] = {"200": _success(method)} | {
        status: {"$ref": f"#/components/responses/{_ERRORS[status][0]}"} for status in _statuses(method)
    }
    return op


_WEBHOOK_PARAMETERS = [
    {"$ref": "#/components/parameters/UserId"},
    {"$ref": "#/components/parameters/WebhookCode"},
]


def build(methods: Mapping[str, AnyMethod]) -> dict[str, Any]:
    """The whole document for ``methods`` (by name, as the registry keeps them)."""
    paths: dict[str, Any] = {}
    for name in sorted(methods):
        method = methods[name]
        paths[f"/rest/{{user_id}}/{{webhook_code}}/{name}"] = {
            "parameters": _WEBHOOK_PARAMETERS,
            "get": _operation(method, "get", oauth=False),
            "post": _operation(method, "post", oauth=False),
        }
    for name in sorted(methods):
        method = methods[name]
        paths[f"/rest/{name}"] = {
            "get": _operation(method, "get", oauth=True),
            "post": _operation(method, "post", oauth=True),
        }
    return {
        "openapi": "3.1.0",
        "info": {"title": "b24local: Bitrix24 REST", "version": __version__, "description": _DESCRIPTION},
        "servers": [{"url": "/"}],
        "tags": [
            {"name": scope, "description": f"Methods of scope {scope}"}
            for scope in sorted({m.scope for m in methods.values()})
        ],
        "paths": paths,
        "components": _components(),
    }


def _components() -> dict[str, Any]:
    return {
        "schemas": dict(sorted(schemas.COMPONENTS.items())),
        "parameters": {
            "UserId": {
                "name": "user_id",
                "in": "path",
                "required": True,
                "description": "The webhook's user",
                "schema": {"type": "integer", "minimum": 1},
            },
            "WebhookCode": {
                "name": "webhook_code",
                "in": "path",
                "required": True,
                "description": "The webhook's secret code",
                "schema": {"type": "string", "minLength": 1},
            },
        },
        "securitySchemes": {
            "oauthToken": {
                "type": "apiKey",
                "in": "query",
                "name": "auth",
                "description": "An OAuth access token (/oauth/token/); a form field or JSON key works too",
            }
        },
        "responses": {
            name: {
                "description": f"{status}: {text}",
                "content": {"application/json": {"schema": schemas.ERROR}},
            }
            for status, (name, text) in _ERRORS.items()
        },
    }


@functools.cache
def document_json() -> bytes:
    """The document of every registered method, serialised once per process."""
    return orjson.dumps(build(load_all()))
