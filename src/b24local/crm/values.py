"""PHP value casts: field and filter values arrive as JSON values or as strings and are coerced as a
portal does. Reading the parameters themselves (by name, as arrays) is methods/decode.py's business."""

from __future__ import annotations

import math
import re
from typing import Any

_LEADING_INT = re.compile(r"^[ \t\n\r\v\f]*([+-]?\d+)")
_LEADING_NUMBER = re.compile(r"^[ \t\n\r\v\f]*([+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?)")
_INT_MIN, _INT_MAX = -(2**63), 2**63 - 1


def php_int(value: Any) -> int:
    """PHP ``(int)``: ``"12"`` → 12, ``"12abc"`` → 12, ``"abc"``/``""``/None → 0, 5.9 → 5, True → 1."""
    if value is None or value is False:
        return 0
    if value is True:
        return 1
    if isinstance(value, int):
        return max(_INT_MIN, min(_INT_MAX, value))
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            return 0
        return max(_INT_MIN, min(_INT_MAX, int(value)))
    if isinstance(value, str):
        number = _LEADING_NUMBER.match(value)
        if number is None:
            return 0
        text = number.group(1)
        if number.group(3) is None and number.group(4) is None:
            negative, digits = text.startswith("-"), text.lstrip("+-").lstrip("0") or "0"
            if len(digits) > 19:  # past int64 anyway, and int() refuses more than 4,300 digits
                return _INT_MIN if negative else _INT_MAX
            return max(_INT_MIN, min(_INT_MAX, -int(digits) if negative else int(digits)))
        return php_int(float(text))
    if isinstance(value, (list, dict)):
        return 1 if value else 0
    return 0


def php_float(value: Any) -> float:
    if value is None or value is False:
        return 0.0
    if value is True:
        return 1.0
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        number = _LEADING_NUMBER.match(value)
        return float(number.group(1)) if number else 0.0
    return 0.0


def is_numeric_id(value: Any) -> bool:
    """An id given as an integer, an integral float or a decimal-digit string (E12's "numeric")."""
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return True
    if isinstance(value, float):
        return value.is_integer()
    if isinstance(value, str):
        return bool(re.fullmatch(r"\s*\+?\d+\s*", value))
    return False


def as_php_array(value: Any) -> list[Any] | None:
    """A PHP array's values in order: lists as they are, maps (``{"0": …}``) by their values."""
    if isinstance(value, list):
        return value
    if isinstance(value, dict):
        return list(value.values())
    return None
