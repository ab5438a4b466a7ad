"""Dispatch's public read interface: what the console and the exchange read from the incident
record, as wire contracts (``goldentime.contracts``) or the frozen values of
:mod:`dispatch.queries.views`, never ORM rows.

Every function takes the SQLAlchemy ``Session`` (the intake relay's check: a ``Connection``) of
the caller's own transaction, so a read can sit in a write transaction of the caller's, and
runs the statements its callers ran on the rows before (one per kind of row: bulk reads take
id collections, never a query per row). Outside ``dispatch``, only this package and the
package-level names of ``dispatch`` are read; import-linter forbids the ORM modules
(``dispatch.incident_store``, ``dispatch.mci_store``) to ``console`` and ``exchange``.
"""

from __future__ import annotations

from dispatch.mci_queries import active_surges, dong_of, mci_of
from dispatch.queries.calls import (
    call_ids_of,
    caller_locations,
    command_result,
    find_call,
    stored_call_ids,
    stored_command_ids,
)
from dispatch.queries.feed import (
    Heads,
    incident_heads,
    incident_heads_since,
    incidents_by_id,
    latest_change_at,
    recommendations_since,
    unit_heads_since,
    units_by_id,
)
from dispatch.queries.incidents import (
    find_incident,
    incident_ids_by_update,
    incident_view,
    latest_recommendation,
    list_incidents,
    merged_sources,
    timeline,
    timeline_lines,
    unlinks_of,
)
from dispatch.queries.mci import mci_levels
from dispatch.queries.units import available_units, list_units, unit_incident_id, unit_names_on
from dispatch.queries.views import (
    CallView,
    IncidentView,
    MciLevel,
    SignalView,
    TimelineLine,
    UnitPlace,
    Unlink,
    WorkerView,
)
from dispatch.queries.workers import live_workers

__all__ = [
    "CallView",
    "Heads",
    "IncidentView",
    "MciLevel",
    "SignalView",
    "TimelineLine",
    "UnitPlace",
    "Unlink",
    "WorkerView",
    "active_surges",
    "available_units",
    "call_ids_of",
    "caller_locations",
    "command_result",
    "dong_of",
    "find_call",
    "find_incident",
    "incident_heads",
    "incident_heads_since",
    "incident_ids_by_update",
    "incident_view",
    "incidents_by_id",
    "latest_change_at",
    "latest_recommendation",
    "list_incidents",
    "list_units",
    "live_workers",
    "mci_levels",
    "mci_of",
    "merged_sources",
    "recommendations_since",
    "stored_call_ids",
    "stored_command_ids",
    "timeline",
    "timeline_lines",
    "unit_heads_since",
    "unit_incident_id",
    "unit_names_on",
    "units_by_id",
    "unlinks_of",
]
