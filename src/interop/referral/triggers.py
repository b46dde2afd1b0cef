"""Referral triggers and modes (转介触发情形与方式, §1.9.7, G-13).

Plain names, no library: ``interop referral --help`` lists them without loading
the referral machinery.
"""

from __future__ import annotations

__all__ = ["CRISIS_TRIGGER", "MODES", "TRIGGERS"]

#: The ten referral triggers of §1.9.7 (RT-01 … RT-10).
TRIGGERS = tuple(f"RT-{i:02d}" for i in range(1, 11))
#: Transfer (the hospital takes the case over) or concurrent care (G-13).
MODES = ("transfer", "concurrent")
#: The crisis trigger (RT-01, life at risk): followed on the shorter crisis cadence.
CRISIS_TRIGGER = "RT-01"
