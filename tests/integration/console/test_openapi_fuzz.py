"""Schemathesis over the console's OpenAPI: every operation, generated inputs, checked answers.

The console runs in process (ASGI) on a real SQLite database seeded with an incident, its call
and the Seoul fleet, with a recording publisher in place of the broker (the broker path is in
the other integration tests). Requests carry a bearer token of a user holding every staff role.
Every answer must be no server error and must match the status codes, content types and
schemas the OpenAPI document declares. ``/api/stream`` (server-sent events, endless, no input)
is left out: there is nothing to generate for it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from eido import SCHEMA_DIR as EIDO_SCHEMA_DIR
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from console.accounts import Accounts
from console.app import create_app
from console.auth import AuthConfig
from dispatch.catalog import load_catalog
from dispatch.intake import ingest
from dispatch.signals import call_signal
from goldentime.broker.publisher import BlockingPublisher, InMemoryPublisher
from goldentime.clock import SystemClock
from goldentime.contracts import Call, IncidentType
from goldentime.db import make_engine, session_factory, writer
from goldentime.settings import load_settings

pytestmark = pytest.mark.integration

# 36 operations x 15 examples (measured: docs/console.md)
EXAMPLES_PER_OPERATION = 15
# correctness, not speed, is checked here: a crowded machine may take seconds per request
REQUEST_TIMEOUT_S = 120.0
# each new (minutes, vehicle) pair computes coverage over the road graph (2-5 s): a few only
FEWER_EXAMPLES = {"GET /api/coverage": 4}
SKIPPED_PATHS = ("/api/stream",)


CHECKS = [
    schemathesis.checks.not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@pytest.fixture(scope="module")
def console_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, dict[str, str]]]:
    """The schema loaded from the running app, and the bearer header of the fuzz user."""
    tmp: Path = tmp_path_factory.mktemp("openapi-fuzz")
    engine = make_engine(f"sqlite:///{tmp / 'gt.db'}")
    now = datetime.now(UTC)
    sensor_publisher = BlockingPublisher(InMemoryPublisher(), name="fuzz-sensors-publisher")
    app = create_app(
        load_settings(data={"dir": tmp}, exchange={"eido_schema_dir": EIDO_SCHEMA_DIR}),
        publisher=InMemoryPublisher(),
        engine=engine,
        clock=SystemClock(),
        auth=AuthConfig(mode="required", secret_key="fuzz-secret"),
        sensor_publisher=sensor_publisher,
    )
    sessions = session_factory(writer(engine))
    accounts = Accounts(sessions)
    accounts.add_user(
        "fuzz", roles=["dispatcher", "supervisor", "admin"], password="fuzz-pw-123456", now=now
    )
    headers = {"Authorization": f"Bearer {accounts.issue_token('fuzz', now=now)}"}
    call = Call(id="fz-call-1", received_at=now, lat=37.57, lon=126.98, type=IncidentType.FIRE)
    ingest(sessions, [call_signal(call)], now=now, catalog=load_catalog())
    with TestClient(app):  # the lifespan (change feed, intake) runs for the whole module
        schema = schemathesis.openapi.from_asgi("/openapi.json", app, headers=headers)
        yield schema.exclude(path=list(SKIPPED_PATHS)), headers
    sensor_publisher.close()


def fuzz(operation: Any, headers: dict[str, str]) -> list[str]:
    """Up to EXAMPLES_PER_OPERATION generated requests; the first failure of the operation."""
    failures: list[str] = []

    @settings(
        max_examples=FEWER_EXAMPLES.get(operation.label, EXAMPLES_PER_OPERATION),
        deadline=None,
        suppress_health_check=list(HealthCheck),
        derandomize=True,
        database=None,
    )
    @given(case=operation.as_strategy())
    def run(case: Any) -> None:
        try:
            case.call_and_validate(headers=headers, checks=CHECKS, timeout=REQUEST_TIMEOUT_S)
        except (Exception, BaseExceptionGroup) as err:  # a check failed: keep it, go on
            failures.append(f"{operation.label}: {err}"[:3000])
            raise

    # hypothesis re-raises the (shrunk) failure: it is in `failures`
    with contextlib.suppress(Exception, BaseExceptionGroup):
        run()
    return failures[-1:]


def test_every_endpoint_answers_as_documented(console_api: tuple[Any, dict[str, str]]) -> None:
    schema, headers = console_api
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 20, [op.label for op in operations]
    failures = [f for operation in operations for f in fuzz(operation, headers)]
    assert failures == [], "\n\n".join(failures)
