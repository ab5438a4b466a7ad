"""One table per mapping: every type of ours has a registry value and comes back as itself."""

from __future__ import annotations

from exchange import mapping
from goldentime.contracts import IncidentStatus, IncidentType
from goldentime.contracts.dispatch import UnitStatus


def test_every_code_of_ours_is_mapped() -> None:
    assert set(mapping.INCIDENT_TYPES) == set(IncidentType)
    assert set(mapping.KOREAN_NAMES) == set(IncidentType)
    assert set(mapping.INCIDENT_STATUS) == set(IncidentStatus)
    assert set(mapping.UNIT_STATUS) == set(UnitStatus)
    assert len(set(mapping.INCIDENT_TYPES.values())) == len(IncidentType)  # reversible


def test_types_come_back_from_our_code_or_the_registry_value() -> None:
    for incident_type, value in mapping.INCIDENT_TYPES.items():
        assert mapping.incident_type_of(internal_code=None, registry_text=value) is incident_type
        assert (
            mapping.incident_type_of(internal_code=incident_type.value, registry_text="Other")
            is incident_type
        )
    assert mapping.incident_type_of(internal_code=None, registry_text="Fire.Wildland") is (
        IncidentType.FIRE
    )
    assert mapping.incident_type_of(internal_code="E12", registry_text="Medical.Stroke") is (
        IncidentType.EMS
    )
    assert mapping.incident_type_of(internal_code=None, registry_text="Police.Theft") is (
        IncidentType.OTHER
    )
    assert mapping.incident_type_of(internal_code=None, registry_text=None) is IncidentType.OTHER
