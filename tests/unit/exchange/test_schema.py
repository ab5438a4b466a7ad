"""The EIDO validator: NENA's schema read from the shared folder, defects normalised and named."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from exchange.schema import EidoSchema
from goldentime.errors import ConfigError
from tests.support.eido import SAMPLE, SCHEMA_DIR


@pytest.fixture(scope="module")
def schema() -> EidoSchema:
    return EidoSchema(SCHEMA_DIR)


@pytest.fixture
def sample() -> dict[str, Any]:
    return dict(json.loads(SAMPLE.read_text(encoding="utf-8")))


def test_nena_sample_validates_and_the_defects_are_named(
    schema: EidoSchema, sample: dict[str, Any]
) -> None:
    assert schema.errors(sample) == []
    found = [str(n) for n in schema.normalised]
    assert any("AgentType" in n and "minItems" in n and "'1,' read as 1" in n for n in found)


def test_the_agent_role_rule_holds_after_normalising(
    schema: EidoSchema, sample: dict[str, Any]
) -> None:
    sample["agentComponent"][0]["agentRoleRegistryText"] = []
    assert schema.errors(sample) == [
        ("$.agentComponent[0].agentRoleRegistryText", "minItems: [] should be non-empty")
    ]


def test_violations_name_path_and_rule(schema: EidoSchema, sample: dict[str, Any]) -> None:
    broken = copy.deepcopy(sample)
    del broken["agencyComponent"][0]["agencyType"]
    broken["callComponent"][0]["direction"] = "sideways"
    broken["callComponent"][0]["callStartTimestamp"] = "yesterday"
    paths = dict(schema.errors(broken))
    assert paths["$.agencyComponent[0]"].startswith("required: 'agencyType'")
    assert paths["$.callComponent[0].direction"].startswith("enum:")
    assert paths["$.callComponent[0].callStartTimestamp"].startswith("format:")


def test_niem_references_resolve_into_the_component_files(
    schema: EidoSchema, sample: dict[str, Any]
) -> None:
    person = sample["personComponent"][0]
    person["ncPersonComponent"] = {"birthDate": [{"date": 5}]}
    errors = schema.errors(sample)
    assert errors and all(p.startswith("$.personComponent[0].ncPersonComponent") for p, _ in errors)
    person["ncPersonComponent"] = {}
    assert schema.errors(sample) == []


def test_a_directory_without_the_schema_says_where_to_get_it(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"GOLDENTIME_EIDO_SCHEMA_DIR.*NENA911/EIDO-JSON"):
        EidoSchema(tmp_path)
