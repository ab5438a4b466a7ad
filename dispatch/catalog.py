"""Incident types: Korean and English names, priority, correlation rules and run cards.

The defaults follow Seoul practice and NFPA 1710 first-alarm assignments; a YAML file named by
``GOLDENTIME_RUN_CARDS_FILE`` overrides any part of any type, for example::

    building_fire:
      run_card: {engine: 3, ladder: 1, rescue: 1, ambulance: 1, command: 1}
      radius_m: 400
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from goldentime.contracts import IncidentType
from goldentime.contracts.dispatch import UnitKind
from goldentime.errors import ConfigError


class TypeRule(BaseModel):
    """How one incident type is named, ranked, correlated and answered."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name_ko: str
    name_en: str
    priority: int = Field(ge=1, le=5, description="1 is the most urgent.")
    family: str = Field(description="Types of one family may be the same event.")
    radius_m: float = Field(default=300.0, gt=0, le=5000, description="Correlation radius.")
    window_s: float = Field(default=900.0, gt=0, le=86_400, description="Correlation window.")
    run_card: dict[UnitKind, int] = Field(description="Units of each kind to send.")
    needs_hospital: bool = False
    golden_time_travel_s: float = Field(
        default=300.0, gt=0, description="Travel budget of the first unit (5 min)."
    )


FIRE = {"engine": 2, "ladder": 1, "rescue": 1, "ambulance": 1, "command": 1}

DEFAULT_RULES: dict[IncidentType, dict[str, Any]] = {
    IncidentType.BUILDING_FIRE: {
        "name_ko": "건물화재",
        "name_en": "Building fire",
        "priority": 1,
        "family": "fire",
        "run_card": FIRE,
    },
    IncidentType.FIRE: {
        "name_ko": "화재",
        "name_en": "Fire",
        "priority": 1,
        "family": "fire",
        "run_card": FIRE,
    },
    IncidentType.VEHICLE_FIRE: {
        "name_ko": "차량화재",
        "name_en": "Vehicle fire",
        "priority": 2,
        "family": "fire",
        "run_card": {"engine": 1, "ambulance": 1},
        "radius_m": 200,
    },
    IncidentType.CARDIAC_ARREST: {
        "name_ko": "심정지",
        "name_en": "Cardiac arrest",
        "priority": 1,
        "family": "ems",
        "run_card": {"ambulance": 1, "engine": 1},
        "radius_m": 100,
        "window_s": 600,
        "needs_hospital": True,
        "golden_time_travel_s": 240,
    },
    IncidentType.EMS: {
        "name_ko": "구급",
        "name_en": "Medical emergency",
        "priority": 2,
        "family": "ems",
        "run_card": {"ambulance": 1},
        "radius_m": 100,
        "window_s": 600,
        "needs_hospital": True,
    },
    IncidentType.TRAFFIC_COLLISION: {
        "name_ko": "교통사고",
        "name_en": "Traffic collision",
        "priority": 2,
        "family": "road",
        "run_card": {"engine": 1, "rescue": 1, "ambulance": 1},
        "radius_m": 250,
        "needs_hospital": True,
    },
    IncidentType.RESCUE: {
        "name_ko": "구조",
        "name_en": "Rescue",
        "priority": 2,
        "family": "rescue",
        "run_card": {"rescue": 1, "engine": 1, "ambulance": 1},
    },
    IncidentType.HAZMAT: {
        "name_ko": "위험물",
        "name_en": "Hazardous materials",
        "priority": 1,
        "family": "hazmat",
        "run_card": {"engine": 2, "rescue": 1, "ambulance": 1, "command": 1},
        "radius_m": 500,
    },
    IncidentType.FLOOD: {
        "name_ko": "침수",
        "name_en": "Flood",
        "priority": 2,
        "family": "water",
        "run_card": {"rescue": 1, "engine": 1},
        "radius_m": 500,
        "window_s": 3600,
    },
    IncidentType.STRUCTURE_ALARM: {
        "name_ko": "시설물 경보",
        "name_en": "Structure alarm",
        "priority": 2,
        "family": "structure",
        "run_card": {"rescue": 1, "command": 1},
        "radius_m": 500,
        "window_s": 3600,
    },
    IncidentType.OTHER: {
        "name_ko": "기타",
        "name_en": "Other",
        "priority": 4,
        "family": "other",
        "run_card": {"engine": 1},
    },
}


class Catalog:
    """The rules of every incident type."""

    def __init__(self, rules: dict[IncidentType, TypeRule]) -> None:
        missing = set(IncidentType) - set(rules)
        if missing:
            raise ConfigError(f"run cards missing for: {sorted(t.value for t in missing)}")
        # IncidentType is a StrEnum: a member and its value are the same key
        self._rules: dict[str, TypeRule] = {str(t): rule for t, rule in rules.items()}

    def __getitem__(self, incident_type: IncidentType | str) -> TypeRule:
        rule = self._rules.get(incident_type)  # hot path of correlation: no enum conversion
        return rule if rule is not None else self._rules[IncidentType(incident_type)]

    @property
    def max_radius_m(self) -> float:
        return max(rule.radius_m for rule in self._rules.values())

    @property
    def max_window_s(self) -> float:
        return max(rule.window_s for rule in self._rules.values())

    def as_dict(self) -> dict[str, dict[str, Any]]:
        return {str(t): r.model_dump() for t, r in self._rules.items()}


def load_catalog(path: Path | None = None) -> Catalog:
    """The default rules, with the YAML file at ``path`` laid over them."""
    overrides: dict[str, Any] = {}
    if path is not None:
        try:
            loaded = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError) as err:
            raise ConfigError(f"cannot read run cards {path}: {err}") from err
        if not isinstance(loaded, dict):
            raise ConfigError(f"run cards {path}: expected a mapping of incident types")
        overrides = loaded
    unknown = set(overrides) - {t.value for t in IncidentType}
    if unknown:
        raise ConfigError(f"run cards {path}: unknown incident type(s) {sorted(unknown)}")
    rules: dict[IncidentType, TypeRule] = {}
    for incident_type, base in DEFAULT_RULES.items():
        try:
            rules[incident_type] = TypeRule.model_validate(
                {**base, **(overrides.get(incident_type.value) or {})}
            )
        except ValidationError as err:
            raise ConfigError(
                f"run cards {path}: {incident_type.value}: {err.errors()[0]['msg']} "
                f"at {'.'.join(str(p) for p in err.errors()[0]['loc'])}"
            ) from err
    return Catalog(rules)
