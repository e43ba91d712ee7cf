"""Field values between REST and storage: PHP casts and date parsing on the way in (`to_column`), and
the printers that show a stored value as a portal does (contract crud.md C4) on the way out.

A field's ``type`` decides everything here; the same coercions serve list filters (crm.listing).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from datetime import datetime
from typing import Any

from b24local.clock import iso_local
from b24local.crm.values import php_float, php_int
from b24local.model.fields import Field

#: Field types holding the id of another record: 0 or less means "none" and is stored as NULL.
REFERENCE_TYPES = frozenset({"user", "crm_company", "crm_contact", "crm_lead"})
#: Field types kept as text; an empty filter value on them also matches ''.
TEXT_TYPES = frozenset({"string", "char", "crm_status", "crm_currency", "date"})


class InvalidValue(ValueError):
    """A value that cannot be converted to its field's type; the message completes a sentence."""


# Value conversion --------------------------------------------------------------------------------


_DMY = re.compile(r"^(\d{1,2})\.(\d{1,2})\.(\d{4})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2}))?)?$")


def _show(value: Any) -> str:
    return f"'{value[:60]}'" if isinstance(value, str) else repr(value)[:60]


def parse_datetime(value: Any) -> datetime:
    """``2024-05-23``, ``2024-05-23T18:18:25+02:00``, ``2024-05-23 18:18:25``, ``23.05.2024 18:18``…

    A value without a zone is in the server's local time; a date alone is its midnight.
    """
    if not isinstance(value, str):
        raise InvalidValue(f"{_show(value)} is not a date")
    text = value.strip()
    dmy = _DMY.match(text)
    try:
        if dmy:
            day, month, year, hour, minute, second = (int(g) if g else 0 for g in dmy.groups())
            return datetime(year, month, day, hour, minute, second)
        if text.endswith(("z", "Z")):
            text = text[:-1] + "+00:00"
        return datetime.fromisoformat(text)
    except ValueError:
        raise InvalidValue(f"{_show(value)} is not a date") from None


def parse_date(value: Any) -> str:
    """A date as stored: ``YYYY-MM-DD`` (the date as written, whatever the zone of a datetime)."""
    return parse_datetime(value).date().isoformat()


def parse_timestamp(value: Any) -> int:
    """A datetime as stored: Unix seconds."""
    moment = parse_datetime(value)
    try:
        return int(moment.timestamp())
    except (OverflowError, OSError, ValueError):
        raise InvalidValue(f"{_show(value)} is out of range") from None


def php_string(value: Any) -> str:
    """PHP's string cast of a scalar; NUL, arrays and non-finite numbers are refused."""
    if isinstance(value, str):
        if "\x00" in value:  # PostgreSQL text cannot hold it: refused on both backends alike
            raise InvalidValue("the text contains a NUL character")
        return value
    if isinstance(value, bool):
        return "1" if value else ""
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float) and math.isfinite(value):
        return str(int(value)) if value.is_integer() else repr(value)
    raise InvalidValue(f"{_show(value)} is not a string")


_YES = frozenset({"Y", "y", "1", "true", "TRUE", "True"})
_NO = frozenset({"N", "n", "0", "false", "FALSE", "False", ""})


def php_char(value: Any) -> str:
    """A Y/N field: the spellings of yes and no a portal accepts."""
    if value is True or (isinstance(value, int) and not isinstance(value, bool) and value == 1):
        return "Y"
    if value is False or (isinstance(value, int) and not isinstance(value, bool) and value == 0):
        return "N"
    if isinstance(value, str) and value in _YES:
        return "Y"
    if isinstance(value, str) and value in _NO:
        return "N"
    raise InvalidValue(f"{_show(value)} is neither Y nor N")


def php_double(value: Any) -> float:
    """A finite number; a string may use spaces and a decimal comma."""
    if isinstance(value, str):  # "15 000,50" as a portal accepts it
        value = value.replace(" ", "").replace(",", ".")
    elif not isinstance(value, (int, float)) or isinstance(value, bool):
        raise InvalidValue(f"{_show(value)} is not a number")
    number = php_float(value)
    if not math.isfinite(number):
        raise InvalidValue(f"{_show(value)} is not a finite number")
    return number


def to_column(fld: Field, value: Any) -> Any:
    """An input value as its column stores it; None clears. Raises :class:`InvalidValue`."""
    if value is None:
        return None
    kind = fld.type
    if isinstance(value, (list, dict)):
        raise InvalidValue("an array is not allowed here")
    if kind in REFERENCE_TYPES:
        number = php_int(value)
        return number if number > 0 else None
    if kind == "integer":
        return None if value == "" else php_int(value)
    if kind == "crm_category":  # a pipeline: 0 is the default one
        number = php_int(value)
        if number < 0:
            raise InvalidValue(f"{_show(value)} is not a pipeline ID")
        return number
    if kind == "double":
        return None if value == "" else php_double(value)
    if kind == "char":
        return php_char(value)
    if kind == "date":
        return None if value == "" else parse_date(value)
    if kind == "datetime":
        return None if value == "" else parse_timestamp(value)
    return php_string(value)


# Printers ----------------------------------------------------------------------------------------


def to_output(fld: Field, value: Any) -> Any:
    """A stored value as a portal prints it (C4): ids and numbers as strings, dates ISO 8601."""
    return printer_for(fld.type)(value)


def _date_out(value: Any) -> Any:
    if value is None or value == "":
        return None  # contract C4: empty values are null (a portal's crm.lead.get example shows "")
    try:
        return datetime.fromisoformat(str(value)[:10]).astimezone().isoformat(timespec="seconds")
    except (ValueError, OverflowError, OSError):
        return str(value)


def _datetime_out(value: Any) -> Any:
    if value is None or value == "":
        return None
    try:
        return iso_local(float(value))
    except (ValueError, OverflowError, OSError):
        return str(value)


def _number_out(value: Any) -> Any:
    return None if value is None else str(value)


def _double_out(value: Any) -> Any:
    if value is None:
        return None
    try:
        return f"{float(value):.2f}"
    except (TypeError, ValueError):
        return str(value)


def text_out(value: Any) -> Any:
    return value if value is None or isinstance(value, str) else str(value)


def printer_for(kind: str) -> Callable[[Any], Any]:
    """The function that prints a stored value of field type ``kind`` (chosen once per shape)."""
    if kind == "date":
        return _date_out
    if kind == "datetime":
        return _datetime_out
    if kind in ("integer", "crm_category") or kind in REFERENCE_TYPES:
        return _number_out
    if kind == "double":
        return _double_out
    return text_out


def is_empty(value: Any) -> bool:
    """No value: None, "", an empty array."""
    return value is None or value in ("", [], {})
