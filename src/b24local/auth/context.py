"""Who is calling: the authentication context every method call runs under."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class AuthContext:
    user_id: int
    is_admin: bool
    scopes: frozenset[str]
    #: "webhook" or "oauth"; with ``credential_id`` it keys per-credential state such as operating time.
    credential_kind: str
    credential_id: int
    app_id: int | None = None
    crm_access: bool = True  # False: no CRM role at all (bindings E9)

    def has_scope(self, scope: str) -> bool:
        return scope == "basic" or scope in self.scopes
