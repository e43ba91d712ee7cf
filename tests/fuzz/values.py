"""Odd parameter values: the types a client sends by mistake, and the ones an attacker sends on purpose.

Every value here is JSON-serialisable (form encodings flatten it); byte-level oddities (invalid UTF-8,
broken bodies) are made by the request builders, not here.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from typing import Any

#: Strings that PHP casts, date parsers and SQL builders treat specially.
ODD_STRINGS = (
    "",
    " ",
    "0",
    "-1",
    "12",
    "12abc",
    " 7 ",
    "+5",
    "5.9",
    "1e3",
    "1e999",
    "-1e999",
    "NaN",
    "nan",
    "Infinity",
    "-INF",
    "0x1A",
    "9223372036854775808",
    "-9223372036854775809",
    "1180591620717411303424",  # 2**70
    "Y",
    "N",
    "y",
    "true",
    "false",
    "null",
    "*",
    "%",
    "_",
    "\\",
    "'; DROP TABLE crm_lead; --",
    '"',
    "<item>&amp;</item>",
    "]]>",
    "Привет, мир",
    "😀👍🏽",
    "\u202e\u200b\ufeff",
    "\x00",
    "a\x00b",
    "\x01\x08\x0b\x1f",
    "\ud7ff\ue000\uffff",
    "$result[0]",
    "$result[0][ID]",
    "$result[missing][0][0]",
    "$total[x]",
    "2024-02-30",
    "2024-05-03T17:19:01+03:00",
    "0000-00-00",
    "9999-12-31T23:59:59+14:00",
    "a[b]",
    "[]",
    "{}",
    "&=&=",
)

ODD_NUMBERS = (
    0,
    1,
    -1,
    7,
    2**31,
    2**63 - 1,
    2**63,
    -(2**63) - 1,
    2**70,
    -(2**70),
    0.5,
    -0.0,
    5.9,
    1e308,
    -1e-308,
)


def small_id(rng: random.Random) -> int:
    """An id that often names an existing record (the run seeds a few dozen of each)."""
    return rng.choice((rng.randint(1, 40), rng.randint(1, 40), rng.randint(1, 400)))


def long_string(rng: random.Random) -> str:
    """Up to 32,768 characters (percent-encoded emoji: 400 KB); the body limit has its own generator."""
    size = rng.choice((256, 4_096, 65_536))
    return rng.choice(("x", "я", "😀", "a\x00")) * (size // 2)


def odd_scalar(rng: random.Random) -> Any:
    roll = rng.random()
    if roll < 0.15:
        return rng.choice((None, True, False))
    if roll < 0.4:
        return rng.choice(ODD_NUMBERS)
    if roll < 0.5:
        return small_id(rng)
    if roll < 0.53:
        return long_string(rng)
    if roll < 0.6:
        return str(small_id(rng))
    return rng.choice(ODD_STRINGS)


def odd_value(rng: random.Random, depth: int = 0) -> Any:
    """A scalar, or now and then a small list or map of odd values (two levels at most)."""
    roll = rng.random()
    if depth < 2 and roll < 0.12:
        return [odd_value(rng, depth + 1) for _ in range(rng.randint(0, 4))]
    if depth < 2 and roll < 0.2:
        return {odd_key(rng): odd_value(rng, depth + 1) for _ in range(rng.randint(0, 4))}
    return odd_scalar(rng)


def odd_key(rng: random.Random) -> str:
    return rng.choice(("0", "1", "ID", "id", "", " ", "x", "[", "]", "a[b", "é", "\x00k", "-1", "99"))


@dataclass(frozen=True, slots=True)
class Deep:
    """A value nested deeper than Python's JSON encoder goes: written out as JSON text directly."""

    opening: str
    leaf: str
    closing: str

    def json(self) -> str:
        return self.opening + self.leaf + self.closing


def nested(rng: random.Random, depth: int, leaf: Any = 1) -> Deep:
    """``leaf`` wrapped ``depth`` times in lists and maps (the shapes that reached Python's recursion
    limit and SQLite's expression depth). JSON encodings only."""
    opening, closing = [], []
    for _ in range(depth):
        wrap = ("[", "]") if rng.random() < 0.5 else ('{"0":', "}")
        opening.append(wrap[0])
        closing.append(wrap[1])
    return Deep("".join(opening), json.dumps(leaf), "".join(reversed(closing)))
