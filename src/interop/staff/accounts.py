"""Accounts of the staff register: passwords, lockout, personal API tokens, console sessions.

A password is kept as an argon2id hash (argon2-cffi). After :data:`MAX_FAILURES` wrong
passwords in a row the account is locked for :data:`LOCK_SECONDS`; a right password during
the lock is refused as well, so guessing gains nothing. Tokens and session cookies are random
secrets of 256 bits of which only the SHA-256 is stored: a stolen archive holds no usable
credential. Every check names the person only by staff id.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from interop._errors import AuthenticationError, StaffError
from interop.i18n import N_
from interop.staff.first_password import retire
from interop.staff.register import Register, SignedIn

if TYPE_CHECKING:
    from interop.store.archive import Archive

__all__ = ["LOCK_SECONDS", "MAX_FAILURES", "TOKEN_PREFIX", "Accounts", "create_first_admin"]

MAX_FAILURES = 5
LOCK_SECONDS = 15 * 60
MIN_PASSWORD = 12
SESSION_SECONDS = 8 * 3600
TOKEN_PREFIX = "itk_"
#: Default life of a personal API token.
TOKEN_DAYS = 90

# Operator-facing messages (English msgids, marked for the catalogue). A failed sign-in
# never says whether the staff id exists.
MSG_BAD_CREDENTIALS = N_("wrong staff id or password")
MSG_LOCKED = N_("the account is locked after repeated failed sign-ins; try again later")
MSG_SHORT = N_("a password has at least {n} characters")
MSG_NO_TOKEN = N_("no valid API token (INTEROP_TOKEN or Authorization: Bearer)")
MSG_TOKEN_EXPIRED = N_("the API token has expired or was revoked")
MSG_SESSION_ENDED = N_("the session has ended; sign in again")

_HASHER = PasswordHasher()  # argon2id with the library's current parameters (RFC 9106)


def _sha(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class Accounts:
    """Passwords, tokens and sessions of the register in one archive."""

    def __init__(
        self,
        archive: Archive,
        *,
        clock: Callable[[], float] = time.time,
        today: dt.date | None = None,
    ) -> None:
        self.register = Register(archive, today=today)
        self.store = self.register.store
        self._clock = clock

    def _stamp(self) -> str:
        return dt.datetime.fromtimestamp(self._clock(), dt.UTC).isoformat(timespec="seconds")

    # -- passwords ------------------------------------------------------------

    def set_password(self, staff_id: str, password: str) -> None:
        self.register.get(staff_id)
        if len(password) < MIN_PASSWORD:
            raise StaffError(MSG_SHORT.format(n=MIN_PASSWORD), code="E808")
        self.store.set_password(staff_id, _HASHER.hash(password), self._stamp())
        # A password of one's own: the initial administrator's generated one is used up.
        retire(self.register.store.archive, staff_id)

    def authenticate(self, staff_id: str, password: str) -> SignedIn:
        """The person whose password this is; lockout after repeated failures."""
        account = self.store.account(staff_id)
        now = self._clock()
        if account is None:
            _HASHER.hash(password)  # the same work as for a known id: no timing oracle
            raise AuthenticationError(MSG_BAD_CREDENTIALS, code="E811")
        stored, failures, locked_until = account
        if locked_until is not None and now < locked_until:
            raise AuthenticationError(MSG_LOCKED, code="E812")
        try:
            _HASHER.verify(stored, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            failures += 1
            lock = now + LOCK_SECONDS if failures >= MAX_FAILURES else None
            self.store.set_failures(staff_id, 0 if lock else failures, lock)
            raise AuthenticationError(
                MSG_LOCKED if lock else MSG_BAD_CREDENTIALS, code="E812" if lock else "E811"
            ) from None
        roles = self.register.active_roles(staff_id)
        if not roles:
            raise AuthenticationError(MSG_BAD_CREDENTIALS, code="E811")
        if failures or locked_until is not None:
            self.store.set_failures(staff_id, 0, None)
        if _HASHER.check_needs_rehash(stored):
            self.store.set_password(staff_id, _HASHER.hash(password), self._stamp())
        return SignedIn(staff_id, roles, "password")

    def change_password(self, staff_id: str, old: str, new: str) -> None:
        self.authenticate(staff_id, old)
        self.set_password(staff_id, new)

    # -- personal API tokens --------------------------------------------------

    def issue_token(
        self, staff_id: str, *, label: str = "cli", days: int = TOKEN_DAYS
    ) -> tuple[str, dict[str, Any]]:
        """A new token: (the secret, shown once; its stored row without the hash)."""
        if not self.register.active_roles(staff_id):
            raise StaffError(f"staff member {staff_id} is not active", code="E806")
        if not 0 < days <= 366:
            raise StaffError("a token lives 1 to 366 days", code="E809")
        secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
        row = {
            "id": "T-" + secrets.token_hex(8),
            "staff_id": staff_id,
            "secret_sha256": _sha(secret),
            "label": label,
            "created_at": self._stamp(),
            "expires_at": self._clock() + days * 86400,
            "revoked_at": None,
            "last_used_at": None,
        }
        self.store.insert_token(row)
        shown = {k: v for k, v in row.items() if k != "secret_sha256"}
        return secret, shown

    def by_token(self, secret: str | None) -> SignedIn:
        """The person a bearer token belongs to (401 when none, expired or revoked)."""
        if not secret or not secret.startswith(TOKEN_PREFIX):
            raise AuthenticationError(MSG_NO_TOKEN, code="E813")
        row = self.store.token(_sha(secret))
        if row is None:
            raise AuthenticationError(MSG_NO_TOKEN, code="E813")
        if row["revoked_at"] is not None or self._clock() >= row["expires_at"]:
            raise AuthenticationError(MSG_TOKEN_EXPIRED, code="E814")
        roles = self.register.active_roles(row["staff_id"])
        if not roles:
            raise AuthenticationError(MSG_TOKEN_EXPIRED, code="E814")
        return SignedIn(row["staff_id"], roles, "token")

    def revoke_token(self, token_id: str) -> str:
        owner = self.store.revoke_token(token_id, self._stamp())
        if owner is None:
            raise StaffError(f"no token {token_id}", code="E809")
        return owner

    # -- console sessions -----------------------------------------------------

    def start_session(self, person: SignedIn) -> tuple[str, str]:
        """A new console session: (cookie secret, CSRF token)."""
        secret, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        now = self._clock()
        self.store.insert_session(
            {
                "secret_sha256": _sha(secret),
                "staff_id": person.staff_id,
                "csrf": csrf,
                "created_at": now,
                "expires_at": now + SESSION_SECONDS,
            }
        )
        return secret, csrf

    def by_session(self, secret: str | None) -> tuple[SignedIn, str]:
        """The person and CSRF token of a session cookie."""
        row = self.store.session(_sha(secret)) if secret else None
        if row is None or self._clock() >= row["expires_at"]:
            raise AuthenticationError(MSG_SESSION_ENDED, code="E815")
        roles = self.register.active_roles(row["staff_id"])
        if not roles:
            raise AuthenticationError(MSG_SESSION_ENDED, code="E815")
        return SignedIn(row["staff_id"], roles, "session"), str(row["csrf"])

    def end_session(self, secret: str) -> None:
        self.store.delete_session(_sha(secret))


def create_first_admin(
    archive: Archive,
    staff_id: str,
    name: str,
    password: str,
    *,
    roles: list[str] = (),  # type: ignore[assignment]
) -> dict[str, Any]:
    """The first administrator, on the machine itself (``interop staff add --admin``; also
    for ``interop init``). Refused once the register has anyone: later people are added by a
    signed-in administrator."""
    register = Register(archive)
    if register.store.count() > 0:
        raise StaffError(
            "the register already has staff: a signed-in administrator adds people",
            code="E807",
        )
    person = register.add(staff_id, name, sorted({"admin", *roles}))
    Accounts(archive).set_password(staff_id, password)
    return person
