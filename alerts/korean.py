"""Korean disaster-text (긴급재난문자) classes, their length budgets and the CBS request.

Three classes: 위급재난 (extreme: war, large earthquake), 긴급재난 (emergency) and 안전안내
(safety guidance). The text limit is 157 characters (it was 90); evacuation orders stay at
90 so they fit every handset in one screen. A city cannot broadcast to cells itself: it
produces a request for the carriers' gateway, in the right class and length.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from alerts.cap import Alert, ResponseType, Severity, Status, Urgency
from alerts.capxml import format_time
from alerts.errors import TextBudgetError

STANDARD_BUDGET = 157
LEGACY_BUDGET = 90
EVACUATION_BUDGET = 90


class DisasterClass(StrEnum):
    EXTREME = "위급재난"
    EMERGENCY = "긴급재난"
    SAFETY = "안전안내"


# 3GPP TS 23.041 cell-broadcast message identifiers used for the Korean classes
# (Presidential/extreme, emergency, safety guidance).
CBS_MESSAGE_ID: dict[DisasterClass, int] = {
    DisasterClass.EXTREME: 4370,
    DisasterClass.EMERGENCY: 4371,
    DisasterClass.SAFETY: 4372,
}


def classify(*, severity: Severity, urgency: Urgency) -> DisasterClass:
    """The class for a CAP severity/urgency: Extreme → 위급재난, Severe/Immediate → 긴급재난."""
    if severity is Severity.EXTREME:
        return DisasterClass.EXTREME
    if severity is Severity.SEVERE or urgency is Urgency.IMMEDIATE:
        return DisasterClass.EMERGENCY
    return DisasterClass.SAFETY


def budget(*, evacuation: bool, legacy: bool = False) -> int:
    """Characters allowed: 90 for evacuation orders (and legacy handsets), else 157."""
    return EVACUATION_BUDGET if evacuation or legacy else STANDARD_BUDGET


@dataclass(frozen=True, slots=True)
class KoreanText:
    disaster_class: DisasterClass
    text: str
    characters: int
    budget: int


def check_text(
    text: str, *, severity: Severity, urgency: Urgency, evacuation: bool, legacy: bool = False
) -> KoreanText:
    """Classify and check the length; TextBudgetError says by how much it is over."""
    disaster_class = classify(severity=severity, urgency=urgency)
    limit = budget(evacuation=evacuation, legacy=legacy)
    if len(text) > limit:
        why = "evacuation messages" if evacuation else f"class {disaster_class.value}"
        raise TextBudgetError(
            f"Korean text is {len(text)} characters; {why} allow {limit} "
            f"({len(text) - limit} over): {text[:40]!r}..."
        )
    return KoreanText(disaster_class, text, len(text), limit)


def sms_text(headline: str, instruction: str | None, *, banner: str | None) -> str:
    """The short text of a warning: optional banner, headline and instruction."""
    parts = [p for p in (banner, headline, instruction) if p]
    return " ".join(parts)


def cell_broadcast_request(
    alert: Alert, *, text: str, gu_codes: list[str], requested_at: datetime
) -> dict[str, Any]:
    """The JSON payload asking the carriers' gateway to broadcast ``text`` to the gu."""
    info = alert.info_for("ko") or alert.infos[0]
    evacuation = ResponseType.EVACUATE in info.response_types
    checked = check_text(text, severity=info.severity, urgency=info.urgency, evacuation=evacuation)
    return {
        "request_id": f"cbs-{alert.identifier}",
        "cap_reference": alert.reference,
        "msg_type": alert.msg_type.value,
        "exercise": alert.status is not Status.ACTUAL,
        "class": checked.disaster_class.value,
        "cbs_message_id": CBS_MESSAGE_ID[checked.disaster_class],
        "language": "ko",
        "text": checked.text,
        "characters": checked.characters,
        "budget": checked.budget,
        "evacuation": evacuation,
        "areas": sorted(set(gu_codes)),
        "expires": format_time(info.expires) if info.expires else None,
        "requested_at": format_time(requested_at),
    }
