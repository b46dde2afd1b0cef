"""中期评估 — the supervisor's mid-term evaluation (7.4.1; G-11, DL-12)."""

from __future__ import annotations

from dataclasses import dataclass

from interop.core.fields import coded, text


@dataclass(slots=True, kw_only=True)
class Midterm:
    """中期评估 — date, supervisor, effect so far, risk now, ratings and outcome (7.4.1)."""

    id: str
    date: str = text(req="DL-12")
    supervisor: str = text(req="R-7.4.1-01")  # Staff id; only a supervisor may complete it
    effect: str = text(req="R-7.4.1-01")  # 服务效果 so far
    risk_level: str | None = coded("risk-level", req="G-01", default=None)
    plan_suitability: int | None = text(req="R-7.5.3-03", default=None)  # 1–5
    goal_reasonableness: int | None = text(req="R-7.5.3-03", default=None)  # 1–5
    outcome: str = coded("midterm-outcome", req="R-7.4.1-02")
    rationale: str | None = text(req="R-7.4.1-02", default=None)
