"""Wire records of the public-warning topics: ``alert.requests`` and ``alert.deliveries``.

``AlertRequest`` records each step of an alert's workflow (drafted, approved/published,
cancelled, updated) with the acting supervisor; ``AlertDelivery`` records one channel's
receipt for one recipient (phone numbers masked: the full number stays in the database).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import Field

from goldentime.contracts.core import AwareDatetime, Record, RecordId


class AlertAction(StrEnum):
    DRAFTED = "drafted"
    PUBLISHED = "published"
    CANCELLED = "cancelled"
    UPDATED = "updated"


class AlertRequest(Record):
    """One workflow step of a public warning (topic ``alert.requests``)."""

    alert_id: RecordId
    action: AlertAction
    at: AwareDatetime
    actor: str = Field(min_length=1, max_length=80, description="Supervisor who acted.")
    msg_type: str = Field(pattern=r"^(Alert|Update|Cancel)$")
    exercise: bool = Field(description="True for exercises: never reaches live recipients.")
    template: str = Field(min_length=1, max_length=40)
    headline_ko: str = Field(max_length=300)
    headline_en: str = Field(default="", max_length=300)
    area_desc: str = Field(default="", max_length=2000)
    references: list[str] = Field(default_factory=list, description="sender,identifier,sent")

    @property
    def event_time(self) -> datetime:
        return self.at


class AlertDelivery(Record):
    """A delivery receipt for one recipient on one channel (topic ``alert.deliveries``)."""

    alert_id: RecordId
    channel: str = Field(min_length=1, max_length=20)
    recipient_masked: str = Field(max_length=40, description="e.g. +8210****5678")
    status: str = Field(min_length=1, max_length=20)
    provider_id: str | None = Field(default=None, max_length=64)
    at: AwareDatetime

    @property
    def event_time(self) -> datetime:
        return self.at


def mask_phone(phone: str) -> str:
    """Keep the country/operator prefix and the last four digits."""
    if len(phone) <= 8:
        return "*" * len(phone)
    return phone[:5] + "*" * (len(phone) - 9) + phone[-4:]
