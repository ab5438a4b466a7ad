"""An incident record with dispatch's own intake and command handling behind the exchange.

The exchange publishes calls and commands; here they go straight into dispatch's ``ingest`` and
``apply_command`` (what the worker does after consuming them), so unit tests exercise the real
correlation and timeline without a broker.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from dispatch.catalog import load_catalog
from dispatch.commands import apply_command
from dispatch.intake import ingest
from dispatch.signals import call_signal
from exchange.link_store import Sessions
from exchange.schema import EidoSchema
from exchange.service import ExchangeService
from goldentime.contracts import Call, Record
from goldentime.contracts.dispatch import Command
from goldentime.db import create_schema, make_engine, session_factory, writer
from goldentime.settings import Settings, load_settings
from goldentime.topics import TopicSpec

NOW = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)


class FixedClock:
    def now(self) -> datetime:
        return NOW

    def monotonic(self) -> float:
        return 0.0


def record_at(path: Path) -> sessionmaker[Session]:
    engine = make_engine(f"sqlite:///{path}")
    create_schema(engine)
    return session_factory(writer(engine))


def service_over(
    sessions: sessionmaker[Session], schema: EidoSchema | None, settings: Settings | None = None
) -> ExchangeService:
    catalog = load_catalog()

    async def publish(_topic: TopicSpec, record: Record, _key: str) -> None:
        if isinstance(record, Call):
            ingest(sessions, [call_signal(record)], now=NOW, catalog=catalog)
        elif isinstance(record, Command):
            with sessions.begin() as session:
                apply_command(session, record, now=NOW)

    return ExchangeService(
        settings=settings or load_settings(),
        sessions=Sessions(reads=sessions, writes=sessions),
        publish=publish,
        clock=FixedClock(),
        schema=schema,
    )
