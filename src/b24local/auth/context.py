"""Who is calling: the authentication context every method call runs under."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


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
    #: The credential as the journal and the log lines show it: the user, and the webhook's id or the
    #: application's client_id. Worked out once: the server keeps a webhook's context between calls.
    shown: dict[str, Any] = field(init=False, compare=False, hash=False, repr=False)

    def __post_init__(self) -> None:
        shown: dict[str, Any]
        if self.credential_kind == "webhook":
            shown = {"user_id": self.user_id, "webhook_id": self.credential_id}
        else:
            shown = {"user_id": self.user_id, "client_id": self.client_id}
        object.__setattr__(self, "shown", shown)

    def credential(self) -> str:
        """The credential in words, for the journal's reasons: ``webhook 3`` or ``application local.…``."""
        if self.credential_kind == "webhook":
            return f"webhook {self.credential_id}"
        return f"application {self.client_id or self.app_id}"

    def has_scope(self, scope: str) -> bool:
        return scope == "basic" or scope in self.scopes
