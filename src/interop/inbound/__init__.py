"""Inbound: list files and feeds → list entries → the archive (reconciliation, quarantine)."""

from __future__ import annotations
