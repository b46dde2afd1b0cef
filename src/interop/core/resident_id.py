"""Resident identity card number (公民身份号码, GB 11643-1999).

18 characters: a 6-digit administrative division code (GB/T 2260), the
8-digit birth date, a 3-digit sequence code whose last digit is odd for
men and even for women, and a check character computed with ISO 7064
MOD 11-2 (which may be ``X`` for 10).
"""

from __future__ import annotations

import datetime as dt
import functools
import operator
import unicodedata
from typing import NamedTuple

from interop._errors import ResidentIdError
from interop.core.masking import mask_id
from interop.i18n import N_

# What is wrong with a number, naming it masked (a list's finding puts its column before).
WRONG_LENGTH = N_("resident ID {id} has {length} characters, expected 18")
NOT_DIGITS = N_("resident ID {id} must be 17 digits followed by a digit or X")
NO_BIRTH_DATE = N_("resident ID {id} does not encode a valid birth date")
WRONG_CHECK = N_("resident ID {id} has a wrong check character (GB 11643 MOD 11-2)")

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"
#: What the weighted sum of the digits' ASCII codes exceeds that of the digits by.
_ZEROS = ord("0") * sum(_WEIGHTS)

#: OID of the PRC resident ID number as an identifier system (WS 363 / 2.16.156).
SYSTEM = "urn:oid:2.16.156.10011.1.3"
#: The same identifier as used at HL7 China connectathons; accepted on input.
SYSTEM_ALT = "urn:oid:2.16.840.1.113883.2.23.1.19.1"
SYSTEMS = frozenset({SYSTEM, SYSTEM_ALT})


#: Zero-width characters, the byte-order mark and the bidi controls: never part of a value.
INVISIBLE: dict[int, None] = dict.fromkeys(
    [*range(0x200B, 0x2010), 0x2060, 0xFEFF, 0x061C, *range(0x202A, 0x202F), *range(0x2066, 0x206A)]
)
#: Apostrophes; a leading one is Excel's mark of a cell kept as text.
APOSTROPHES = "'\u2018\u2019`"


def compact(text: str) -> str:
    """An ID or code as compared, however written: NFKC (full-width digits), nothing
    invisible, no spaces, no leading apostrophe."""
    return "".join(unicodedata.normalize("NFKC", text).translate(INVISIBLE).split()).lstrip(
        APOSTROPHES
    )


def normalise(text: str) -> str:
    """:func:`compact`, upper case (the check character ``x`` is ``X``)."""
    return compact(text).upper()


def as_key(cell: str) -> str:
    """A resident ID cell as a match key: stripped, upper case, normalised when not plain."""
    s = cell.strip()
    return s.upper() if s.isascii() and s.isalnum() else normalise(s)


def check_character(first17: str) -> str:
    """The ISO 7064 MOD 11-2 check character of the first 17 digits."""
    if len(first17) != len(_WEIGHTS) or not (first17.isascii() and first17.isdigit()):
        raise ValueError("check_character takes the first 17 digits")
    # (the digits' ASCII codes, summed in C: a large list checks one ID per row)
    return _CHECK[(sum(map(operator.mul, first17.encode(), _WEIGHTS)) - _ZEROS) % 11]


class ResidentId(NamedTuple):
    """A parsed, checked resident ID number.

    (A named tuple: a large list makes one per row, and a tuple is made in a
    third of the time a frozen dataclass takes.)
    """

    value: str
    division: str
    birth_date: dt.date
    sex: str  # GB/T 2261.1: "1" male, "2" female

    @property
    def masked(self) -> str:
        return mask_id(self.value)

    @property
    def province(self) -> str:
        return self.division[:2]


def parse(value: str) -> ResidentId:
    """Parse and check a resident ID number; raise :class:`ResidentIdError`.

    The message names the masked number and what is wrong, never the number.
    """
    s = (value or "").strip().upper()
    if len(s) != 18:
        msg = WRONG_LENGTH.format(id=mask_id(s), length=len(s))
        raise ResidentIdError(msg, code="E121")
    if not (s.isascii() and s[:17].isdigit() and (s[17].isdigit() or s[17] == "X")):
        raise ResidentIdError(NOT_DIGITS.format(id=mask_id(s)), code="E122")
    try:
        birth = _birth_date(s[6:14])
    except ValueError:
        raise ResidentIdError(NO_BIRTH_DATE.format(id=mask_id(s)), code="E123") from None
    if s[17] != check_character(s[:17]):
        raise ResidentIdError(WRONG_CHECK.format(id=mask_id(s)), code="E124")
    sex = "1" if s[16] in "13579" else "2"  # (odd: male)
    return ResidentId(value=s, division=s[:6], birth_date=birth, sex=sex)


@functools.lru_cache(maxsize=8192)  # (a list's children are born on a few thousand days)
def _birth_date(yyyymmdd: str) -> dt.date:
    """The date of eight digits ``YYYYMMDD``; ValueError when there is no such day."""
    return dt.date(int(yyyymmdd[:4]), int(yyyymmdd[4:6]), int(yyyymmdd[6:]))


def is_valid(value: str) -> bool:
    try:
        parse(value)
    except ResidentIdError:
        return False
    return True


def make(division: str, birth_date: dt.date, sex: str, sequence: int) -> str:
    """Build a synthetic, valid resident ID number (for fixtures and tests).

    ``sex`` is GB/T 2261.1 ("1" male, "2" female); ``sequence`` 0..499 picks
    the order code, whose last digit is made odd or even to match the sex.
    """
    if len(division) != 6 or not division.isdigit():
        raise ValueError("division must be a 6-digit GB/T 2260 code")
    order = (sequence % 500) * 2 + (1 if sex == "1" else 0)
    if sex == "2" and order % 2:
        order -= 1
    body = f"{division}{birth_date:%Y%m%d}{order:03d}"
    return body + check_character(body)


def mismatches(
    rid: ResidentId, *, birth_date: str | None, sex: str | None
) -> list[tuple[str, str]]:
    """Compare an ID with a stated birth date (``YYYY-MM[-DD]``) and GB/T 2261.1 sex.

    Returns ``(field, message)`` pairs; each message names both fields.
    """
    out: list[tuple[str, str]] = []
    if birth_date:
        encoded = rid.birth_date.isoformat()
        if not encoded.startswith(birth_date[:10]):
            out.append(
                (
                    "birth_date",
                    f"birth date does not match the birth date encoded in resident ID {rid.masked}",
                )
            )
    if sex in ("1", "2") and sex != rid.sex:
        out.append(("sex", f"sex does not match the sex encoded in resident ID {rid.masked}"))
    return out
