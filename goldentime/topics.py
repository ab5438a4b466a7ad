"""Topic names and layout, declared once.

Partition counts default to the settings value; compacted topics keep the latest state per
key (incident id, unit id). Every producer and consumer refers to these constants, never to a
string literal.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class TopicSpec:
    name: str
    description: str
    compacted: bool = False


CALLS = TopicSpec("calls", "119 calls from intake (console, API, telephony, demo)")
INCIDENTS = TopicSpec("incidents", "current incident state, keyed by incident id", compacted=True)
TIMELINE = TopicSpec("incident.timeline", "append-only incident history")
RECOMMENDATIONS = TopicSpec("recommendations", "unit recommendations per incident")
COMMANDS = TopicSpec("commands", "dispatcher and crew commands (assign, status, unlink, close)")
UNITS = TopicSpec("units", "unit status and position, keyed by unit id", compacted=True)
VIDEO_EVENTS = TopicSpec("video.events", "fire/smoke/motion and camera-health events")
SENSOR_READINGS = TopicSpec("sensor.readings", "bridge and tunnel sensor readings")
SENSOR_ALARMS = TopicSpec("sensor.alarms", "structure alarms and sensor faults from the rules")
CLOSURES = TopicSpec("routing.closures", "road closures and reopenings for routing")
ALERT_REQUESTS = TopicSpec("alert.requests", "public warning drafts and approvals")
ALERT_DELIVERIES = TopicSpec("alert.deliveries", "per-recipient delivery receipts")
DEADLETTER = TopicSpec("deadletter", "records a consumer rejected, with the reason")

ALL_TOPICS: tuple[TopicSpec, ...] = (
    CALLS,
    INCIDENTS,
    TIMELINE,
    RECOMMENDATIONS,
    COMMANDS,
    UNITS,
    VIDEO_EVENTS,
    SENSOR_READINGS,
    SENSOR_ALARMS,
    CLOSURES,
    ALERT_REQUESTS,
    ALERT_DELIVERIES,
    DEADLETTER,
)
