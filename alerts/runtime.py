"""The alerts package wired for a running process: configuration, channels, the service.

:func:`alerts_config` is the ONE place that reads the alert settings, all from the settings
model (``goldentime.settings``: environment variables ``GOLDENTIME_TWILIO_...`` and the TOML
file). :func:`build_service` turns them into an
:class:`AlertService` over the incident database: live channels (Twilio SMS, Mastodon) and the
sandbox channels that exercises use. :func:`publisher_sink` is the seam that puts the
service's workflow and delivery records on ``alert.requests`` / ``alert.deliveries``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, fields
from typing import Any

import anyio.from_thread
from pydantic import SecretStr
from sqlalchemy.orm import Session, sessionmaker

from alerts.areas import load_gazetteer
from alerts.channels.social import MastodonChannel, mastodon_client
from alerts.channels.twilio_sms import TwilioSmsChannel, twilio_client
from alerts.errors import AlertError
from alerts.service import AlertService, ChannelSet
from goldentime import topics
from goldentime.clock import Clock, SystemClock
from goldentime.contracts.alerts import AlertDelivery, AlertRequest
from goldentime.contracts.core import Record
from goldentime.db import engine_for, session_factory
from goldentime.errors import ConfigError, GoldenTimeError
from goldentime.settings import Settings
from goldentime.topics import TopicSpec

log = logging.getLogger(__name__)

STATUS_CALLBACK_PATH = "/hooks/twilio/status"


class AlertsConfigError(AlertError, ConfigError):
    """An alert setting is missing, incomplete or malformed."""


@dataclass(frozen=True, slots=True)
class AlertsConfig:
    """The alert settings (field name = field of ``settings.alerts``, there without the
    ``alert_`` prefix; env var = ``GOLDENTIME_`` + upper)."""

    public_base_url: str | None = None
    twilio_account_sid: str | None = None
    twilio_auth_token: str | None = None
    twilio_sender: str | None = None
    twilio_api_base_url: str | None = None
    twilio_sandbox_account_sid: str | None = None
    twilio_sandbox_auth_token: str | None = None
    twilio_sandbox_api_base_url: str | None = None
    mastodon_base_url: str | None = None
    mastodon_token: str | None = None
    mastodon_sandbox_base_url: str | None = None
    mastodon_sandbox_token: str | None = None
    alert_sms_rate_per_s: float = 100.0
    alert_demo_subscribers: bool = False

    def base_url(self, settings: Settings) -> str:
        """Where citizens open the public pages (links in SMS and posts, CAP ``web``)."""
        url = self.public_base_url or f"http://{settings.console.host}:{settings.console.port}"
        return url.rstrip("/")

    def status_callback_url(self, settings: Settings) -> str:
        return self.base_url(settings) + STATUS_CALLBACK_PATH


def env_name(field: str) -> str:
    """The environment variable of an alert setting (named in configuration errors)."""
    return f"GOLDENTIME_{field.upper()}"


def alerts_config(settings: Settings) -> AlertsConfig:
    """The alert settings of ``settings`` (every field comes from the settings model), checked
    for channels that are half configured."""
    values: dict[str, Any] = {}
    for item in fields(AlertsConfig):
        # AlertsConfig keeps the flat names: alert_sms_rate_per_s is settings.alerts.sms_rate_per_s
        value = getattr(settings.alerts, item.name.removeprefix("alert_"))
        values[item.name] = value.get_secret_value() if isinstance(value, SecretStr) else value
    config = AlertsConfig(**values)
    for prefix in ("twilio", "twilio_sandbox", "mastodon", "mastodon_sandbox"):
        given = {
            f.name: getattr(config, f.name)
            for f in fields(AlertsConfig)
            if f.name.startswith(prefix + "_")
            and (prefix.endswith("sandbox") or "sandbox" not in f.name)
            and not f.name.endswith("api_base_url")
        }
        if any(given.values()) and not all(given.values()):
            missing = ", ".join(env_name(k) for k, v in given.items() if not v)
            raise AlertsConfigError(f"{prefix.replace('_', ' ')} is half configured: set {missing}")
    if config.twilio_sandbox_account_sid and not config.twilio_sender:
        raise AlertsConfigError(f"the sandbox SMS channel needs {env_name('twilio_sender')}")
    return config


def _sms_channel(
    config: AlertsConfig, settings: Settings, *, sandbox: bool
) -> TwilioSmsChannel | None:
    prefix = "twilio_sandbox" if sandbox else "twilio"
    sid = getattr(config, f"{prefix}_account_sid")
    token = getattr(config, f"{prefix}_auth_token")
    base = getattr(config, f"{prefix}_api_base_url")
    if not (sid and token and config.twilio_sender):
        return None

    def client() -> Any:
        return twilio_client(account_sid=sid, auth_token=token, base_url=base)

    return TwilioSmsChannel(
        client_factory=client,
        sender=config.twilio_sender,
        # Sandbox receipts are not verified against the live token: no callbacks for them.
        status_callback_url=None if sandbox else config.status_callback_url(settings),
        rate_per_s=config.alert_sms_rate_per_s,
        sandbox=sandbox,
    )


def _social_channels(config: AlertsConfig, *, sandbox: bool) -> list[MastodonChannel]:
    base = config.mastodon_sandbox_base_url if sandbox else config.mastodon_base_url
    token = config.mastodon_sandbox_token if sandbox else config.mastodon_token
    if not (base and token):
        return []
    return [
        MastodonChannel(
            client_factory=lambda: mastodon_client(base_url=base, access_token=token),
            sandbox=sandbox,
        )
    ]


def build_service(
    settings: Settings,
    *,
    sessions: sessionmaker[Session] | None = None,
    clock: Clock | None = None,
    sink: Callable[[Record], None] | None = None,
    config: AlertsConfig | None = None,
) -> AlertService:
    """The alert service of this process: incident database, gazetteer, configured channels.

    Live channels come from the Twilio/Mastodon settings, sandbox channels (used by every
    exercise) from their ``*_sandbox_*`` counterparts; a channel that is not configured is
    simply absent (an alert is still published on the feed and the public page).
    """
    config = config or alerts_config(settings)
    sessions = sessions or session_factory(engine_for(settings))
    service = AlertService(
        sessions=sessions,
        gazetteer=load_gazetteer(settings.data.seoul_dir / "boundaries"),
        clock=clock or SystemClock(),
        base_url=config.base_url(settings),
        live=ChannelSet(
            sms=_sms_channel(config, settings, sandbox=False),
            social=list(_social_channels(config, sandbox=False)),
        ),
        sandbox=ChannelSet(
            sms=_sms_channel(config, settings, sandbox=True),
            social=list(_social_channels(config, sandbox=True)),
        ),
        sms_rate_per_s=config.alert_sms_rate_per_s,
        sink=sink,
    )
    if config.alert_demo_subscribers:
        from alerts.demo import seed_demo_subscribers

        added = seed_demo_subscribers(sessions)
        if added:
            log.info("seeded %d demo alert subscribers in central Seoul", added)
    return service


Publish = Callable[..., Coroutine[Any, Any, None]]


def topic_of(record: Record) -> TopicSpec:
    if isinstance(record, AlertRequest):
        return topics.ALERT_REQUESTS
    if isinstance(record, AlertDelivery):
        return topics.ALERT_DELIVERIES
    raise TypeError(f"no alert topic for {type(record).__name__}")


async def _publish_one(publish: Publish, record: Record, key: str) -> None:
    await publish(topic_of(record), record, key=key)


def publisher_sink(publish: Publish) -> Callable[[Record], None]:
    """A service ``sink`` over an async ``publish(topic, record, key=)`` (the console's).

    The service calls its sink from worker threads (FastAPI runs sync routes and background
    tasks there); the record goes to the event loop's producer and is waited for. A broker
    failure is logged, not raised: the database is the record of the alert, and a published
    warning must not turn into an error page because the stream is down.
    """

    def sink(record: Record) -> None:
        key = str(getattr(record, "alert_id", record.id))
        try:
            anyio.from_thread.run(_publish_one, publish, record, key)
        except GoldenTimeError as err:
            log.error("alert record %s not published to %s: %s", record.id, topic_of(record), err)
        except RuntimeError as err:  # not on an AnyIO worker thread: a wiring bug, say so
            log.error("alert record %s not published (no event loop): %s", record.id, err)

    return sink
