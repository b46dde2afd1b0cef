"""The staff register (人员名册): who works in the programme, in which roles, with
which qualifications and screening (5.2), and from when to when.

A role is granted only with what the standard asks of it: a worker or counsellor
(服务人员) holds a qualification and a passed minor-contact screening that has not
expired (R-5.2.2-01, R-5.2.2-03); a supervisor (督导人员) holds a mid-level social-work
certificate or a degree in social work or psychology, and supervision experience
(R-5.2.3-01, R-5.2.3-02). Case records refer to staff by register id; approval
authority comes from here, never from a case record (G-16).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from interop._errors import StaffError
from interop.i18n import N_

if TYPE_CHECKING:
    from interop.store.archive import Archive

__all__ = [
    "QUALIFICATIONS",
    "ROLES",
    "Register",
    "SignedIn",
]

#: Role code → the standard's term (the console shows the Chinese term).
ROLES: dict[str, str] = {
    "worker": "服务人员",
    "counsellor": "心理咨询师",
    "supervisor": "督导人员",
    "org-lead": "机构负责人",
    "commissioner-viewer": "购买方（查看）",
    "admin": "系统管理员",
}

#: Qualification codes (cs:qualification, R-5.2.2-01) and the experience records (R-5.2.3-02).
QUALIFICATIONS: dict[str, str] = {
    "sw-assistant": "助理社会工作师",
    "sw-mid": "社会工作师",
    "sw-senior": "高级社会工作师",
    "counselling-cert": "心理咨询相关证书",
    "other-cert": "其他相关资质证书",
    "degree-sw": "社会工作专业本科及以上",
    "degree-psych": "心理学专业本科及以上",
    "degree-related": "相关专业本科及以上",
    "child-experience": "儿童心理服务工作经历",
    "supervision-experience": "督导经历",
}

_SUPERVISOR_LEVEL = frozenset({"sw-mid", "sw-senior", "degree-sw", "degree-psych"})
#: How long a minor-contact screening counts (R-5.2.2-03: default 12 months).
SCREENING_VALID_DAYS = 365

# Operator-facing messages of this module (English; the catalogue translates them).
MSG_UNKNOWN_ROLE = N_("unknown role '{role}' (roles: {roles})")
MSG_UNKNOWN_QUALIFICATION = N_("unknown qualification '{code}' (codes: {codes})")
MSG_BAD_DATE = N_("{what}: '{value}' is not a date YYYY-MM-DD")
MSG_NO_STAFF = N_("no staff member {staff_id} in the register")
MSG_TAKEN = N_("staff id {staff_id} is already in the register")
MSG_WORKER_NEEDS = N_(
    "role {role} needs a qualification (5.2.2, R-5.2.2-01) and a passed minor-contact "
    "screening of the last 12 months (R-5.2.2-03)"
)
MSG_SUPERVISOR_NEEDS = N_(
    "role supervisor needs a social-work (mid-level or above) certificate or a degree in social "
    "work or psychology, and supervision experience (5.2.3, R-5.2.3-01/02)"
)
MSG_NO_ROLE = N_("a staff member needs at least one role")
MSG_BAD_ID = N_("a staff id is 1 to 64 letters, digits, '-', '_' or '.'")


@dataclass(frozen=True)
class SignedIn:
    """The authenticated person an action is taken by (session or API token)."""

    staff_id: str
    roles: frozenset[str]
    via: str  # session | token | local (the machine's own operator, for first setup)

    def has(self, *roles: str) -> bool:
        return bool(self.roles.intersection(roles))


def parse_date(value: str, what: str) -> str:
    try:
        return dt.date.fromisoformat(value).isoformat()
    except ValueError:
        raise StaffError(MSG_BAD_DATE.format(what=what, value=value), code="E801") from None


def _check_id(staff_id: str) -> None:
    ok = 0 < len(staff_id) <= 64 and all(c.isalnum() or c in "-_." for c in staff_id)
    if not ok or not staff_id.isascii():
        raise StaffError(MSG_BAD_ID, code="E801")


def check_roles(
    roles: list[str],
    qualifications: list[dict[str, Any]],
    screening: list[dict[str, Any]],
    today: dt.date,
) -> None:
    """Refuse a role the person's qualifications and screening do not carry (5.2)."""
    if not roles:
        raise StaffError(MSG_NO_ROLE, code="E803")
    for role in roles:
        if role not in ROLES:
            raise StaffError(
                MSG_UNKNOWN_ROLE.format(role=role, roles=", ".join(ROLES)), code="E803"
            )
    held = {q["kind"] for q in qualifications}
    if {"worker", "counsellor"} & set(roles):
        earliest = (today - dt.timedelta(days=SCREENING_VALID_DAYS)).isoformat()
        screened = any(
            s.get("result") == "passed" and str(s.get("date", "")) >= earliest for s in screening
        )
        has_qualification = bool(held - {"child-experience", "supervision-experience"})
        if not (has_qualification and screened):
            role = next(r for r in roles if r in ("worker", "counsellor"))
            raise StaffError(MSG_WORKER_NEEDS.format(role=role), code="E804")
    if "supervisor" in roles and not (
        held & _SUPERVISOR_LEVEL and "supervision-experience" in held
    ):
        raise StaffError(MSG_SUPERVISOR_NEEDS, code="E804")


def qualification(code: str, date: str, reference: str | None = None) -> dict[str, Any]:
    """One qualification record (code, date obtained, certificate number or issuer)."""
    if code not in QUALIFICATIONS:
        raise StaffError(
            MSG_UNKNOWN_QUALIFICATION.format(code=code, codes=", ".join(QUALIFICATIONS)),
            code="E802",
        )
    out: dict[str, Any] = {"kind": code, "date": parse_date(date, "qualification date")}
    if reference:
        out["reference"] = reference
    return out


def screening(date: str, result: str, authority: str | None = None) -> dict[str, Any]:
    """One minor-contact screening (从业禁止查询, R-5.2.2-03): date, result, authority."""
    if result not in ("passed", "failed"):
        raise StaffError("screening result is passed or failed", code="E802")
    out: dict[str, Any] = {"date": parse_date(date, "screening date"), "result": result}
    if authority:
        out["authority"] = authority
    return out


class Register:
    """The staff register of one archive."""

    def __init__(self, archive: Archive, *, today: dt.date | None = None) -> None:
        # imported here: the roles and codes above are read without the database library
        from interop.store.staff import StaffStore

        self.store = StaffStore(archive)
        self._today = today

    def today(self) -> dt.date:
        return self._today or dt.date.today()

    def _stamp(self) -> str:
        return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")

    def add(
        self,
        staff_id: str,
        name: str,
        roles: list[str],
        *,
        qualifications: list[dict[str, Any]] = (),  # type: ignore[assignment]
        screening: list[dict[str, Any]] = (),  # type: ignore[assignment]
        active_from: str | None = None,
    ) -> dict[str, Any]:
        _check_id(staff_id)
        if not name.strip():
            raise StaffError("a staff member needs a name", code="E801")
        check_roles(roles, list(qualifications), list(screening), self.today())
        stamp = self._stamp()
        person = {
            "id": staff_id,
            "name": name.strip(),
            "roles": sorted(set(roles)),
            "qualifications": list(qualifications),
            "screening": list(screening),
            "active_from": active_from or self.today().isoformat(),
            "active_until": None,
            "created_at": stamp,
            "updated_at": stamp,
        }
        if not self.store.insert(person):
            raise StaffError(MSG_TAKEN.format(staff_id=staff_id), code="E805")
        return person

    def get(self, staff_id: str) -> dict[str, Any]:
        person = self.store.get(staff_id)
        if person is None:
            raise StaffError(MSG_NO_STAFF.format(staff_id=staff_id), code="E806")
        return person

    def all(self) -> list[dict[str, Any]]:
        return self.store.all()

    def is_active(self, person: dict[str, Any]) -> bool:
        today = self.today().isoformat()
        until = person.get("active_until")
        return bool(person["active_from"] <= today and (until is None or today <= until))

    def active_roles(self, staff_id: str) -> frozenset[str]:
        """The roles a person holds today (none when unknown or outside the active period)."""
        person = self.store.get(staff_id)
        if person is None or not self.is_active(person):
            return frozenset()
        return frozenset(person["roles"])

    def set_roles(self, staff_id: str, roles: list[str]) -> dict[str, Any]:
        person = self.get(staff_id)
        check_roles(roles, person["qualifications"], person["screening"], self.today())
        person["roles"] = sorted(set(roles))
        person["updated_at"] = self._stamp()
        self.store.update(person)
        return person

    def record(
        self,
        staff_id: str,
        *,
        qualifications: list[dict[str, Any]] = (),  # type: ignore[assignment]
        screening: list[dict[str, Any]] = (),  # type: ignore[assignment]
    ) -> dict[str, Any]:
        """Add qualifications or screenings to a person's entry (history is kept)."""
        person = self.get(staff_id)
        person["qualifications"] = [*person["qualifications"], *qualifications]
        person["screening"] = [*person["screening"], *screening]
        person["updated_at"] = self._stamp()
        self.store.update(person)
        return person

    def deactivate(self, staff_id: str, until: str | None = None) -> dict[str, Any]:
        """End a person's active period (the entry stays); their tokens and sessions end."""
        person = self.get(staff_id)
        last = parse_date(until, "--until") if until else self.today().isoformat()
        person["active_until"] = last
        person["updated_at"] = self._stamp()
        self.store.update(person)
        if last <= self.today().isoformat():
            self.store.revoke_tokens_of(staff_id, self._stamp())
        return person

    def cases_of(self, staff_id: str) -> list[str]:
        return self.store.cases_of(staff_id)
