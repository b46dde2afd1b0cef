"""个案 — the case (one EpisodeOfCare per child and service episode, §3)."""

from __future__ import annotations

from dataclasses import dataclass

from interop.core.fields import coded, codes, text


@dataclass(slots=True, kw_only=True)
class Signature:
    """签名/签章 + 年月日: who confirmed a form, and when (§1.9.5)."""

    signer: str  # id of a RelatedAdult, Staff or Organisation, or "child"
    date: str


@dataclass(slots=True, kw_only=True)
class Case:
    """个案 — case number (个案编号, A-25, G-29), state, risk and designation."""

    case_number: str = text(req="A-25")
    state: str = coded("case-state", req="§3.1")
    risk_level: str = coded("risk-level", req="G-01")
    inclusion_basis: str | None = coded("inclusion-basis", req="R-5.1-02", default=None)
    list_received_date: str | None = text(req="R-7.1.1-01", default=None)
    designation_date: str | None = text(default=None)  # 认定日期
    designating_org: str | None = None  # id of an Organisation (认定单位)
    intake_date: str | None = text(req="A-24", default=None)
    contractor: str  # id of the 承接机构 Organisation
    commissioner: str | None = None  # id of the 委托机构 Organisation
    care_manager: str | None = text(req="A-44", default=None)  # Staff id
    supervisor: str | None = None  # Staff id
    agreement_date: str | None = text(req="R-7.1.3-03", default=None)  # 项目协议书 signed
    agreement_end: str | None = text(req="DL-14", default=None)  # end of the agreement period
    review_date: str | None = text(req="R-7.1.3-02", default=None)  # 审核并报备
    closure_reason: str | None = coded("closure-reason", req="R-7.5.1-01", default=None)
    end_date: str | None = None
    #: Safety flags set on the case (requirements §4.4, R-4.5-01): guardian-restricted,
    #: avoid-reinterview, contacting-subject-prohibited; honoured by every disclosure.
    safety_flags: list[str] = codes("flag-code", req="§4.4")
