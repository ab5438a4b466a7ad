"""Our codes and EIDO registry values, each mapping in one table (both directions derive from it).

Incident types: the Korean 119 types of :mod:`dispatch.catalog` (``IncidentType``) against
the NENA Incident Type registry (dotted, most specific first). The internal code and the
Korean name travel as ``incidentTypeInternalCode`` / ``incidentTypeInternalText`` so a Korean
partner gets our exact type back; a foreign registry value we do not know maps by its first
segment, then to ``other``.
"""

from __future__ import annotations

from dispatch.catalog import DEFAULT_RULES
from goldentime.contracts import IncidentStatus, IncidentType
from goldentime.contracts.dispatch import UnitStatus

# IncidentType -> NENA Incident Type registry value. One row per type; the reverse is derived.
INCIDENT_TYPES: dict[IncidentType, str] = {
    IncidentType.BUILDING_FIRE: "Fire.Structure",
    IncidentType.FIRE: "Fire",
    IncidentType.VEHICLE_FIRE: "Fire.Vehicle",
    IncidentType.CARDIAC_ARREST: "Medical.CardiacArrest",
    IncidentType.EMS: "Medical",
    IncidentType.TRAFFIC_COLLISION: "Traffic.Collision",
    IncidentType.RESCUE: "Rescue",
    IncidentType.HAZMAT: "Hazmat",
    IncidentType.FLOOD: "Weather.Flood",
    IncidentType.STRUCTURE_ALARM: "Alarm.Structure",
    IncidentType.OTHER: "Other",
}
_TYPE_OF_REGISTRY = {value.lower(): key for key, value in INCIDENT_TYPES.items()}
# The Korean names of dispatch's catalog: sent as incidentTypeInternalText.
KOREAN_NAMES: dict[IncidentType, str] = {t: str(DEFAULT_RULES[t]["name_ko"]) for t in IncidentType}

# IncidentStatus -> NENA Incident Status registry value.
INCIDENT_STATUS: dict[IncidentStatus, str] = {
    IncidentStatus.OPEN: "Pending",
    IncidentStatus.DISPATCHED: "Dispatched",
    IncidentStatus.ON_SCENE: "OnScene",
    IncidentStatus.CLOSED: "Closed",
    IncidentStatus.MERGED: "Merged",
}

# UnitStatus -> NENA Primary Unit Status registry value.
UNIT_STATUS: dict[UnitStatus, str] = {
    UnitStatus.AVAILABLE: "Available",
    UnitStatus.DISPATCHED: "Dispatched",
    UnitStatus.EN_ROUTE: "Enroute",
    UnitStatus.ON_SCENE: "OnScene",
    UnitStatus.TRANSPORTING: "Transporting",
    UnitStatus.AT_HOSPITAL: "AtDestination",
    UnitStatus.RETURNING: "Returning",
    UnitStatus.OUT_OF_SERVICE: "OutOfService",
}

# Unit kind (goldentime.contracts.dispatch.UnitKind) -> NENA Emergency Resource Type value.
RESOURCE_TYPES: dict[str, str] = {
    "engine": "Fire.Engine",
    "ladder": "Fire.Ladder",
    "rescue": "Fire.Rescue",
    "ambulance": "EMS.Ambulance",
    "command": "Fire.Command",
}

# Priority 1..5 (1 most urgent) -> STA-023 call priority.
CALL_PRIORITY = {1: "highest", 2: "high", 3: "normal", 4: "low", 5: "lowest"}


def registry_type(incident_type: IncidentType) -> str:
    return INCIDENT_TYPES[incident_type]


def incident_type_of(*, internal_code: str | None, registry_text: str | None) -> IncidentType:
    """Our type for a received incident: our own code when a Golden Time centre sent it, else
    the registry value (exact, then its first segment), else ``other``."""
    if internal_code:
        try:
            return IncidentType(internal_code)
        except ValueError:
            pass
    if registry_text:
        text = registry_text.strip().lower()
        if text in _TYPE_OF_REGISTRY:
            return _TYPE_OF_REGISTRY[text]
        head = text.split(".", 1)[0]
        for value, incident_type in _TYPE_OF_REGISTRY.items():
            if value == head:
                return incident_type
        if head in {"medical", "ems"}:
            return IncidentType.EMS
    return IncidentType.OTHER
