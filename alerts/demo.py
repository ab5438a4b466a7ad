"""The demo's alert world: subscribers in central Seoul and the loopback provider fakes.

``goldentime up`` (demo) runs :mod:`alerts.fakes.serve` as a supervised child and gives the
console :func:`demo_environment`, so an approved demo alert is really delivered: SMS through
the real twilio client to the fake Messages API (with signed status callbacks back to the
console), posts through Mastodon.py to the fake instance.
"""

from __future__ import annotations

import sys

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from alerts.alert_store import SubscriberRow, begin_write
from alerts.geotarget import add_subscriber

DEMO_SENDER = "+8215881190"
DEMO_TWILIO_SID = "AC" + "d" * 32
DEMO_TWILIO_TOKEN = "demo-twilio-token"  # noqa: S105 - loopback fake only
DEMO_SANDBOX_SID = "AC" + "e" * 32
DEMO_SANDBOX_TOKEN = "demo-sandbox-token"  # noqa: S105 - loopback fake only
DEMO_MASTODON_TOKEN = "demo-mastodon-token"  # noqa: S105 - loopback fake only

# (phone, language, [(lat, lon)], exercise participant): 종로구, 중구, 용산구, 마포구.
DEMO_SUBSCRIBERS: tuple[tuple[str, str, tuple[tuple[float, float], ...], bool], ...] = (
    ("+821090000001", "ko", ((37.5735, 126.9790),), False),  # 종로구 세종로
    ("+821090000002", "ko", ((37.5700, 126.9920),), False),  # 종로구 종로
    ("+821090000003", "ko", ((37.5636, 126.9976),), False),  # 중구 명동
    ("+821090000004", "ko", ((37.5512, 126.9882), (37.5735, 126.9790)), False),  # 중구 + 종로구
    ("+821090000005", "ko", ((37.5326, 126.9905),), False),  # 용산구 이태원
    ("+821090000006", "ko", ((37.5572, 126.9245),), False),  # 마포구 서교동
    ("+15550100001", "en", ((37.5759, 126.9768),), False),  # 종로구, English
    ("+15550100002", "en", ((37.5610, 126.9940),), False),  # 중구, English
    ("+821090000009", "ko", ((37.5720, 126.9850),), True),  # 종로구, exercise participant
)


def seed_demo_subscribers(sessions: sessionmaker[Session]) -> int:
    """Add the demo subscribers that are missing; returns how many were added."""
    with sessions() as session:
        begin_write(session)
        known = set(session.scalars(select(SubscriberRow.phone)))
        added = 0
        for phone, language, locations, drill in DEMO_SUBSCRIBERS:
            if phone in known:
                continue
            add_subscriber(
                session,
                phone=phone,
                language=language,
                locations=list(locations),
                exercise_participant=drill,
            )
            added += 1
        session.commit()
    return added


def demo_environment(
    *, public_base_url: str, twilio_url: str, sandbox_url: str, mastodon_url: str
) -> dict[str, str]:
    """Environment for the console so its alert channels use the demo fakes."""
    return {
        "GOLDENTIME_PUBLIC_BASE_URL": public_base_url,
        "GOLDENTIME_TWILIO_ACCOUNT_SID": DEMO_TWILIO_SID,
        "GOLDENTIME_TWILIO_AUTH_TOKEN": DEMO_TWILIO_TOKEN,
        "GOLDENTIME_TWILIO_SENDER": DEMO_SENDER,
        "GOLDENTIME_TWILIO_API_BASE_URL": twilio_url,
        "GOLDENTIME_TWILIO_SANDBOX_ACCOUNT_SID": DEMO_SANDBOX_SID,
        "GOLDENTIME_TWILIO_SANDBOX_AUTH_TOKEN": DEMO_SANDBOX_TOKEN,
        "GOLDENTIME_TWILIO_SANDBOX_API_BASE_URL": sandbox_url,
        "GOLDENTIME_MASTODON_BASE_URL": mastodon_url,
        "GOLDENTIME_MASTODON_TOKEN": DEMO_MASTODON_TOKEN,
        "GOLDENTIME_ALERT_DEMO_SUBSCRIBERS": "true",
    }


def fakes_argv(*, host: str, twilio_port: int, sandbox_port: int, mastodon_port: int) -> list[str]:
    """argv of the child that serves the three demo fakes (see :mod:`alerts.fakes.serve`)."""
    return [
        sys.executable,
        "-m",
        "alerts.fakes.serve",
        "--host",
        host,
        "--twilio-port",
        str(twilio_port),
        "--sandbox-port",
        str(sandbox_port),
        "--mastodon-port",
        str(mastodon_port),
    ]
