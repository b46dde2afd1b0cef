"""Masking of personal data for messages and logs (4.3, 9.3).

Every message and log line that needs to point at a person uses these
helpers, never the raw value.
"""

from __future__ import annotations


def mask_id(value: object) -> str:
    """Mask a resident ID number: keep the first 4 and last 4 characters.

    ``'36010220100101123X'`` → ``'3601**********123X'``. Anything too short
    to mask safely is replaced by stars entirely.
    """
    s = "" if value is None else str(value).strip()
    if len(s) <= 8:
        return "*" * len(s) if s else "(empty)"
    return s[:4] + "*" * (len(s) - 8) + s[-4:]


def mask_name(value: object) -> str:
    """Mask a person's name: keep the first character only (``张**``)."""
    s = "" if value is None else str(value).strip()
    if not s:
        return "(empty)"
    return s[0] + "*" * max(1, len(s) - 1)


def mask_phone(value: object) -> str:
    """Mask a phone number: keep the last 4 digits."""
    s = "" if value is None else str(value).strip()
    if len(s) <= 4:
        return "*" * len(s) if s else "(empty)"
    return "*" * (len(s) - 4) + s[-4:]
