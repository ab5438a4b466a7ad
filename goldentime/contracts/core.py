"""Wire contracts: every record on every topic, in one place.

Every record carries an ``id``, a ``schema_version`` and its event time. Records are JSON on
the wire (orjson), validated on the way in with pydantic; a record that fails validation raises
:class:`~goldentime.errors.ContractError` naming the field and the reason, which consumers put
on the dead-letter topic. Models are frozen and refuse unknown fields, so a producer that
changes a record must bump its ``schema_version``.
"""

from __future__ import annotations

import base64
import hashlib
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any, ClassVar, Literal, TypeVar

import orjson
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    model_validator,
)

from goldentime.errors import ContractError

# Korea, generously: a 119 record outside this box is certainly a mistake.
LAT_RANGE = (33.0, 39.0)
LON_RANGE = (124.0, 132.0)

RecordId = Annotated[
    str,
    Field(
        min_length=1,
        max_length=80,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:\-]*$",
        description="Stable unique id chosen by the producer; re-sending it changes nothing.",
    ),
]
Latitude = Annotated[
    float, Field(ge=LAT_RANGE[0], le=LAT_RANGE[1], description="WGS84 latitude (Korea).")
]
Longitude = Annotated[
    float, Field(ge=LON_RANGE[0], le=LON_RANGE[1], description="WGS84 longitude (Korea).")
]


def _aware(value: datetime) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("timestamp must carry a timezone offset, e.g. 2026-01-01T09:00:00+09:00")
    return value


AwareDatetime = Annotated[datetime, AfterValidator(_aware)]


def utcnow() -> datetime:
    return datetime.now(UTC)


class IncidentType(StrEnum):
    """What happened. Korean names and run cards live in `dispatch`."""

    FIRE = "fire"
    BUILDING_FIRE = "building_fire"
    VEHICLE_FIRE = "vehicle_fire"
    CARDIAC_ARREST = "cardiac_arrest"
    EMS = "ems"
    TRAFFIC_COLLISION = "traffic_collision"
    RESCUE = "rescue"
    HAZMAT = "hazmat"
    FLOOD = "flood"
    STRUCTURE_ALARM = "structure_alarm"
    OTHER = "other"


class IncidentStatus(StrEnum):
    OPEN = "open"  # taken, no unit assigned yet
    DISPATCHED = "dispatched"  # units assigned, none on scene yet
    ON_SCENE = "on_scene"  # the first unit has arrived
    CLOSED = "closed"
    MERGED = "merged"  # folded into another incident (see merged_into)


class Record(BaseModel):
    """Base of every wire record."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)
    SCHEMA_VERSION: ClassVar[int] = 1

    id: RecordId
    schema_version: int = Field(default=1, ge=1, le=1, description="Version of this contract.")

    @property
    def event_time(self) -> datetime:  # pragma: no cover - every record overrides
        raise NotImplementedError


class CallSource(StrEnum):
    CONSOLE = "console"
    API = "api"
    TELEPHONY = "telephony"
    CLI = "cli"
    DEMO = "demo"
    SIMULATION = "simulation"


class LocationSource(StrEnum):
    """Who gave a call's position."""

    AML = "aml"  # Advanced Mobile Location: the handset's GNSS/Wi-Fi fix sent by SMS/HTTPS
    NETWORK = "network"  # the carrier's emergency location (cell / network positioning)
    CALLER = "caller"  # what the caller said (an address or landmark, looked up)
    CALL_TAKER = "call_taker"  # placed by the call-taker on the map or from the gazetteer


MAX_LOCATION_UNCERTAINTY_M = 50_000.0


def sender_clock_skew_s(
    claimed: datetime, accepted: datetime, *, ahead_max_s: float, behind_max_s: float
) -> float | None:
    """``claimed - accepted`` in seconds when a sender's clock is off, else None.

    ``claimed`` is the sender's answer time, ``accepted`` the intake's own clock. A claim
    more than ``ahead_max_s`` in the future, or more than ``behind_max_s`` in the past (a
    call may be posted a few minutes after it was answered), is a wrong clock or time zone.
    """
    skew = (claimed - accepted).total_seconds()
    return skew if skew > ahead_max_s or skew < -behind_max_s else None


class Call(Record):
    """A 119 call as taken by a call-taker or a telephony adapter (topic ``calls``).

    Version 2 added how sure the position is: ``location_uncertainty_m`` (the radius of the
    circle the caller is in, about 95 %, as AML or a carrier's emergency location delivers it)
    and ``location_source``. Version 3 adds the intake's receipt time and the sender's clock
    skew: a call whose sender clock was off (``clock_skew_s`` set) is ordered and correlated by
    ``accepted_at``, the server's receipt time; ``received_at`` keeps what the sender claimed.
    Older records are read as calls without the later fields.
    """

    SCHEMA_VERSION: ClassVar[int] = 3
    schema_version: int = Field(
        default=3,
        ge=1,
        le=3,
        description="Version of this contract (2: `location_uncertainty_m`, `location_source`; "
        "3: `accepted_at`, `clock_skew_s`).",
    )
    received_at: AwareDatetime = Field(
        description="When the call was answered, by the sender's clock (event time unless "
        "`clock_skew_s` is set)."
    )
    lat: Latitude
    lon: Longitude
    type: IncidentType = Field(description="What the caller reports.")
    caller: str | None = Field(
        default=None, max_length=64, description="Caller number or name, if known."
    )
    description: str = Field(default="", max_length=2000, description="Call-taker's notes.")
    source: CallSource = Field(default=CallSource.API, description="Where the call came from.")
    location_uncertainty_m: float | None = Field(
        default=None,
        gt=0.0,
        le=MAX_LOCATION_UNCERTAINTY_M,
        description="Radius (metres, ~95%) of the circle the caller is in; None: not given.",
    )
    location_source: LocationSource | None = Field(
        default=None, description="Who gave the position (aml, network, caller, call_taker)."
    )
    accepted_at: AwareDatetime | None = Field(
        default=None,
        description="When Golden Time's intake took the call, by the server's clock (set by "
        "the intake).",
    )
    clock_skew_s: float | None = Field(
        default=None,
        allow_inf_nan=False,
        description="`received_at` minus `accepted_at` in seconds, set only when beyond the "
        "intake's tolerance: the sender's clock is wrong, the call is flagged and ordered by "
        "`accepted_at`.",
    )

    @model_validator(mode="after")
    def _skew_of_receipt(self) -> Call:
        if (self.accepted_at is not None or self.clock_skew_s is not None) and (
            self.schema_version < 3
        ):
            raise ValueError("accepted_at and clock_skew_s need schema_version 3")
        if self.clock_skew_s is None:
            return self
        if self.accepted_at is None:
            raise ValueError("clock_skew_s needs accepted_at")
        if abs((self.received_at - self.accepted_at).total_seconds() - self.clock_skew_s) > 1e-3:
            raise ValueError("clock_skew_s must be received_at minus accepted_at")
        return self

    @property
    def event_time(self) -> datetime:
        """What orders and correlates the call: the server's receipt time when the sender's
        clock was off, else the answer time the sender gave."""
        if self.clock_skew_s is not None and self.accepted_at is not None:
            return self.accepted_at
        return self.received_at


class Incident(Record):
    """Current state of one incident (topic ``incidents``, compacted by id)."""

    SCHEMA_VERSION: ClassVar[int] = 2
    schema_version: int = Field(
        default=2, ge=1, le=2, description="Version of this contract (2: `clock_skew_s`)."
    )
    type: IncidentType
    status: IncidentStatus
    lat: Latitude
    lon: Longitude
    call_ids: list[RecordId] = Field(
        default_factory=list, description="119 calls about the incident (oldest first)."
    )
    created_at: AwareDatetime
    updated_at: AwareDatetime
    description: str = Field(default="", max_length=2000)
    revision: int = Field(default=1, ge=1, description="Bumped on every state change.")
    priority: int = Field(default=3, ge=1, le=5, description="1 is the most urgent.")
    gu: str | None = Field(default=None, max_length=40, description="District (구).")
    event_ids: list[RecordId] = Field(
        default_factory=list, description="Video and sensor events attached to the incident."
    )
    unit_ids: list[RecordId] = Field(default_factory=list, description="Units assigned now.")
    dispatched_at: AwareDatetime | None = None
    en_route_at: AwareDatetime | None = None
    on_scene_at: AwareDatetime | None = None
    closed_at: AwareDatetime | None = None
    merged_into: RecordId | None = None
    clock_skew_s: float | None = Field(
        default=None,
        allow_inf_nan=False,
        description="The clock skew of largest size among its calls (see `Call.clock_skew_s`): "
        "a sender's clock was wrong; that call is placed by the server's receipt time.",
    )

    @model_validator(mode="after")
    def _reported(self) -> Incident:
        # A merged duplicate hands its calls and events to the incident it went into.
        if not self.call_ids and not self.event_ids and self.status != IncidentStatus.MERGED:
            raise ValueError("an incident needs at least one call or event")
        return self

    @property
    def event_time(self) -> datetime:
        return self.updated_at


class TimelineEntry(Record):
    """One append-only line of an incident's history (topic ``incident.timeline``)."""

    incident_id: RecordId
    at: AwareDatetime
    kind: str = Field(min_length=1, max_length=40)
    detail: str = Field(default="", max_length=2000)
    actor: str = Field(default="system", max_length=80)

    @property
    def event_time(self) -> datetime:
        return self.at


class DeadLetter(Record):
    """A record a consumer could not process, with the reason (topic ``deadletter``)."""

    at: AwareDatetime
    source_topic: str
    partition: int | None = None
    offset: int | None = None
    key: str | None = None
    reason: str = Field(min_length=1, max_length=4000)
    consumer: str = Field(max_length=80)
    payload_encoding: Literal["utf-8", "base64"]
    payload: str

    @property
    def event_time(self) -> datetime:
        return self.at

    @classmethod
    def for_message(
        cls,
        message: Any,
        *,
        reason: str,
        consumer: str,
        at: datetime,
        payload: bytes | None = None,
        part: int | None = None,
    ) -> DeadLetter:
        """Wrap a consumed Kafka message (anything with topic, partition, offset, key, value).

        ``payload`` replaces the message value when only one item of a multi-record message
        failed; ``part`` (its index) then keeps the dead letter's id unique.
        """
        value = message.value
        raw = value if isinstance(value, bytes) else bytes(value or b"")
        letter = cls.for_payload(
            raw if payload is None else payload,
            reason=reason,
            source_topic=message.topic,
            partition=message.partition,
            offset=message.offset,
            key=message.key if isinstance(message.key, bytes) else None,
            consumer=consumer,
            at=at,
        )
        return letter if part is None else letter.model_copy(update={"id": f"{letter.id}-{part}"})

    @classmethod
    def for_payload(
        cls,
        raw: bytes,
        *,
        reason: str,
        source_topic: str,
        consumer: str,
        partition: int | None = None,
        offset: int | None = None,
        key: bytes | None = None,
        at: datetime | None = None,
    ) -> DeadLetter:
        """Wrap raw bytes that failed, keeping them intact (base64 when not UTF-8)."""
        try:
            text, encoding = raw.decode("utf-8"), "utf-8"
        except UnicodeDecodeError:
            text, encoding = base64.b64encode(raw).decode("ascii"), "base64"
        position = f"{source_topic}-{partition}-{offset}" if offset is not None else None
        return cls(
            id=f"dl-{position}" if position else f"dl-{hashlib.sha256(raw).hexdigest()[:16]}",
            at=at or utcnow(),
            source_topic=source_topic,
            partition=partition,
            offset=offset,
            key=key.decode("utf-8", "replace") if key is not None else None,
            reason=reason[:4000],
            consumer=consumer,
            payload_encoding=encoding,
            payload=text,
        )


RecordT = TypeVar("RecordT", bound=Record)


def encode(record: Record) -> bytes:
    """Serialize a record to JSON bytes."""
    return orjson.dumps(record.model_dump(mode="json"))


def _describe(err: ValidationError) -> tuple[str, str | None]:
    first = err.errors()[0]
    field = ".".join(str(p) for p in first["loc"]) or None
    problems = "; ".join(
        f"{'.'.join(str(p) for p in e['loc']) or '(record)'}: {e['msg']}" for e in err.errors()
    )
    return problems, field


def decode(model: type[RecordT], raw: bytes | str) -> RecordT:
    """Parse and validate JSON bytes into ``model``; raise ContractError with the reason."""
    try:
        return model.model_validate_json(raw)  # one pass in pydantic's parser: the common case
    except ValidationError:
        pass  # say why the way every consumer reports it (below)
    try:
        data: Any = orjson.loads(raw)
    except orjson.JSONDecodeError as err:
        raise ContractError(f"not JSON: {err}") from err
    return validate(model, data)


def validate(model: type[RecordT], data: Any) -> RecordT:
    """Validate already-parsed JSON into ``model``; raise ContractError with the reason."""
    if not isinstance(data, dict):
        raise ContractError(f"expected a JSON object, got {type(data).__name__}")
    try:
        return model.model_validate(data)
    except ValidationError as err:
        reason, field = _describe(err)
        raise ContractError(f"invalid {model.__name__}: {reason}", field=field) from err


EXPORTED_SCHEMAS: dict[str, type[Record]] = {
    "call": Call,
    "incident": Incident,
    "timeline_entry": TimelineEntry,
    "dead_letter": DeadLetter,
}


def json_schemas() -> dict[str, dict[str, Any]]:
    """JSON Schema of each exported record, for adapters written in other languages."""
    return {name: model.model_json_schema() for name, model in EXPORTED_SCHEMAS.items()}
