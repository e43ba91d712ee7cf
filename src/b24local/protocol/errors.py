"""Errors as a Bitrix24 portal reports them: HTTP status, ``error`` code and ``error_description``."""

from __future__ import annotations

#: An HTTP header of an error answer: (lower-case name, value).
Header = tuple[bytes, bytes]

#: Added to 404 Method not found when the method is on Bitrix24's official list but b24local lacks it
#: (docs/deviations.md, "Protocol").
NOT_IMPLEMENTED_HEADER: Header = (b"x-b24local-not-implemented", b"1")


class BodyTooLarge(Exception):
    """A request's body is over the limit (``max_body_bytes``): read no further, answer 413."""


class ApiError(Exception):
    """A call failed in a way the caller is told about (contract protocol.md V3).

    ``headers`` go into the HTTP answer beside the body; an error inside ``batch`` has none. ``why``:
    the rule that refused, in words, for the journal only (test-portal.md T7); never in the answer, so
    it may name what the caller is not told (the owner of an item, why a credential failed).
    """

    __slots__ = ("code", "description", "headers", "status", "why")

    def __init__(
        self,
        status: int,
        code: str,
        description: str,
        headers: tuple[Header, ...] = (),
        *,
        why: str | None = None,
    ) -> None:
        super().__init__(f"{status} {code}: {description}")
        self.status = status
        self.code = code
        self.description = description
        self.headers = headers
        self.why = why

    def body(self) -> dict[str, str]:
        return {"error": self.code, "error_description": self.description}


def bad_request(description: str, code: str = "") -> ApiError:
    """The 400 with an empty ``error`` that most CRM argument checks answer."""
    return ApiError(400, code, description)


# System errors (contract protocol.md, table "System errors").
def no_auth_found(why: str | None = None) -> ApiError:
    return ApiError(401, "NO_AUTH_FOUND", "Wrong authorization data", why=why)


def invalid_credentials(why: str | None = None) -> ApiError:
    return ApiError(401, "INVALID_CREDENTIALS", "Invalid request credentials", why=why)


def invalid_token(why: str | None = None) -> ApiError:
    return ApiError(401, "invalid_token", "The access token provided is invalid.", why=why)


def expired_token(why: str | None = None) -> ApiError:
    return ApiError(401, "expired_token", "The access token provided has expired", why=why)


def insufficient_scope(why: str | None = None) -> ApiError:
    return ApiError(
        403,
        "insufficient_scope",
        "The request requires higher privileges than provided by the webhook token",
        why=why,
    )


def method_not_found(listed: bool = False, why: str | None = None) -> ApiError:
    """``listed``: the method is on the official list (a portal has it), so the answer says so."""
    headers = (NOT_IMPLEMENTED_HEADER,) if listed else ()
    return ApiError(404, "ERROR_METHOD_NOT_FOUND", "Method not found!", headers, why=why)


def invalid_request(description: str) -> ApiError:
    return ApiError(400, "INVALID_REQUEST", description)


def entity_too_large() -> ApiError:
    return ApiError(413, "INVALID_REQUEST", "Request entity too large")


def internal_error() -> ApiError:
    return ApiError(500, "INTERNAL_SERVER_ERROR", "Internal server error")


def server_busy(why: str | None = None) -> ApiError:
    """The database stayed locked past the retry bound: nothing was written, the client may retry."""
    return ApiError(
        503, "QUERY_LIMIT_EXCEEDED", "Too many requests: the database is busy, try again", why=why
    )
