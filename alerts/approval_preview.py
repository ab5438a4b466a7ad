"""What each channel will send, shown to the supervisor before approval.

For SMS: characters, encoding, parts per language as the handset receives it (Korean
numbers get ``[국제발신]``), recipients per language and how long the fan-out takes at the
configured rate, next to the cell-broadcast request that reaches everyone in seconds.
"""

from __future__ import annotations

from typing import Any

from alerts.alert_store import AlertRow
from alerts.cap import Alert
from alerts.channels.social import split_post
from alerts.geotarget import Recipient
from alerts.korean import classify
from alerts.sms_text import KOREA_COUNTRY_CODE, as_delivered, non_euc_kr_characters, sms_encoding

SOCIAL_LIMIT = 500


def channel_preview(
    *,
    row: AlertRow,
    alert: Alert,
    recipients: list[Recipient],
    sms_rate_per_s: float,
    cell_broadcast: dict[str, Any],
) -> dict[str, Any]:
    info = alert.info_for("ko") or alert.infos[0]
    disaster_class = classify(severity=info.severity, urgency=info.urgency)
    by_language: dict[str, int] = {}
    for recipient in recipients:
        by_language[recipient.language] = by_language.get(recipient.language, 0) + 1
    sms: dict[str, Any] = {}
    total_parts = 0
    for lang, text in (("ko", row.text_ko), ("en", row.text_en)):
        if not text:
            continue
        korea = sms_encoding(as_delivered(text, to=KOREA_COUNTRY_CODE))
        abroad = sms_encoding(text)
        count = by_language.get(lang, 0)
        total_parts += count * korea.parts
        sms[lang] = {
            "text": text,
            "characters": len(text),
            "encoding": korea.encoding,
            "parts_korea": korea.parts,
            "parts_other": abroad.parts,
            "non_euc_kr": non_euc_kr_characters(text),
            "recipients": count,
        }
    link = f"/alerts/{row.id}"
    return {
        "id": row.id,
        "state": row.state,
        "msg_type": row.msg_type,
        "exercise": row.exercise,
        "banner": "훈련 상황 / EXERCISE" if row.exercise else "실제 상황 / LIVE",
        "class": disaster_class.value,
        "korean_budget": cell_broadcast["budget"],
        "korean_characters": len(row.text_ko),
        "recipients": len(recipients),
        "sms": sms,
        "sms_messages": total_parts,
        "sms_minutes_at_rate": round(total_parts / sms_rate_per_s / 60.0, 1),
        "sms_rate_per_s": sms_rate_per_s,
        "social": {
            lang: len(split_post(text, link, limit=SOCIAL_LIMIT))
            for lang, text in (("ko", row.text_ko), ("en", row.text_en))
            if text
        },
        "cell_broadcast": cell_broadcast,
    }
