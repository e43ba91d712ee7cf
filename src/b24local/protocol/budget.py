"""The request-wide limits of the parameter decoder (contract protocol.md R4).

One :class:`ParamBudget` is started for each request and spent by everything that decodes its
parameters: the query string, the body, and every command of a ``batch``, so that a request cannot
multiply the 10,000-key allowance by splitting its keys among commands.
"""

from __future__ import annotations

from b24local.protocol.errors import ApiError, invalid_request

MAX_NESTING = 32
MAX_KEYS = 10_000


def too_deep(name: str) -> ApiError:
    return invalid_request(f"Parameter '{name}' is nested deeper than {MAX_NESTING} levels")


class ParamBudget:
    """The keys one request may still decode.

    A form pair, a multipart part, a JSON object key and a JSON list element each cost one key. Once
    spent past zero the budget stays exhausted, which is how ``batch`` tells a refusal of the whole
    request from the failure of one command.
    """

    __slots__ = ("left",)

    def __init__(self, keys: int = MAX_KEYS) -> None:
        self.left = keys

    def spend(self, keys: int) -> None:
        self.left -= keys
        if self.left < 0:
            raise invalid_request(f"Too many parameters: more than {MAX_KEYS} keys")

    @property
    def exhausted(self) -> bool:
        return self.left < 0


__all__ = ["MAX_KEYS", "MAX_NESTING", "ParamBudget", "too_deep"]
