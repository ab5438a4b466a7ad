"""SMS text rules: GSM-7/UCS-2 segment counting and what Twilio does to Korean numbers.

GSM-7 fits 160 septets in one SMS (153 per part of a long message; extension characters such
as ``€`` or ``{`` take two). Any character outside GSM-7 (any Hangul) forces UCS-2: 70 UTF-16
units in one SMS, 67 per part. Twilio delivers to Korea (+82) only characters that exist in
EUC-KR, prepends ``[국제발신]`` and needs a numeric sender.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from alerts.errors import TextBudgetError

GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = frozenset("^{}\\[~]|€\f")
KOREA_PREFIX = "[국제발신]"
KOREA_COUNTRY_CODE = "+82"
MAX_PARTS = 10


@dataclass(frozen=True, slots=True)
class SmsEncoding:
    """How a text travels as SMS."""

    encoding: str  # "GSM-7" or "UCS-2"
    characters: int  # user-visible characters
    units: int  # septets (GSM-7) or UTF-16 code units (UCS-2)
    parts: int


def is_gsm7(text: str) -> bool:
    return all(ch in GSM7_BASIC or ch in GSM7_EXTENSION for ch in text)


def sms_encoding(text: str) -> SmsEncoding:
    """Encoding, length units and number of SMS parts of ``text``."""
    if is_gsm7(text):
        units = sum(2 if ch in GSM7_EXTENSION else 1 for ch in text)
        parts = 1 if units <= 160 else math.ceil(units / 153)
        return SmsEncoding("GSM-7", len(text), units, parts)
    units = len(text.encode("utf-16-le")) // 2
    parts = 1 if units <= 70 else math.ceil(units / 67)
    return SmsEncoding("UCS-2", len(text), units, parts)


def is_korean_number(phone: str) -> bool:
    return phone.startswith(KOREA_COUNTRY_CODE)


def non_euc_kr_characters(text: str) -> list[str]:
    """Characters of ``text`` that EUC-KR cannot carry (Twilio drops them for Korea)."""
    bad: list[str] = []
    for ch in text:
        try:
            ch.encode("euc-kr")
        except UnicodeEncodeError:
            if ch not in bad:
                bad.append(ch)
    return bad


def as_delivered(text: str, *, to: str) -> str:
    """The text the handset shows: Korean numbers get Twilio's ``[국제발신]`` prefix."""
    return f"{KOREA_PREFIX}\n{text}" if is_korean_number(to) else text


def check_sms(text: str, *, to: str, sender: str) -> SmsEncoding:
    """Check a message for one recipient; TextBudgetError names the offending part."""
    if is_korean_number(to):
        bad = non_euc_kr_characters(text)
        if bad:
            shown = ", ".join(f"{ch!r} (U+{ord(ch):04X})" for ch in bad)
            raise TextBudgetError(f"text has characters EUC-KR cannot carry to Korea: {shown}")
        if not sender.lstrip("+").isdigit():
            raise TextBudgetError(f"sender {sender!r} must be numeric for Korean numbers")
    encoding = sms_encoding(as_delivered(text, to=to))
    if encoding.parts > MAX_PARTS:
        raise TextBudgetError(f"SMS needs {encoding.parts} parts, more than {MAX_PARTS}")
    return encoding
