"""The request-wide limits of the parameter decoder (contract protocol.md R4).

One :class:`ParamBudget` is started for each request and spent by everything that decodes its
parameters: the query string, the body, and every command of a ``batch``, so that a request cannot
multiply the 10,000-key allowance by splitting its keys among commands.
"""

from __future__ import annotations

from b24local.protocol.errors import ApiError, invalid_request

MAX_NESTING = 32
MAX_KEYS = 10_000
#: Substring and pattern comparisons (`%`, `=%` filters) in one request, `batch` commands included:
#: each scans its field in every row, so their number is what a request's work grows with.
MAX_PATTERNS = 100


def too_deep(name: str) -> ApiError:
    return invalid_request(f"Parameter '{name}' is nested deeper than {MAX_NESTING} levels")


class ParamBudget:
    """The keys one request may still decode.

    A form pair, a multipart part, an array a bracketed name makes, a JSON object key and a JSON list
    element each cost one key. Once
    spent past zero the budget stays exhausted, which is how ``batch`` tells a refusal of the whole
    request from the failure of one command.
    """

    __slots__ = ("left", "patterns_left")

    def __init__(self, keys: int = MAX_KEYS) -> None:
        self.left = keys
        self.patterns_left = MAX_PATTERNS

    def spend(self, keys: int) -> None:
        self.left -= keys
        if self.left < 0:
            raise invalid_request(f"Too many parameters: more than {MAX_KEYS} keys")

    def spend_patterns(self, count: int) -> None:
        self.patterns_left -= count
        if self.patterns_left < 0:
            raise invalid_request(
                f"Too many substring and pattern filters: more than {MAX_PATTERNS} in one request "
                "(a batch counts all its commands)"
            )

    @property
    def exhausted(self) -> bool:
        return self.left < 0


__all__ = ["MAX_KEYS", "MAX_NESTING", "MAX_PATTERNS", "ParamBudget", "too_deep"]
