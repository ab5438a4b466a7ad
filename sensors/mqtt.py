"""MQTT -> Kafka bridge: readings on ``goldentime/sensors/{structure}/{sensor}`` to Kafka.

The payload is one reading object (``value``, ``unit``, ``measured_at``, optionally ``id``
and ``kind``); ``structure_id`` and ``sensor_id`` come from the topic and, if also in the
payload, must agree with it. Valid readings go to ``sensor.readings`` through the
:class:`~sensors.ingest.Ingestor`; anything else becomes a dead letter with the reason and
the bridge carries on. Subscriptions are QoS 1; a reading without an id gets
``{sensor_id}:{epoch ms}``, so an MQTT redelivery changes nothing downstream.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

import orjson
import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.reasoncodes import ReasonCode

from goldentime.errors import ContractError
from sensors.errors import ReadingRejectedError, SensorError
from sensors.ingest import Ingestor

log = logging.getLogger(__name__)
TOPIC_PREFIX = "goldentime/sensors"
CONSUMER = "sensors.mqtt"


def topic_for(structure_id: str, sensor_id: str, *, prefix: str = TOPIC_PREFIX) -> str:
    return f"{prefix}/{structure_id}/{sensor_id}"


def parse_message(topic: str, payload: bytes, *, prefix: str = TOPIC_PREFIX) -> Any:
    """The reading object of one message, ids filled from the topic; ReadingRejectedError if bad."""
    parts = topic.removeprefix(prefix + "/").split("/")
    if not topic.startswith(prefix + "/") or len(parts) != 2 or not all(parts):
        raise ReadingRejectedError(f"topic {topic!r} is not {prefix}/{{structure}}/{{sensor}}")
    structure_id, sensor_id = parts
    try:
        data = orjson.loads(payload)
    except orjson.JSONDecodeError as err:
        raise ReadingRejectedError(f"payload is not JSON: {err}") from err
    if not isinstance(data, dict):
        raise ReadingRejectedError(f"payload must be a JSON object, got {type(data).__name__}")
    for name, from_topic in (("structure_id", structure_id), ("sensor_id", sensor_id)):
        given = data.setdefault(name, from_topic)
        if given != from_topic:
            raise ReadingRejectedError(
                f"{name} {given!r} in the payload disagrees with the topic ({from_topic!r})",
                field=name,
            )
    return data


class MqttBridge:
    """Subscribe to the sensor topics of one MQTT broker and feed an :class:`Ingestor`."""

    def __init__(
        self,
        *,
        ingestor: Ingestor,
        host: str,
        port: int,
        prefix: str = TOPIC_PREFIX,
        client_id: str = "goldentime-sensors-bridge",
        keepalive_s: int = 30,
    ) -> None:
        self._ingestor = ingestor
        self._host, self._port = host, port
        self._prefix = prefix
        self._keepalive_s = keepalive_s
        self._connected = threading.Event()
        self.received = 0
        self._client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id)
        self._client.on_connect = self._on_connect
        self._client.on_message = self._on_message
        self._client.on_disconnect = self._on_disconnect

    @property
    def subscription(self) -> str:
        return f"{self._prefix}/+/+"

    def _on_connect(
        self, client: mqtt.Client, _userdata: Any, _flags: Any, reason: ReasonCode, _props: Any
    ) -> None:
        if reason.is_failure:
            log.error("MQTT connect to %s:%s refused: %s", self._host, self._port, reason)
            return
        client.subscribe(self.subscription, qos=1)
        log.info("MQTT bridge subscribed to %s on %s:%s", self.subscription, self._host, self._port)
        self._connected.set()

    def _on_disconnect(
        self, _client: mqtt.Client, _userdata: Any, _flags: Any, reason: ReasonCode, _props: Any
    ) -> None:
        self._connected.clear()
        log.warning("MQTT bridge disconnected (%s); paho reconnects", reason)

    def _on_message(self, _client: mqtt.Client, _userdata: Any, msg: mqtt.MQTTMessage) -> None:
        self.received += 1
        source, payload = f"mqtt:{msg.topic}", bytes(msg.payload)
        try:
            try:
                data = parse_message(msg.topic, payload, prefix=self._prefix)
            except ContractError as err:
                self._ingestor.dead_letter(payload, reason=err.reason, source=source)
            else:
                self._ingestor.ingest_or_dead_letter(payload, data, source=source)
            self._ingestor.flush()  # acknowledged by the broker before MQTT's PUBACK
        except SensorError:
            log.exception("cannot publish the reading from %s", source)

    def start(self, *, timeout_s: float = 10.0) -> MqttBridge:
        """Connect and run the network loop in a thread; wait until subscribed."""
        try:
            self._client.connect(self._host, self._port, keepalive=self._keepalive_s)
        except OSError as err:
            raise SensorError(
                f"cannot connect to MQTT broker {self._host}:{self._port}: {err}"
            ) from err
        self._client.loop_start()
        if not self._connected.wait(timeout_s):
            self.stop()
            raise SensorError(f"MQTT broker {self._host}:{self._port} did not accept us in time")
        return self

    def stop(self) -> None:
        self._client.disconnect()
        self._client.loop_stop()
        try:
            self._ingestor.flush()
        except SensorError:
            log.exception("readings left unacknowledged at shutdown")
