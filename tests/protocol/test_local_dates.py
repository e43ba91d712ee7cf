"""Dates in the server's local time zone (the ``time`` envelope and every datetime field)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import datetime

import pytest

from b24local.clock import _iso_second, iso_local


@pytest.fixture
def zone(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    yield
    monkeypatch.undo()
    time.tzset()
    _iso_second.cache_clear()


def _use(monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    monkeypatch.setenv("TZ", name)
    time.tzset()
    _iso_second.cache_clear()


@pytest.mark.parametrize(
    ("name", "ts", "expected"),
    [
        ("Europe/Moscow", 1795214289, "2026-11-21T01:38:09+03:00"),
        ("America/St_Johns", 1700000000, "2023-11-14T18:43:20-03:30"),
        ("America/St_Johns", 1690000000, "2023-07-22T01:56:40-02:30"),  # daylight saving time
        ("Asia/Kolkata", 0, "1970-01-01T05:30:00+05:30"),
        ("UTC", 1e9 + 0.9, "2001-09-09T01:46:40+00:00"),  # fractions of a second are cut, not rounded
        ("Africa/Monrovia", -2208988800, "1899-12-31T23:16:52-00:43:08"),  # an offset with seconds
    ],
)
def test_iso_local(zone: None, monkeypatch: pytest.MonkeyPatch, name: str, ts: float, expected: str) -> None:
    _use(monkeypatch, name)
    assert iso_local(ts) == expected


def test_same_as_datetime_across_zones_and_years(zone: None, monkeypatch: pytest.MonkeyPatch) -> None:
    """The format-string path prints what datetime's ``astimezone().isoformat()`` prints."""
    seconds = [-62135596800 + 86400 * 400, -3000000000, 0, 1710000000, 1711846800, 253402300799 - 86400 * 400]
    seconds += list(range(-2208988800, 4102444800, 86400 * 997 + 3607))
    for name in ("Europe/Amsterdam", "America/New_York", "Asia/Kolkata", "Pacific/Kiritimati"):
        _use(monkeypatch, name)
        for second in seconds:
            assert _iso_second(second) == datetime.fromtimestamp(second).astimezone().isoformat(
                timespec="seconds"
            ), (name, second)
