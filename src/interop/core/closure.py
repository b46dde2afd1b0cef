"""心理健康服务结案表 — Annex D, closure (7.5)."""

from __future__ import annotations

from dataclasses import dataclass

from interop.core.case import Signature
from interop.core.fields import coded, codes, text


@dataclass(slots=True, kw_only=True)
class ChangeSummary:
    """服务对象改变情况 (D-10)."""

    assessment_change: str
    behaviour: str
    emotion: str
    volition: str


@dataclass(slots=True, kw_only=True)
class Closure:
    """结案 — Annex D."""

    date: str
    reason: str = coded("closure-reason", req="R-7.5.1-01")
    service_summary: str = text(req="D-09")
    change: ChangeSummary = text(req="D-10")
    reflection: str = text(req="D-11")
    follow_up_actions: str = text(req="D-12")
    evaluator_types: list[str] = codes("evaluator-type", req="R-7.5.2-01")
    unmet_goal_analysis: str | None = text(req="R-7.5.1-02", default=None)
    measures_taken: str | None = text(req="R-7.5.1-02", default=None)
    resources_given: bool | None = text(req="R-6.1.1-03", default=None)
    per_problem_justification: str | None = text(req="CL-02", default=None)
    signature_unavailable_reason: str | None = text(req="G-32", default=None)
    recipient_confirmation: Signature | None = text(req="D-13", default=None)
    worker_confirmation: Signature | None = text(req="D-14", default=None)
    supervisor_confirmation: Signature | None = text(req="D-15", default=None)
