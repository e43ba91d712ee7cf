"""A page of a list: what the entity service answers to a list call and the envelope prints."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(slots=True)
class ListPage:
    """The rows plus the paging members of the envelope (contract protocol.md Q1–Q2)."""

    items: list[Any]
    total: int
    next: int | None = None
