"""Wire contracts: every record on every topic, in this one package.

``core`` holds the base record and the 119 call / incident / timeline / dead-letter records;
each further module holds the records of one flow (video events, sensor readings, alerts, ...).
Every record carries an ``id``, a ``schema_version`` and its event time, is JSON on the wire,
and is validated on the way in; see :func:`decode`.
"""

from goldentime.contracts.core import (
    Call,
    CallSource,
    DeadLetter,
    Incident,
    IncidentStatus,
    IncidentType,
    LocationSource,
    Record,
    TimelineEntry,
    decode,
    encode,
    json_schemas,
    sender_clock_skew_s,
    utcnow,
    validate,
)

__all__ = [
    "Call",
    "CallSource",
    "DeadLetter",
    "Incident",
    "IncidentStatus",
    "IncidentType",
    "LocationSource",
    "Record",
    "TimelineEntry",
    "decode",
    "encode",
    "json_schemas",
    "sender_clock_skew_s",
    "utcnow",
    "validate",
]
