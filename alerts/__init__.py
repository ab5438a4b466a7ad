"""Public warnings for Seoul's 119 centre: CAP 1.2, two-person approval, SMS/social/feed.

The flow: a supervisor drafts a warning (:class:`DraftRequest`, from a template, for gu/dong
names, a polygon or a circle); :meth:`AlertService.preview` shows what each channel will send;
a *different* supervisor approves it (:meth:`AlertService.approve`), which publishes the CAP
alert (public Atom feed and XML at ``/alerts/{id}.xml``); :meth:`AlertService.deliver` fans
it out to the subscribers inside the area (SMS through the real ``twilio`` client, Mastodon)
exactly once per recipient, even across a crash; :meth:`AlertService.cancel` sends the
template's prepared cancellation to the same people. Exercises are ``status=Exercise`` end
to end and only reach exercise participants over sandbox channels.

Modules: ``cap``/``capxml``/``capvalidate`` (model, safe XML, schema + profile),
``compose``/``templates``/``korean``/``sms_text`` (texts, classes, budgets), ``areas``/
``geotarget`` (gazetteer, vectorised targeting), ``store`` (tables), ``fanout``/``receipts``
(exactly-once delivery, callbacks), ``channels`` (Twilio SMS, Mastodon), ``feed``, ``api``
(FastAPI router), ``cli`` (``goldentime alert``), ``fakes`` (loopback Twilio and Mastodon).
"""

from __future__ import annotations

from alerts.alert_store import create_tables
from alerts.api import acting_user, create_router
from alerts.areas import Gazetteer, load_gazetteer
from alerts.cap import Alert, Area, Info, MsgType, Status
from alerts.capvalidate import ValidationReport, require_publishable, validate_document
from alerts.capxml import parse, serialize
from alerts.channels.base import RateLimiter, RetryPolicy
from alerts.channels.social import MastodonChannel, mastodon_client
from alerts.channels.twilio_sms import TwilioSmsChannel, twilio_client
from alerts.compose import DraftRequest, compose, parse_request
from alerts.errors import (
    AlertError,
    AreaError,
    CapInvalidError,
    CapRefusedError,
    ChannelError,
    DuplicateAlertError,
    TextBudgetError,
    WebhookRejectedError,
    WorkflowError,
)
from alerts.geotarget import Recipient, SubscriberIndex, add_subscriber
from alerts.service import AlertService, ChannelSet, DeliverySummary

__all__ = [
    "Alert",
    "AlertError",
    "AlertService",
    "Area",
    "AreaError",
    "CapInvalidError",
    "CapRefusedError",
    "ChannelError",
    "ChannelSet",
    "DeliverySummary",
    "DraftRequest",
    "DuplicateAlertError",
    "Gazetteer",
    "Info",
    "MastodonChannel",
    "MsgType",
    "RateLimiter",
    "Recipient",
    "RetryPolicy",
    "Status",
    "SubscriberIndex",
    "TextBudgetError",
    "TwilioSmsChannel",
    "ValidationReport",
    "WebhookRejectedError",
    "WorkflowError",
    "acting_user",
    "add_subscriber",
    "compose",
    "create_router",
    "create_tables",
    "load_gazetteer",
    "mastodon_client",
    "parse",
    "parse_request",
    "require_publishable",
    "serialize",
    "twilio_client",
    "validate_document",
]
