"""调整请求与更换服务人员 — pause, change or termination asked for (7.4.2), and a worker
change (7.3; R-7.3-07, G-17)."""

from __future__ import annotations

from dataclasses import dataclass

from interop.core.case import Signature
from interop.core.fields import coded, text


@dataclass(slots=True, kw_only=True)
class AdjustmentRequest:
    """调整实施方案要求 — a request to pause (暂停), change (改变) or terminate (中止)."""

    id: str
    type: str = coded("adjustment-request-type", req="R-7.4.2-01")
    received: str = text(req="DL-05")  # date the worker received it
    reported: str | None = text(req="DL-05", default=None)  # date reported to the contractor
    completed: str | None = text(req="DL-06", default=None)  # date the adjustment was done
    child_views: str | None = text(req="R-4.2-01", default=None)


@dataclass(slots=True, kw_only=True)
class WorkerChange:
    """更换服务人员 — from, to, why, and the recipient's agreement (R-7.3-07)."""

    date: str = text(req="R-7.3-07")
    from_worker: str | None = None  # Staff id
    to_worker: str  # Staff id
    reason: str = text(req="R-7.3-07")
    agreement: Signature | None = text(req="R-7.3-07", default=None)
