"""The SMS seam of caller media: the alerts' Twilio channel (the loopback fake in the demo)."""

from __future__ import annotations

import uuid
from typing import Any

from alerts.channels.base import OutboundMessage
from alerts.channels.twilio_sms import TwilioSmsChannel, twilio_client
from alerts.runtime import AlertsConfig
from console.caller_media_routes import SmsSender


def sms_sender(config: AlertsConfig) -> SmsSender | None:
    """Sends one SMS through the live Twilio channel; None when Twilio is not configured."""
    sid, token = config.twilio_account_sid, config.twilio_auth_token
    if not (sid and token and config.twilio_sender):
        return None
    base = config.twilio_api_base_url

    def client() -> Any:
        return twilio_client(account_sid=sid, auth_token=token, base_url=base)

    channel = TwilioSmsChannel(
        client_factory=client,
        sender=config.twilio_sender,
        status_callback_url=None,
        rate_per_s=config.alert_sms_rate_per_s,
    )

    def send(to: str, body: str, validity_s: int) -> str:
        message = OutboundMessage(
            key=f"caller-media:{uuid.uuid4().hex}",
            to=to,
            body=body,
            language="ko",
            validity_s=validity_s,
        )
        return channel.send(message).status

    return send
