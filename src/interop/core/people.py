"""The people of a case: the child, the adults around the child, the staff."""

from __future__ import annotations

from dataclasses import dataclass

from interop.core.fields import coded, codes, many, text


@dataclass(slots=True, kw_only=True)
class Address:
    """An address: free text plus a GB/T 2260 division code (A-05, A-06)."""

    text: str
    division: str | None = None  # GB/T 2260, 6 digits; "36…" is Jiangxi (R-5.1-01)


@dataclass(slots=True, kw_only=True)
class SchoolEnrolment:
    """是否就学 / 就学年段 / 所在学校 / 班级 (9.2 group 1, A-10, A-11)."""

    enrolled: bool
    stage: str | None = coded("school-stage", req="G-22", default=None)
    school: str | None = None  # id of an Organisation of kind "school"
    class_name: str | None = text(req="A-11", default=None)


@dataclass(slots=True, kw_only=True)
class Disability:
    """残疾 (9.2 health status; category and grade per GB/T 26341)."""

    category: str
    grade: str | None = None


@dataclass(slots=True, kw_only=True)
class Child:
    """服务对象 — the child in difficulty (困境儿童, 3.1)."""

    name: str = text(req="A-01")
    sex: str = coded("gbt2261-sex", req="A-02")
    ethnicity: str = coded("gb3304-ethnicity", req="A-03")
    birth_date: str = text(req="A-04")  # YYYY-MM or YYYY-MM-DD (出生年月)
    resident_id: str | None = text(req="G-29", default=None)
    home_address: Address = text(req="A-05")
    household_registration: Address = text(req="A-06")
    phone: str | None = text(req="B-07", default=None)
    difficulty_categories: list[str] = codes("difficulty-category", req="R-5.1-01")
    school: SchoolEnrolment | None = None
    disability: Disability | None = None
    health_status: str | None = text(req="9.2", default=None)


@dataclass(slots=True, kw_only=True)
class RelatedAdult:
    """An adult around the child: 监护人, 临时监护人, 实际抚养人, 紧急联系人 … (G-14)."""

    id: str
    name: str
    roles: list[str] = codes("related-person-role", req="G-14")
    relationship: str | None = coded("family-relationship", req="A-27", default=None)
    phone: str | None = text(req="A-09", default=None)
    occupation: str | None = text(req="A-08", default=None)


@dataclass(slots=True, kw_only=True)
class Staff:
    """服务人员 or 督导人员 — service staff and supervisors (5.2.2, 5.2.3)."""

    id: str
    name: str
    role: str  # "worker" | "supervisor" | "org-lead"
    phone: str | None = text(req="A-45", default=None)  # work phone only
    organisation: str | None = None  # id of the employing Organisation
    qualifications: list[str] = codes("qualification", req="R-5.2.2-01")
    qualification_reviewed: str | None = text(req="DL-16", default=None)  # last review date


@dataclass(slots=True, kw_only=True)
class Organisation:
    """承接机构, 委托机构, school, hospital … (partner types of Appendix B)."""

    id: str
    kind: str = coded("organization-type")
    name: str = text()
    code: str | None = None  # USCC (统一社会信用代码) or the programme's org code
    address: str | None = None
    phone: str | None = None
    contact_name: str | None = text(req="A-13", default=None)
    contact_phone: str | None = text(req="A-14", default=None)
    aliases: list[str] = many()
