"""The states a delivery of the outbox (发送箱) goes through, and the claim's lease.

Plain constants, apart from the queue (:mod:`interop.exchange.outbox`, which re-exports
them), so that ``interop outbox --help`` offers the states without loading the database
library.
"""

from __future__ import annotations

__all__ = ["DEFAULT_LEASE", "STATUSES"]

#: Seconds a claim holds a row unless renewed (a crashed worker's rows come back after it).
DEFAULT_LEASE = 30.0

STATUSES = ("pending", "sending", "uncertain", "delivered", "dead", "cancelled", "refused")
