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
    client_id: str | None = None  # an OAuth app's (not secret): how the journal names the credential

    def credential(self) -> str:
        """The credential in words, for the journal's reasons: ``webhook 3`` or ``application local.…``."""
        if self.credential_kind == "webhook":
            return f"webhook {self.credential_id}"
        return f"application {self.client_id or self.app_id}"

    def has_scope(self, scope: str) -> bool:
        return scope == "basic" or scope in self.scopes
