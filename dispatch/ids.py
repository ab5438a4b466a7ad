"""Ids dispatch derives from what caused them, so that a replay yields the same ids."""

from __future__ import annotations

import hashlib


def incident_id_for(signal_id: str) -> str:
    """A stable incident id derived from the signal that opened it (replays give the same id)."""
    return "INC-" + hashlib.sha256(signal_id.encode()).hexdigest()[:12].upper()
