"""测评 — a psychological assessment with a scale (9.2 group 2, §2.6)."""

from __future__ import annotations

from dataclasses import dataclass

from interop.core.fields import coded, many, text


@dataclass(slots=True, kw_only=True)
class DimensionScore:
    """维度分 — one dimension of a scale."""

    code: str
    name: str
    score: float


@dataclass(slots=True, kw_only=True)
class Assessment:
    """测评结果 — scale name and version, time, method, channel, scores (§2.6)."""

    id: str
    phase: str  # "intake" | "midterm" | "closure" | "other"
    scale_code: str = text(req="G-02")  # instrument id in the catalogue
    scale_name: str = text(req="9.2")
    scale_version: str = text(req="G-02")
    time: str = text(req="9.2")
    method: str = coded("assessment-mode", req="9.2")
    channel: str = coded("assessment-channel", req="9.2")
    dimensions: list[DimensionScore] = many(req="9.2")
    total: float | None = None
    interpretation: str | None = text(req="9.2", default=None)
    # 结果分级: the band of the result by the instrument's cut-offs, the coded form of the
    # conclusion (R-9.2-02); the written interpretation stays the worker's words.
    result_band: str | None = coded("scale-result-band", req="R-9.2-02", default=None)
    performer: str | None = None  # Staff id
    instrument_override_reason: str | None = text(req="R-7.5.2-02", default=None)
