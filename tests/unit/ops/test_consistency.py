"""The chaos input and the consistency checker, without a broker: the checker must see faults."""

from __future__ import annotations

import random
from datetime import UTC, datetime

import pytest

from dispatch.catalog import load_catalog
from dispatch.correlate import Signal
from dispatch.intake import ingest
from goldentime import topics
from goldentime.contracts import Call, DeadLetter, decode
from goldentime.contracts.sensors import SensorReading
from goldentime.contracts.video import VideoEvent
from goldentime.db import Base, make_engine, session_factory
from goldentime.errors import ContractError
from goldentime.settings import load_settings
from ops.chaos import generate_mixed, malformed_value
from ops.consistency import Expected, compare, reason_class, stored_links

START = datetime(2025, 3, 1, tzinfo=UTC)


def _letter(n: int) -> DeadLetter:
    return DeadLetter.for_payload(
        b"{", reason="not JSON: x", source_topic="calls", consumer="t", offset=n, key=b"p:bad:1"
    )


def test_compare_counts_lost_split_merged_and_dead_letters() -> None:
    expected = Expected("p", {"a1": "A", "a2": "A", "b1": "B", "c1": "C", "d1": "D"}, 2)
    links = {"a1": "I1", "a2": "I2", "b1": "I3", "c1": "I3"}  # A split, B+C merged, d1 lost
    members = {"I1": {"a1"}, "I2": {"a2"}, "I3": {"b1", "c1"}}
    report = compare(expected, links, members, [_letter(1), _letter(1), _letter(2)])
    assert (report.lost, report.duplicated, report.merged) == (1, 1, 1)
    assert report.dead_letters == 2  # a redelivered dead letter counts once
    assert not report.ok
    clean = compare(expected, {"a1": "I1", "a2": "I1", "b1": "I2", "c1": "I3", "d1": "I4"},
                    {"I1": {"a1", "a2"}, "I2": {"b1"}, "I3": {"c1"}, "I4": {"d1"}},
                    [_letter(1), _letter(2)])  # fmt: skip
    assert clean.ok and clean.expected_incidents == 4


def test_foreign_signals_in_an_incident_count_as_merged() -> None:
    expected = Expected("p", {"a1": "A"}, 0)
    report = compare(expected, {"a1": "I1"}, {"I1": {"a1", "other-run-call"}}, [])
    assert report.merged == 1


def test_reason_class_hides_quoted_values() -> None:
    assert reason_class("unknown sensor 'ghost-14'") == reason_class("unknown sensor 'x'")


def test_mixed_input_is_deterministic_and_has_every_kind() -> None:
    data = load_settings().data.seoul_dir
    one = generate_mixed(600, seed=5, prefix="m", start=START, seoul_data_dir=data)
    two = generate_mixed(600, seed=5, prefix="m", start=START, seoul_data_dir=data)
    assert [r.value for r in one.records] == [r.value for r in two.records]
    assert len(one.records) == 600
    assert one.counts["video_signals"] > 0 and one.counts["video_only_events"] > 0
    assert one.counts["malformed"] == one.expected.malformed == 24
    kinds = {"calls": Call, "video.events": VideoEvent, "sensor.readings": SensorReading}
    bad = 0
    for record in one.records:
        if b":bad:" in record.key:
            bad += 1
            try:
                reading = decode(kinds[record.topic], record.value)
            except ContractError:
                continue
            # the contract holds; the sensors worker refuses it (no such sensor in the registry)
            assert isinstance(reading, SensorReading) and reading.sensor_id.startswith("ghost-")
        else:
            decode(kinds[record.topic], record.value)
    assert bad == 24


@pytest.mark.parametrize("topic", [topics.CALLS.name, topics.VIDEO_EVENTS.name])
def test_malformed_values_are_refused_by_the_contract(topic: str) -> None:
    kind = Call if topic == topics.CALLS.name else VideoEvent
    rng = random.Random(1)
    for n in range(40):
        with pytest.raises(ContractError):
            decode(kind, malformed_value(topic, rng, START, n))


def test_planted_grouping_through_ingest_matches_expected(tmp_path: object) -> None:
    """The expected incidents are what the correlation rules give (in one process)."""
    from dispatch.signals import call_signal, video_signal

    mixed = generate_mixed(
        400, seed=3, prefix="g", start=START, seoul_data_dir=load_settings().data.seoul_dir
    )
    engine = make_engine(f"sqlite:///{tmp_path}/g.db")
    Base.metadata.create_all(engine)
    signals: list[Signal] = []
    for record in mixed.records:
        if b":bad:" in record.key:
            continue
        if record.topic == topics.CALLS.name:
            signals.append(call_signal(decode(Call, record.value)))
        elif record.topic == topics.VIDEO_EVENTS.name:
            signal = video_signal(decode(VideoEvent, record.value))
            if signal is not None:
                signals.append(signal)
    random.Random(9).shuffle(signals)  # workers see records out of order
    for start in range(0, len(signals), 37):
        ingest(session_factory(engine), signals[start : start + 37], now=START,
               catalog=load_catalog(), locate_gu=lambda _lat, _lon: None)  # fmt: skip
    links = stored_links(engine, "g")
    members: dict[str, set[str]] = {}
    for signal_id, incident_id in links.items():
        members.setdefault(incident_id, set()).add(signal_id)
    report = compare(mixed.expected, links, members, [])
    assert (report.lost, report.duplicated, report.merged) == (0, 0, 0)
    engine.dispose()
