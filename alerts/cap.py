"""A typed model of a CAP 1.2 alert (OASIS Common Alerting Protocol), read-only once built.

One :class:`Alert` carries one or more :class:`Info` blocks (one per language), each with its
:class:`Area` list. Times are timezone-aware; serialisation (``alerts.capxml``) writes them
with a numeric offset as CAP requires, never ``Z``. Update and Cancel alerts carry
``references`` (``sender,identifier,sent`` of the earlier alerts).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, field_validator

CAP12_NS = "urn:oasis:names:tc:emergency:cap:1.2"
CAP11_NS = "urn:oasis:names:tc:emergency:cap:1.1"
LatLon = tuple[float, float]


class Status(StrEnum):
    ACTUAL = "Actual"
    EXERCISE = "Exercise"
    SYSTEM = "System"
    TEST = "Test"
    DRAFT = "Draft"


class MsgType(StrEnum):
    ALERT = "Alert"
    UPDATE = "Update"
    CANCEL = "Cancel"
    ACK = "Ack"
    ERROR = "Error"


class Scope(StrEnum):
    PUBLIC = "Public"
    RESTRICTED = "Restricted"
    PRIVATE = "Private"


class Category(StrEnum):
    GEO = "Geo"
    MET = "Met"
    SAFETY = "Safety"
    SECURITY = "Security"
    RESCUE = "Rescue"
    FIRE = "Fire"
    HEALTH = "Health"
    ENV = "Env"
    TRANSPORT = "Transport"
    INFRA = "Infra"
    CBRNE = "CBRNE"
    OTHER = "Other"


class ResponseType(StrEnum):
    SHELTER = "Shelter"
    EVACUATE = "Evacuate"
    PREPARE = "Prepare"
    EXECUTE = "Execute"
    AVOID = "Avoid"
    MONITOR = "Monitor"
    ASSESS = "Assess"
    ALL_CLEAR = "AllClear"
    NONE = "None"


class Urgency(StrEnum):
    IMMEDIATE = "Immediate"
    EXPECTED = "Expected"
    FUTURE = "Future"
    PAST = "Past"
    UNKNOWN = "Unknown"


class Severity(StrEnum):
    EXTREME = "Extreme"
    SEVERE = "Severe"
    MODERATE = "Moderate"
    MINOR = "Minor"
    UNKNOWN = "Unknown"


class Certainty(StrEnum):
    OBSERVED = "Observed"
    LIKELY = "Likely"
    POSSIBLE = "Possible"
    UNLIKELY = "Unlikely"
    UNKNOWN = "Unknown"
    VERY_LIKELY = "Very Likely"  # CAP 1.0 value, still seen in old 1.1 feeds


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class NamedValue(_Frozen):
    """A ``valueName``/``value`` pair (eventCode, parameter, geocode)."""

    name: str
    value: str


class Circle(_Frozen):
    """A circle: centre in WGS84 and radius in kilometres."""

    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    radius_km: float = Field(ge=0)


class Polygon(_Frozen):
    """A closed ring of (lat, lon) points, first point equal to the last, at least 4 points."""

    points: tuple[tuple[float, float], ...]

    @field_validator("points")
    @classmethod
    def _closed_ring(
        cls, points: tuple[tuple[float, float], ...]
    ) -> tuple[tuple[float, float], ...]:
        if len(points) < 4:
            raise ValueError(f"a CAP polygon needs at least 4 points, got {len(points)}")
        if points[0] != points[-1]:
            raise ValueError("a CAP polygon must end on its first point")
        for lat, lon in points:
            if not (-90 <= lat <= 90 and -180 <= lon <= 180):
                raise ValueError(f"polygon point ({lat}, {lon}) is not a WGS84 lat,lon")
        return points


class Area(_Frozen):
    """Where to warn people (not where the incident is)."""

    area_desc: str = Field(min_length=1)
    polygons: tuple[Polygon, ...] = ()
    circles: tuple[Circle, ...] = ()
    geocodes: tuple[NamedValue, ...] = ()
    altitude: float | None = None
    ceiling: float | None = None


class Resource(_Frozen):
    resource_desc: str
    mime_type: str | None = None
    size: int | None = None
    uri: str | None = None
    deref_uri: str | None = None
    digest: str | None = None


class Info(_Frozen):
    """One language's rendition of the alert."""

    language: str = "en-US"
    categories: tuple[Category, ...] = Field(min_length=1)
    event: str = Field(min_length=1)
    response_types: tuple[ResponseType, ...] = ()
    urgency: Urgency
    severity: Severity
    certainty: Certainty
    audience: str | None = None
    event_codes: tuple[NamedValue, ...] = ()
    effective: datetime | None = None
    onset: datetime | None = None
    expires: datetime | None = None
    sender_name: str | None = None
    headline: str | None = None
    description: str | None = None
    instruction: str | None = None
    web: str | None = None
    contact: str | None = None
    parameters: tuple[NamedValue, ...] = ()
    resources: tuple[Resource, ...] = ()
    areas: tuple[Area, ...] = ()


class Alert(_Frozen):
    """A CAP alert message."""

    identifier: str = Field(min_length=1)
    sender: str = Field(min_length=1)
    sent: datetime
    status: Status
    msg_type: MsgType
    scope: Scope
    source: str | None = None
    restriction: str | None = None
    addresses: str | None = None
    codes: tuple[str, ...] = ()
    note: str | None = None
    references: tuple[str, ...] = ()
    incidents: str | None = None
    infos: tuple[Info, ...] = ()
    version: str = Field(default="1.2", pattern=r"^1\.[12]$")

    @field_validator("sent")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError("sent must carry a numeric timezone offset")
        return value

    @property
    def reference(self) -> str:
        """This alert as others reference it: ``sender,identifier,sent``."""
        from alerts.capxml import format_time

        return f"{self.sender},{self.identifier},{format_time(self.sent)}"

    def info_for(self, language: str) -> Info | None:
        """The info block whose language starts with ``language`` (``ko`` matches ``ko-KR``)."""
        for info in self.infos:
            if info.language.lower().split("-")[0] == language.lower().split("-")[0]:
                return info
        return None
