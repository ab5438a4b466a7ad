"""Every incident of a 2,000-call replay, with merges, unlinks and dispatches, exports to an EIDO
that validates against NENA's schema, and correlation shows as merge and link components."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from dispatch.catalog import load_catalog
from dispatch.commands import apply_command
from dispatch.fleet import load_fleet
from dispatch.incident_store import CallRow, IncidentRow, UnitRow
from dispatch.intake import ingest
from dispatch.replay import generate_replay
from dispatch.signals import call_signal
from dispatch.unit_store import seed_units
from exchange.export import Centre, export_incident
from exchange.schema import EidoSchema
from goldentime.contracts.dispatch import Command, CommandAction
from goldentime.db import create_schema, make_engine, session_factory, writer
from goldentime.settings import load_settings
from tests.support.eido import SCHEMA_DIR

CENTRE = Centre(agency_id="seoul.119.kr", name="서울종합방재센터")


@pytest.fixture(scope="module")
def schema() -> EidoSchema:
    return EidoSchema(SCHEMA_DIR)


def _command(n: int, at: Any, **fields: Any) -> Command:
    return Command(id=f"cmd-{n}", at=at, actor="kim.dispatcher", **fields)


def test_every_incident_of_a_2000_call_replay_exports_valid(
    tmp_path: Path, schema: EidoSchema
) -> None:
    catalog = load_catalog()
    replay = generate_replay(2000, seed=19, catalog=catalog)
    engine = make_engine(f"sqlite:///{tmp_path / 'gt.db'}")
    create_schema(engine)
    sessions = session_factory(writer(engine))
    now = replay.calls[-1].received_at
    for i in range(0, len(replay.calls), 500):
        batch = [call_signal(c) for c in replay.calls[i : i + 500]]
        ingest(sessions, batch, now=now, catalog=catalog)
    settings = load_settings()
    fleet = load_fleet(settings.data.seoul_dir / "units" / "fire_units.csv")
    at = now + timedelta(minutes=1)
    with sessions.begin() as session:
        seed_units(session, fleet, now=at)
    with sessions.begin() as session:
        multi = [
            r.id
            for r in session.scalars(select(IncidentRow).order_by(IncidentRow.id))
            if len(r.calls) > 1
        ]
        single = [
            r.id
            for r in session.scalars(select(IncidentRow).order_by(IncidentRow.id))
            if len(r.calls) == 1
        ]
        units = [u.id for u in session.scalars(select(UnitRow).order_by(UnitRow.id).limit(6))]
        merged = [(single[i], single[i + 1]) for i in range(0, 20, 2)]
        commands = [
            _command(i, at, action=CommandAction.MERGE, incident_id=a, into_incident_id=b)
            for i, (a, b) in enumerate(merged)
        ]
        unlinked = []
        for j, incident_id in enumerate(multi[:10]):
            call_id = session.scalars(
                select(CallRow.id).where(CallRow.incident_id == incident_id).order_by(CallRow.id)
            ).first()
            unlinked.append(incident_id)
            commands.append(
                _command(
                    100 + j, at, action=CommandAction.UNLINK, call_id=call_id, note="다른 사고"
                )
            )
        commands.append(
            _command(200, at, action=CommandAction.DISPATCH, incident_id=multi[20], unit_ids=units)
        )
        for command in commands:
            assert apply_command(session, command, now=at).result.ok, command
    with sessions() as session:
        ids = list(session.scalars(select(IncidentRow.id)))
        assert len(ids) > 700
        failures: dict[str, list[tuple[str, str]]] = {}
        documents = {}
        for incident_id in ids:
            document = export_incident(session, incident_id, centre=CENTRE)
            documents[incident_id] = document
            errors = schema.errors(document)
            if errors:
                failures[incident_id] = errors
    assert failures == {}
    for source, target in merged:
        assert documents[source]["mergeComponent"][0]["incidentMergeDirectionCode"] == "REPLACED"
        assert documents[source]["mergeComponent"][0]["incidentTrackingIdentifier"].endswith(
            f":{target}:{CENTRE.agency_id}"
        )
        codes = {m["incidentMergeDirectionCode"] for m in documents[target]["mergeComponent"]}
        assert codes == {"REPLACING"}
    for old in unlinked:
        links = documents[old]["linkComponent"]
        assert [link["linkDirectionCode"] for link in links] == ["UNLINK"]
        new_id = links[0]["incidentTrackingIdentifier"].split(":")[4]
        back = documents[new_id]["linkComponent"]
        assert back[0]["linkDirectionCode"] == "UNLINK"
        assert back[0]["incidentTrackingIdentifier"] == CENTRE.incident_urn(old)
    dispatched = documents[multi[20]]
    assert len(dispatched["emergencyResourceComponent"]) == len(units)
    assert dispatched["dispatchComponent"]
    assert all(
        r["primaryUnitStatusRegistryText"] == "Dispatched"
        for r in dispatched["emergencyResourceComponent"]
    )
    calls_in_docs = sum(len(d.get("callComponent", [])) for d in documents.values())
    assert calls_in_docs == 2000
