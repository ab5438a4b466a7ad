"""NENA-STA-024 subscribe/notify messages as Golden Time sends and accepts them.

Every message is one JSON object with one member naming its kind (``subscribe``, ``event``,
``requestForService``, ...). Anything else is refused with the reason (:class:`RefusedError`); the
caller logs it and stores nothing.

Push messages (``requestForService`` and its answer, STA-024's responseToRequest, whose
member is ``response``) carry ``messageId``, an extension member: the receiver acknowledges
each with an ``eventResponse`` whose ``transactionId`` is that id, exactly as events are
acknowledged, so a sender keeps a message until the partner has it (at least once) and the
receiver handles it once (by id).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from goldentime.errors import GoldenTimeError

MAX_MESSAGE_BYTES = 4 * 1024 * 1024
# kind -> members it must carry, and their JSON types.
REQUIRED: dict[str, dict[str, type | tuple[type, ...]]] = {
    "subscribe": {"requestId": str},
    "unsubscribe": {"requestId": str, "subscriptionId": str},
    "subscribeResponse": {"requestId": str, "statusCode": int, "statusText": str},
    "unsubscribeResponse": {"requestId": str, "statusCode": int, "statusText": str},
    "event": {"subscriptionId": str, "transactionId": str, "notification": list},
    "eventResponse": {"transactionId": str, "statusCode": int, "statusText": str},
    "terminate": {"requestId": str, "subscriptionId": str},
    "terminateResponse": {"requestId": str, "subscriptionId": str, "statusCode": int},
    "requestForService": {"requestId": str, "eido": dict, "messageId": str},
    "response": {"requestId": str, "responseCode": int, "responseText": str, "messageId": str},
}
ALIASES = {"responseToRequest": "response"}


class RefusedError(GoldenTimeError):
    """A partner message that is not taken; the message is the reason."""


@dataclass(frozen=True, slots=True)
class Message:
    kind: str
    body: dict[str, Any]


def parse(raw: str | bytes) -> Message:
    """One STA-024 message; raises RefusedError naming what is wrong."""
    if len(raw) > MAX_MESSAGE_BYTES:
        raise RefusedError(f"message of {len(raw)} bytes exceeds {MAX_MESSAGE_BYTES}")
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as err:
        raise RefusedError(f"not JSON: {err}") from err
    if not isinstance(data, dict) or len(data) != 1:
        raise RefusedError("a message is a JSON object with exactly one member naming its kind")
    ((name, body),) = data.items()
    kind = ALIASES.get(name, name)
    if kind not in REQUIRED:
        raise RefusedError(f"unknown message kind {name!r}")
    if not isinstance(body, dict):
        raise RefusedError(f"{name}: must be an object")
    for field, expected in REQUIRED[kind].items():
        value = body.get(field)
        if value is None:
            raise RefusedError(f"{name}.{field}: missing")
        if not isinstance(value, expected) or (isinstance(value, bool) and expected is int):
            raise RefusedError(f"{name}.{field}: wrong type {type(value).__name__}")
        if isinstance(value, str) and not (0 < len(value) <= 300):
            raise RefusedError(f"{name}.{field}: empty or longer than 300 characters")
    return Message(kind=kind, body=body)


def dumps(kind: str, body: dict[str, Any]) -> str:
    return json.dumps({kind: body}, ensure_ascii=False, separators=(",", ":"))


def ack(transaction_id: str, *, code: int = 200, text: str = "OK") -> str:
    return dumps(
        "eventResponse", {"transactionId": transaction_id, "statusCode": code, "statusText": text}
    )
