"""心理健康服务方案设计表 — Annex B, the service plan (7.2), with goals."""

from __future__ import annotations

from dataclasses import dataclass

from interop.core.case import Signature
from interop.core.fields import coded, codes, many, text


@dataclass(slots=True, kw_only=True)
class Goal:
    """服务目标 (7.5.1) — an expected objective of the plan."""

    id: str
    description: str
    due: str | None = None
    achievement: str | None = (
        None  # HL7 goal-achievement: achieved, improving, not-achieved … (7.5.1)
    )


@dataclass(slots=True, kw_only=True)
class Plan:
    """心理健康服务方案 — Annex B (one version of the plan)."""

    id: str
    version: int = 1
    status: str = "active"  # draft | active | revoked | completed
    created: str = text(req="B-21")
    problem_types: list[str] = codes("problem-type", req="B-05")
    planned_session_count: int = text(req="R-7.2.1-03")
    service_location: str = coded("location-type", req="B-10")
    case_background: str = text(req="B-11")
    manifestation: str = text(req="B-12")
    theoretical_explanation: str = text(req="B-13")
    problem_summary: str = text(req="B-14")
    theoretical_orientations: list[str] = codes("theoretical-orientation", req="B-15")
    methods: list[str] = codes("service-method", req="B-16")
    service_types: list[str] = codes("service-type", req="R-6.1.1-05")
    intervention_pathway: str = text(req="B-17")
    schedule: str = text(req="B-18")
    frequency_per_week: int = 1
    period_start: str = text(req="7.2.1")
    period_end: str = text(req="7.2.1")
    session_minutes_min: int = 60
    session_minutes_max: int = 120
    precautions: str | None = text(req="7.2.1", default=None)
    goals: list[Goal] = many(req="R-7.5.1-01")
    high_risk_justification: str | None = text(req="CL-03", default=None)
    reenrolment_support: str | None = text(req="R-6.1.4-03", default=None)
    worker_attestation: Signature | None = text(req="B-19", default=None)
    recipient_attestation: Signature | None = text(req="B-20", default=None)
    supervisor_approval: Signature | None = text(req="B-21", default=None)
