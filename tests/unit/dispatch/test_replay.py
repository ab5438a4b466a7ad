"""The replay generator: deterministic, planted duplicates exactly as the rules group them."""

from __future__ import annotations

import random
from pathlib import Path

from sqlalchemy import select

from dispatch.catalog import load_catalog
from dispatch.cells import distance_m
from dispatch.incident_store import CallRow
from dispatch.intake import ingest
from dispatch.replay import CENTRAL_SEOUL, EVENT_SEPARATION_M, generate_replay
from dispatch.signals import call_signal
from goldentime.db import create_schema, make_engine, session_factory, writer

CATALOG = load_catalog()


def test_same_seed_same_replay_and_other_seed_differs() -> None:
    a = generate_replay(300, seed=7, catalog=CATALOG)
    b = generate_replay(300, seed=7, catalog=CATALOG)
    c = generate_replay(300, seed=8, catalog=CATALOG)
    assert [x.model_dump() for x in a.calls] == [x.model_dump() for x in b.calls]
    assert [x.id for x in a.calls] != [x.id for x in c.calls] or a.calls[0].lat != c.calls[0].lat


def test_shape_of_the_replay() -> None:
    replay = generate_replay(2000, seed=3, catalog=CATALOG)
    assert len(replay.calls) == 2000 == len({c.id for c in replay.calls})
    sizes = [len(g) for g in replay.groups()]
    assert min(sizes) >= 1 and max(sizes) <= 4 and any(s > 1 for s in sizes)
    lat0, lat1, lon0, lon1 = CENTRAL_SEOUL
    assert all(lat0 <= c.lat <= lat1 and lon0 <= c.lon <= lon1 for c in replay.calls)
    assert len({c.type for c in replay.calls}) >= 6
    by_id = {c.id: c for c in replay.calls}
    for group in replay.groups():
        members = [by_id[i] for i in group]
        times = [m.received_at for m in members]
        assert (max(times) - min(times)).total_seconds() <= 300
        assert all(distance_m(a.lat, a.lon, b.lat, b.lon) <= 100 for a in members for b in members)
    firsts = [by_id[min(g)] for g in replay.groups()]
    for a in firsts:
        for b in firsts:
            if a.id != b.id and abs((a.received_at - b.received_at).total_seconds()) < 3600 * 1.5:
                assert distance_m(a.lat, a.lon, b.lat, b.lon) >= EVENT_SEPARATION_M


def test_ingest_in_shuffled_batches_forms_exactly_the_planted_groups(tmp_path: Path) -> None:
    replay = generate_replay(600, seed=11, catalog=CATALOG)
    engine = make_engine(f"sqlite:///{tmp_path / 'gt.db'}")
    create_schema(engine)
    sessions = session_factory(writer(engine))
    calls = list(replay.calls)
    random.Random(5).shuffle(calls)  # partitions deliver out of order
    for i in range(0, len(calls), 37):
        batch = [call_signal(c) for c in calls[i : i + 37]]
        ingest(sessions, batch, now=replay.calls[-1].received_at, catalog=CATALOG)
    with sessions() as session:
        links = dict(session.execute(select(CallRow.id, CallRow.incident_id)).tuples().all())
    grouped: dict[str, set[str]] = {}
    for call_id, incident_id in links.items():
        grouped.setdefault(incident_id, set()).add(call_id)
    assert {frozenset(g) for g in grouped.values()} == replay.groups()
