"""Fault rules (test-portal.md T9): what a rule says, checked whole, and when it fires.

A rule names the calls it matches (``method``, a case-insensitive glob as fnmatch reads it; optionally
the caller's ``user`` id or OAuth ``app`` client_id), when it fires among them (``probability`` with a
``seed``, every ``every``-th matching call, the next ``times`` matching calls, or, with none of these,
every matching call), and what it does then: answer ``error`` and/or wait ``delay_ms`` first.

Whether a rule fires depends only on how many calls it has matched (counted in the database, shared
by every server process), so a sequence is the same on every run: with ``probability`` the n-th
matching call fires when the first 8 bytes of SHA-256 of ``"{seed}:{n}"``, read as a fraction of 2**64,
are below the probability; a ``[min, max]`` delay is drawn the same way from ``"{seed}:{n}:delay"``.
"""

from __future__ import annotations

import fnmatch
import hashlib
import math
from dataclasses import dataclass
from typing import Any

#: What a rule may answer: the portal's own errors, its proxy's 502 page, or no answer at all.
ERRORS = (
    "QUERY_LIMIT_EXCEEDED",
    "OPERATION_TIME_LIMIT",
    "INTERNAL_SERVER_ERROR",
    "expired_token",
    "invalid_token",
    "html_502",
    "reset",
)
#: Errors of the connection rather than of a method: they apply to whole requests, never to one
#: command inside ``batch`` (a proxy sees the request, not its commands).
REQUEST_ONLY = frozenset({"html_502", "reset"})
KEYS = ("method", "user", "app", "probability", "seed", "every", "times", "error", "delay_ms")
#: The longest delay a rule may ask for (ten minutes): longer is surely a typo.
MAX_DELAY_MS = 600_000


class RuleError(ValueError):
    """A rule list that cannot be taken; the message starts with the path of the first error."""


@dataclass(frozen=True, slots=True)
class Rule:
    method: str  # lower case
    user: int | None
    app: str | None
    probability: float | None
    seed: int
    every: int | None
    times: int | None
    error: str | None
    delay_ms: tuple[float, float] | None
    #: The rule as it was given (what GET shows and the database keeps).
    source: dict[str, Any]

    @property
    def needs_caller(self) -> bool:
        return self.user is not None or self.app is not None

    def matches(self, method: str) -> bool:
        """``method``: lower case, as dispatched."""
        return fnmatch.fnmatchcase(method, self.method)

    def fires(self, hits: int, remaining: int | None) -> bool:
        """Whether the ``hits``-th matching call (1 for the first) is faulted."""
        if self.times is not None:
            return remaining is not None and remaining > 0
        if self.every is not None:
            return hits % self.every == 0
        if self.probability is not None:
            return _fraction(f"{self.seed}:{hits}") < self.probability
        return True

    def delay_seconds(self, hits: int) -> float:
        if self.delay_ms is None:
            return 0.0
        low, high = self.delay_ms
        return (low + (high - low) * _fraction(f"{self.seed}:{hits}:delay")) / 1000


def _fraction(text: str) -> float:
    """A number in [0, 1) that depends on ``text`` alone."""
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big") / 2**64


def parse_rules(document: Any) -> list[Rule]:
    """The rules of a JSON list, or RuleError naming the first error (``[2].error: unknown error 'FOO'``)."""
    if not isinstance(document, list):
        raise RuleError("the rules must be a JSON list of objects")
    return [_rule(item, f"[{index}]") for index, item in enumerate(document)]


def _rule(item: Any, at: str) -> Rule:
    if not isinstance(item, dict):
        raise RuleError(f"{at}: a rule must be an object")
    for key in item:
        if key not in KEYS:
            raise RuleError(f"{at}.{key}: unknown key (known: {', '.join(KEYS)})")
    method = item.get("method")
    if not isinstance(method, str) or not method.strip():
        raise RuleError(f"{at}.method: required, a method name or glob such as 'crm.lead.*'")
    user = _positive(item, "user", at)
    app = item.get("app")
    if app is not None and (not isinstance(app, str) or not app):
        raise RuleError(f"{at}.app: must be an application's client_id")
    when = [key for key in ("probability", "every", "times") if key in item]
    if len(when) > 1:
        raise RuleError(f"{at}.{when[1]}: give one of probability, every, times")
    probability = _probability(item, at)
    if "seed" in item and probability is None:
        raise RuleError(f"{at}.seed: goes with probability")
    seed = item.get("seed", 0)
    if not _is_int(seed):
        raise RuleError(f"{at}.seed: must be an integer")
    error = item.get("error")
    if error is not None and error not in ERRORS:
        raise RuleError(f"{at}.error: unknown error {error!r}")
    delay = _delay(item.get("delay_ms"), f"{at}.delay_ms")
    if error is None and delay is None:
        raise RuleError(f"{at}: give error, delay_ms or both")
    return Rule(
        method=method.strip().lower(),
        user=user,
        app=app,
        probability=probability,
        seed=int(seed),
        every=_positive(item, "every", at),
        times=_positive(item, "times", at),
        error=error,
        delay_ms=delay,
        source=dict(item),
    )


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return (_is_int(value) or isinstance(value, float)) and math.isfinite(value)


def _positive(item: dict[str, Any], key: str, at: str) -> int | None:
    value = item.get(key)
    if value is None:
        return None
    if not _is_int(value) or value < 1:
        raise RuleError(f"{at}.{key}: must be a whole number of at least 1")
    return int(value)


def _probability(item: dict[str, Any], at: str) -> float | None:
    value = item.get("probability")
    if value is None:
        return None
    if not _is_number(value) or not 0 <= value <= 1:
        raise RuleError(f"{at}.probability: must be a number from 0 to 1")
    return float(value)


def _delay(value: Any, at: str) -> tuple[float, float] | None:
    if value is None:
        return None
    bounds = value if isinstance(value, list) else [value, value]
    if len(bounds) != 2 or not all(_is_number(bound) for bound in bounds):
        raise RuleError(f"{at}: must be milliseconds, a number or [min, max]")
    low, high = float(bounds[0]), float(bounds[1])
    if not 0 <= low <= high <= MAX_DELAY_MS:
        raise RuleError(f"{at}: must be within 0 to {MAX_DELAY_MS} ms, min before max")
    return low, high
