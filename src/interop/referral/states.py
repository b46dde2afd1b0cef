"""The referral Task state machine, and our referral steps (R-6.2.1-02).

Two views of one referral:

- the **Task status** at the hospital (FHIR R4 ``Task.status``), which the
  hospital moves and we follow by polling. The transitions allowed are those
  of the issue (after the HL7 SDOH Clinical Care IG's referral Task)::

      requested   → received | accepted | rejected | cancelled
      received    → accepted | rejected | cancelled
      accepted    → in-progress | on-hold | completed | failed | cancelled
      in-progress → on-hold | completed | failed | cancelled
      on-hold     → in-progress | completed | failed | cancelled
      rejected, cancelled, completed, failed: final

  (``received`` is FHIR's optional acknowledgement before a decision; some
  hospitals send it.) A transition outside this table is an **anomaly**: it
  is recorded with the Task version, and not applied.

- **our step** of the referral procedure (6.2.1 申请审核、信息准备、接收机构选择、
  交接反馈、监督; the REFERRAL overlay of requirements §3.1)::

      under-review → approved → info-prepared → handed-over → feedback-received → closed
            └→ rejected / refused                     └→ cancel-requested → cancelled
"""

from __future__ import annotations

#: Allowed Task.status transitions (from → set of to).
TRANSITIONS: dict[str, frozenset[str]] = {
    "requested": frozenset({"received", "accepted", "rejected", "cancelled"}),
    "received": frozenset({"accepted", "rejected", "cancelled"}),
    "accepted": frozenset({"in-progress", "on-hold", "completed", "failed", "cancelled"}),
    "in-progress": frozenset({"on-hold", "completed", "failed", "cancelled"}),
    "on-hold": frozenset({"in-progress", "completed", "failed", "cancelled"}),
    "rejected": frozenset(),
    "cancelled": frozenset(),
    "completed": frozenset(),
    "failed": frozenset(),
}

TASK_STATUSES = frozenset(TRANSITIONS)
FINAL = frozenset(s for s, nxt in TRANSITIONS.items() if not nxt)
#: Task statuses from which our side may still cancel.
CANCELLABLE = frozenset(s for s, nxt in TRANSITIONS.items() if "cancelled" in nxt)
#: Statuses that mean the hospital took the referral on (DL-10 clock, "accepted within").
TAKEN_ON = frozenset({"accepted", "in-progress", "on-hold", "completed", "failed"})

#: Our steps (R-6.2.1-02), in order of the procedure.
STEPS = (
    "under-review",
    "rejected",
    "refused",
    "approved",
    "info-prepared",
    "handed-over",
    "cancel-requested",
    "feedback-received",
    "cancelled",
    "closed",
)
#: Steps after which nothing more happens to the referral.
CLOSED_STEPS = frozenset({"rejected", "refused", "cancelled", "closed"})
#: Steps in which the referral is open at the hospital (polled).
OPEN_AT_HOSPITAL = frozenset({"handed-over", "cancel-requested", "feedback-received"})


def is_legal(old: str | None, new: str) -> bool:
    """Whether the hospital may move a Task from ``old`` to ``new`` (same status: yes)."""
    if new not in TASK_STATUSES:
        return False
    if old is None or old == new:
        return True
    return new in TRANSITIONS.get(old, frozenset())


def step_after(status: str, current: str) -> str:
    """Our step once the hospital's Task reached ``status`` (legal transition assumed)."""
    if status == "cancelled":
        return "cancelled"
    if status in ("completed", "failed", "rejected"):
        return "feedback-received"  # the hospital's answer is the feedback (交接反馈)
    return current
