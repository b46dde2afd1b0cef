"""可行性评估表 — Annex A (表 A.1 and 接案信息), plus the §2.7 additions."""

from __future__ import annotations

from dataclasses import dataclass, field

from interop.core.case import Signature
from interop.core.fields import coded, codes, text


@dataclass(slots=True, kw_only=True)
class IndividualOverview:
    """个体概况 (A-16): physical health, academic performance, school behaviour."""

    physical_health: str
    academic_performance: str
    school_behaviour: str


@dataclass(slots=True, kw_only=True)
class MentalFindings:
    """认知、情绪、意志 — used by interview findings (A-18) and session effect (C-14)."""

    cognition: str
    emotion: str
    volition: str


@dataclass(slots=True, kw_only=True)
class ProviderPreferences:
    """对服务人员的期望 (A-33…A-43)."""

    frequency_per_week: float | None = text(req="A-33", default=None)
    preferred_time: str | None = text(req="A-34", default=None)  # free text: 周六上午
    location: str | None = text(req="A-35", default=None)
    gender: str = coded("provider-pref-gender", req="A-37", default="no-preference")
    age: str = coded("provider-pref-age", req="A-38", default="no-preference")
    marital: str = coded("provider-pref-marital", req="A-39", default="no-preference")
    has_children: str = coded("provider-pref-children", req="A-40", default="no-preference")
    language: str = coded("provider-pref-language", req="A-41", default="no-preference")
    style: str = coded("provider-pref-style", req="A-42", default="no-preference")
    other: str | None = text(req="A-43", default=None)


@dataclass(slots=True, kw_only=True)
class Intake:
    """可行性评估表 — Annex A, feasibility assessment and intake (7.1)."""

    assessment_date: str = text(req="A-21")
    assessor: str = text(req="A-20")  # Staff id
    family_situation: str = text(req="A-15")
    individual_overview: IndividualOverview = text(req="A-16")
    assessment_result_summary: str = text(req="A-17")
    interview_findings: MentalFindings = text(req="A-18")
    main_problems: list[str] = codes("problem-type", req="A-19")
    main_problems_text: str | None = text(req="A-19", default=None)
    problem_causes: str | None = text(req="R-7.1.1-03", default=None)
    emergency_present: bool = text(req="A-22")
    emergency_detail: str | None = text(req="A-22", default=None)
    referral_status_text: str | None = text(req="A-23", default=None)
    referral_triggers: list[str] = codes("referral-trigger", req="R-7.1.2-01")
    emergency_contact: str = text(req="A-26")  # RelatedAdult id
    currently_in_counselling: bool = text(req="A-29")
    currently_on_psychotropics: bool = text(req="A-30")
    prior_counselling_count: int = text(req="A-31")
    prior_counselling_content: str | None = text(req="A-32", default=None)
    expected_problems_to_solve: str = text(req="A-36")
    preferences: ProviderPreferences = field(default_factory=ProviderPreferences)
    risk_level: str = coded("risk-level", req="G-01")
    competence_match: str = coded("competence-match", req="R-7.1.1-04")
    home_visit_verification: str = coded("home-visit-verification", req="R-7.1.1-02")
    home_visit_verification_note: str | None = None
    feasibility_conclusion: str = coded("feasibility-conclusion", req="R-7.1.1-05")
    child_views: str | None = text(req="R-4.2-01", default=None)
    recipient_confirmation: Signature | None = text(req="A-46", default=None)
    worker_confirmation: Signature | None = text(req="A-47", default=None)
    supervisor_confirmation: Signature | None = text(req="A-48", default=None)
