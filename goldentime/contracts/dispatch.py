"""Wire contracts of dispatch: commands, their results, unit state and recommendations.

``commands`` carries what dispatchers and crews decide (keyed by incident or unit id); each
command has its own id, so a redelivered command is applied once. ``units`` is compacted by
unit id and carries each unit's current state; ``recommendations`` carries the units that
arrive first for an incident's response plan.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from goldentime.contracts.core import AwareDatetime, Latitude, Longitude, Record, RecordId

UnitKind = Literal["engine", "ladder", "rescue", "ambulance", "command"]
UNIT_KINDS: tuple[UnitKind, ...] = ("engine", "ladder", "rescue", "ambulance", "command")


class UnitStatus(StrEnum):
    AVAILABLE = "available"
    DISPATCHED = "dispatched"
    EN_ROUTE = "en_route"
    ON_SCENE = "on_scene"
    TRANSPORTING = "transporting"
    AT_HOSPITAL = "at_hospital"
    RETURNING = "returning"
    OUT_OF_SERVICE = "out_of_service"


class CommandAction(StrEnum):
    DISPATCH = "dispatch"  # assign unit_ids (or the current recommendation) to incident_id
    ACKNOWLEDGE = "acknowledge"  # a crew acknowledges its assignment
    UNIT_STATUS = "unit_status"  # a crew (or dispatcher) reports a unit status
    POSITION = "position"  # AVL: a unit's position
    UNLINK = "unlink"  # take call_id (or event_id) out of its incident into a new one
    MERGE = "merge"  # fold incident_id into into_incident_id
    CLOSE = "close"  # close incident_id; its units return
    NOTE = "note"  # add ``note`` to incident_id's timeline (e.g. a message from a partner centre)
    RELOCATE = "relocate"  # a better location for incident_id (e.g. the caller's phone GPS)
    MCI_LEVEL = "mci_level"  # a supervisor confirms the response level (1..3) of MCI incident_id
    TRIAGE = "triage"  # START triage counts (red/yellow/green/black) of incident_id from the scene
    STAGING = "staging"  # the staging point (lat, lon) of MCI incident_id
    DISTRIBUTE = "distribute"  # spread incident_id's patients over ERs by ETA and capacity


class TriageCounts(BaseModel):
    """START triage counts reported from the scene of a mass-casualty incident."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    red: int = Field(default=0, ge=0, le=10_000, description="Immediate (긴급).")
    yellow: int = Field(default=0, ge=0, le=10_000, description="Delayed (응급).")
    green: int = Field(default=0, ge=0, le=10_000, description="Minor, walking wounded (비응급).")
    black: int = Field(default=0, ge=0, le=10_000, description="Dead or expectant (사망).")


class Command(Record):
    """A decision by a dispatcher, a crew or the system (topic ``commands``)."""

    at: AwareDatetime
    actor: str = Field(min_length=1, max_length=80, description="Who decided (user name).")
    action: CommandAction
    incident_id: RecordId | None = None
    unit_ids: list[RecordId] = Field(default_factory=list, max_length=50)
    unit_status: UnitStatus | None = None
    call_id: RecordId | None = None
    into_incident_id: RecordId | None = None
    lat: Latitude | None = None
    lon: Longitude | None = None
    note: str = Field(default="", max_length=500)
    level: int | None = Field(
        default=None, ge=1, le=3, description="Response level (대응 n단계) confirmed: mci_level."
    )
    triage: TriageCounts | None = Field(
        default=None, description="START triage counts from the scene: triage."
    )

    @model_validator(mode="after")
    def _complete(self) -> Self:
        need: dict[CommandAction, tuple[str, ...]] = {
            CommandAction.DISPATCH: ("incident_id",),
            CommandAction.ACKNOWLEDGE: ("unit_ids",),
            CommandAction.UNIT_STATUS: ("unit_ids", "unit_status"),
            CommandAction.POSITION: ("unit_ids", "lat", "lon"),
            CommandAction.UNLINK: ("call_id",),
            CommandAction.MERGE: ("incident_id", "into_incident_id"),
            CommandAction.CLOSE: ("incident_id",),
            CommandAction.NOTE: ("incident_id", "note"),
            CommandAction.RELOCATE: ("incident_id", "lat", "lon"),
            CommandAction.MCI_LEVEL: ("incident_id", "level"),
            CommandAction.TRIAGE: ("incident_id", "triage"),
            CommandAction.STAGING: ("incident_id", "lat", "lon"),
            CommandAction.DISTRIBUTE: ("incident_id",),
        }
        missing = [f for f in need[self.action] if not getattr(self, f)]
        if missing:
            raise ValueError(f"{self.action.value} needs {', '.join(missing)}")
        return self

    @property
    def event_time(self) -> datetime:
        return self.at


class CommandResult(BaseModel):
    """What became of a command (stored by id; the console polls it)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    command_id: str
    ok: bool
    reason: str = ""
    incident_id: str | None = None
    applied_at: datetime


class UnitState(Record):
    """Current state of one unit (topic ``units``, compacted; ``id`` is the unit id)."""

    station_id: str
    station_name: str
    name: str = Field(max_length=120)
    kind: UnitKind
    status: UnitStatus
    lat: Latitude
    lon: Longitude
    home_lat: Latitude
    home_lon: Longitude
    incident_id: RecordId | None = None
    updated_at: AwareDatetime
    revision: int = Field(ge=1)

    @property
    def event_time(self) -> datetime:
        return self.updated_at


class RecommendedUnit(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    unit_id: str
    name: str
    kind: UnitKind
    station_name: str
    eta_s: float | None
    distance_m: float | None
    within_golden_time: bool
    route: dict[str, object] | None = Field(default=None, description="GeoJSON LineString.")


class RecommendedHospital(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    hospital_id: str
    name: str
    level: str
    lat: float
    lon: float
    eta_s: float | None


class Recommendation(Record):
    """The run card filled with the units that arrive first (topic ``recommendations``)."""

    incident_id: RecordId
    incident_revision: int = Field(ge=1)
    computed_at: AwareDatetime
    units: list[RecommendedUnit]
    unfilled: dict[str, int] = Field(
        default_factory=dict, description="Run-card slots no available unit could fill."
    )
    golden_time_breach: bool = Field(
        description="No recommended unit reaches the scene within the travel budget (5 min)."
    )
    first_eta_s: float | None
    mutual_aid: list[RecommendedUnit] = Field(
        default_factory=list, description="Next nearest units beyond the run card."
    )
    hospital: RecommendedHospital | None = None
    note: str = Field(default="", max_length=500)

    @property
    def event_time(self) -> datetime:
        return self.computed_at
