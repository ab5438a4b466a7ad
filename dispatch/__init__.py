"""Dispatch: the faust-streaming app of the control centre.

Owns call intake, correlation of calls, video and sensor events into incidents, the incident
lifecycle and timeline, run cards, unit recommendation, assignments, unit status, and the
incident record store (``dispatch.incident_store``). Talks to ``routing`` and ``firemap``
through their public functions, and to ``video_relay`` and ``alerts`` only through topics. The
console and the exchange read the record through ``dispatch.queries`` only (import-linter
forbids them the ORM modules), and key calls by :func:`cell_of` and recognise an incident
opened by a call by :func:`incident_id_for`.
"""

from dispatch.cells import cell_of
from dispatch.ids import incident_id_for

__all__ = ["cell_of", "incident_id_for"]
