"""The person a command acts for: the owner of the personal API token it was given
(``INTEROP_TOKEN``), never a typed staff id. Their roles come from the staff register and
are checked against the one policy table (:mod:`interop.staff.policy`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from interop._errors import AccessDenied
from interop.i18n import N_
from interop.staff.accounts import Accounts
from interop.staff.policy import case_scope, require
from interop.staff.register import Register, SignedIn

if TYPE_CHECKING:
    from interop.store.archive import Archive

__all__ = ["act_as", "authority", "may_see_case"]

MSG_NOT_ON_CASE = N_("{who} is not staff of case {case} and may not act on it")


def may_see_case(archive: Archive, person: SignedIn, case_number: str) -> bool:
    """Whether ``person`` sees the case: overseers all, others the cases they are staff on."""
    return case_scope(person) or case_number in Register(archive).cases_of(person.staff_id)


def act_as(
    archive: Archive, token: str | None, action: str, *, case: str | None = None
) -> SignedIn:
    """The signed-in person of a bearer ``token`` if they may take ``action`` (on ``case``)."""
    person = Accounts(archive).by_token(token)
    require(person, action)
    if case is not None and not may_see_case(archive, person, case):
        raise AccessDenied(MSG_NOT_ON_CASE.format(who=person.staff_id, case=case), code="E822")
    return person


def authority(archive: Archive) -> Register:
    """The register whose ``active_roles`` decide who may approve (for the Discloser)."""
    return Register(archive)
