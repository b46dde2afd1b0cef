"""Primitive types of FHIR R4 on plain JSON values (基础数据类型校验).

One checker per primitive type name: it returns ``None`` when a JSON value is
a valid value of the type, else ``(issue code, message)``. The FHIR JSON rules
are followed where ``fhir.resources`` is lax: ``"true"`` is not a boolean,
``1.0`` is not an integer, a decimal must be a JSON number, a full date's day
must exist, ``base64Binary`` is checked, the narrative ``div`` starts with ``<div``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import Any

__all__ = ["PRIMITIVES", "Checker"]


# ---------------------------------------------------------------------------
# Primitive types
# ---------------------------------------------------------------------------

#: A checker returns ``None`` when the value is fine, else ``(code, message)``.
Checker = Callable[[Any], "tuple[str, str] | None"]

_YEAR = r"([0-9]([0-9]([0-9][1-9]|[1-9]0)|[1-9]00)|[1-9]000)"
_TZ = r"(Z|(\+|-)((0[0-9]|1[0-3]):[0-5][0-9]|14:00))"
_TIME = r"([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)(\.[0-9]+)?"
_DATE_RE = re.compile(_YEAR + r"(-(0[1-9]|1[0-2])(-(0[1-9]|[1-2][0-9]|3[0-1]))?)?")
_DATETIME_RE = re.compile(
    _YEAR + r"(-(0[1-9]|1[0-2])(-(0[1-9]|[1-2][0-9]|3[0-1])(T" + _TIME + _TZ + r")?)?)?"
)
_INSTANT_RE = re.compile(_YEAR + r"-(0[1-9]|1[0-2])-(0[1-9]|[1-2][0-9]|3[0-1])T" + _TIME + _TZ)
_TIME_RE = re.compile(_TIME)
_CODE_RE = re.compile(r"[^\s]+( [^\s]+)*")
_ID_RE = re.compile(r"[A-Za-z0-9\-.]{1,64}")
_URI_RE = re.compile(r"\S+")
_OID_RE = re.compile(r"urn:oid:[0-2](\.(0|[1-9][0-9]*))+")
_UUID_RE = re.compile(r"urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_B64_RE = re.compile(r"[A-Za-z0-9+/]*={0,2}")
_WS_RE = re.compile(r"\s+")
_DAYS = (0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)
_MAX_STRING = 1024 * 1024
_INT_MIN, _INT_MAX = -(2**31), 2**31 - 1


def _real_day(value: str) -> bool:
    """A full date's day exists in its month (2023-02-29 does not)."""
    if len(value) < 10:
        return True
    year, month, day = int(value[0:4]), int(value[5:7]), int(value[8:10])
    if day <= 28:
        return True
    if month == 2 and day == 29:
        return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
    return day <= _DAYS[month]


_NOT_STRING = ("structure", "value must be a JSON string")
_EMPTY = ("value", "value must not be an empty string")


def _regex_checker(regex: re.Pattern[str], what: str, dates: bool = False) -> Checker:
    match = regex.fullmatch
    bad = ("value", f"value is not a valid {what}")

    def check(value: Any) -> tuple[str, str] | None:
        if type(value) is not str:
            return _NOT_STRING
        if match(value) is None:
            return bad
        if dates and not _real_day(value):
            return bad
        return None

    return check


def _check_string(value: Any) -> tuple[str, str] | None:
    if type(value) is not str:
        return _NOT_STRING
    if not value:
        return _EMPTY
    if len(value) > _MAX_STRING:
        return ("value", "value is longer than 1,048,576 characters")
    return None


def _check_boolean(value: Any) -> tuple[str, str] | None:
    if value is True or value is False:
        return None
    return ("structure", "value must be a JSON boolean (true or false)")


def _int_checker(low: int, what: str) -> Checker:
    bad_type = ("structure", f"value must be a JSON number without fraction ({what})")
    bad_range = ("value", f"value is out of range for {what}")

    def check(value: Any) -> tuple[str, str] | None:
        if type(value) is not int:
            return bad_type
        if value < low or value > _INT_MAX:
            return bad_range
        return None

    return check


def _check_decimal(value: Any) -> tuple[str, str] | None:
    kind = type(value)
    if kind is int:
        return None
    if kind is float and math.isfinite(value):
        return None
    return ("structure", "value must be a JSON number (decimal)")


def _check_base64(value: Any) -> tuple[str, str] | None:
    if type(value) is not str:
        return _NOT_STRING
    packed = _WS_RE.sub("", value)
    if not packed or len(packed) % 4 or _B64_RE.fullmatch(packed) is None:
        return ("value", "value is not valid base64")
    return None


def _check_xhtml(value: Any) -> tuple[str, str] | None:
    if type(value) is not str:
        return _NOT_STRING
    if not value.lstrip().startswith("<div"):
        return ("value", "narrative must be an XHTML <div> element")
    return None


PRIMITIVES: dict[str, Checker] = {
    "boolean": _check_boolean,
    "string": _check_string,
    "markdown": _check_string,
    "code": _regex_checker(_CODE_RE, "code"),
    "id": _regex_checker(_ID_RE, "id (1-64 of A-Z a-z 0-9 - .)"),
    "uri": _regex_checker(_URI_RE, "uri"),
    "url": _regex_checker(_URI_RE, "url"),
    "canonical": _regex_checker(_URI_RE, "canonical"),
    "oid": _regex_checker(_OID_RE, "oid"),
    "uuid": _regex_checker(_UUID_RE, "uuid"),
    "date": _regex_checker(_DATE_RE, "date (YYYY, YYYY-MM or YYYY-MM-DD)", dates=True),
    "dateTime": _regex_checker(
        _DATETIME_RE, "dateTime (YYYY[-MM[-DD[Thh:mm:ss[.s]+zz:zz]]])", dates=True
    ),
    "instant": _regex_checker(_INSTANT_RE, "instant (YYYY-MM-DDThh:mm:ss[.s]+zz:zz)", True),
    "time": _regex_checker(_TIME_RE, "time (hh:mm:ss)"),
    "integer": _int_checker(_INT_MIN, "integer"),
    "unsignedInt": _int_checker(0, "unsignedInt"),
    "positiveInt": _int_checker(1, "positiveInt"),
    "decimal": _check_decimal,
    "base64Binary": _check_base64,
    "xhtml": _check_xhtml,
}
