"""Scenario files: surges and mass-casualty incidents, data-driven (one TOML file each).

A scenario is ordinary city traffic (the statistics' demand, `simulation.demand`, started at
the scenario's local hour and scaled by ``traffic.factor``) with, optionally:

- ``[surge]``: the rates multiplied by ``factor`` in scenario hours [``from_hour``,
  ``to_hour``), in chosen types and gu (empty lists: all): a heat-wave or flood night; with
  ``operating_mode = "declared"`` every policy runs under the control room's declared-surge
  rules (`simulation.declared`);
- ``[crowd]``: a crowd of callers around one place (a crowd crush): ``calls`` calls over
  ``minutes`` from ``start_min``, at a linearly rising rate, callers within ``radius_m``,
  positions off by ``error_m``, some callers calling again, what they report drawn from
  ``[[crowd.reports]]``, and the first START triage count from the scene (``[crowd.scene]``);
- ``[[nearby]]``: ordinary calls of other types near the crowd during it (they must stay their
  own incidents).

The shipped scenarios live in ``simulation/scenarios/`` (``crowd-crush``, ``surge-5x``);
`load_scenario` takes a name or a path to a file. Bad files are a `ScenarioError` naming the
file and the field.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from goldentime.contracts import IncidentType
from simulation.declared import DeclaredMode
from simulation.demand import DemandModel, Shifted, Surge
from simulation.errors import SimulationError

SCENARIO_DIR = Path(__file__).parent / "scenarios"
TRIAGE_KEYS = ("red", "yellow", "green", "black")


class ScenarioError(SimulationError):
    """A scenario cannot be found or its file is malformed."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Traffic(_Model):
    factor: float = Field(default=1.0, gt=0, le=50, description="x the statistics' rates.")


class SurgeSpec(_Model):
    factor: float = Field(gt=0, le=50, description="x the ordinary rates in the surge hours.")
    from_hour: int = Field(ge=0, le=167, description="First scenario hour of the surge.")
    to_hour: int = Field(ge=1, le=168, description="Scenario hour the surge ends (excluded).")
    types: tuple[IncidentType, ...] = Field(default=(), description="Empty: every type.")
    gus: tuple[str, ...] = Field(default=(), description="Empty: the whole city.")
    reserve_ambulances_per_station: int = Field(
        default=0,
        ge=0,
        le=5,
        description="Reserve ambulances each ambulance station staffs once the surge is "
        "declared (crews recalled); 0: the shipped fleet only.",
    )
    reserve_after_min: float = Field(
        default=30.0, ge=0, le=600, description="From the surge's start to the reserves on duty."
    )
    first_responder_engines: bool = Field(
        default=False,
        description="During the surge an engine first-responds to an EMS call whose ambulance "
        "is more than 5 min away (펌뷸런스; simulation.first_response).",
    )
    operating_mode: Literal["normal", "declared"] = Field(
        default="normal",
        description="'declared': the control room's declared-surge rules for every policy "
        "(simulation.declared): units dispatchable when they clear, from where they are on "
        "the way home; a freed unit takes the waiting call it reaches fastest, calls waiting "
        "longer than queue_bound_min first. 'normal': free at the station, FIFO queue.",
    )
    queue_bound_min: float = Field(
        default=20.0,
        gt=0,
        le=240,
        description="Declared mode: a call waiting longer than this goes first (no starvation).",
    )

    @model_validator(mode="after")
    def _ordered(self) -> SurgeSpec:
        if self.from_hour >= self.to_hour:
            raise ValueError(f"from_hour {self.from_hour} must be before to_hour {self.to_hour}")
        return self

    @property
    def window_s(self) -> tuple[float, float]:
        return self.from_hour * 3600.0, self.to_hour * 3600.0

    def declared_mode(self) -> DeclaredMode | None:
        """The declared-surge rules of the runs (every policy), None in the normal mode."""
        if self.operating_mode != "declared":
            return None
        start, end = self.window_s
        return DeclaredMode(start, end, queue_bound_s=60.0 * self.queue_bound_min)


class Report(_Model):
    what: str = Field(min_length=1, description="What callers describe (falls, breathing ...).")
    type: IncidentType = Field(description="The incident type a call-taker enters.")
    weight: float = Field(gt=0, description="Relative share of the calls.")
    descriptions: tuple[str, ...] = Field(min_length=1)


class SceneCount(_Model):
    triage_at_min: float = Field(ge=0, le=24 * 60, description="After the crowd's first call.")
    red: int = Field(ge=0, le=10_000)
    yellow: int = Field(ge=0, le=10_000)
    green: int = Field(ge=0, le=10_000)
    black: int = Field(ge=0, le=10_000)

    @property
    def triage(self) -> dict[str, int]:
        return {k: int(getattr(self, k)) for k in TRIAGE_KEYS}


Pair = Annotated[tuple[float, float], Field(description="[low, high]")]


class CrowdSpec(_Model):
    place: str = Field(min_length=1, description="Where, as the banner names it.")
    gu: str = Field(min_length=1, description="The gu it is in (the figures are by gu).")
    lat: float = Field(ge=33.0, le=39.0)
    lon: float = Field(ge=124.0, le=132.0)
    radius_m: float = Field(gt=0, le=5000, description="Callers stand within this.")
    start_min: float = Field(ge=0, description="Scenario minute of the first crowd call.")
    minutes: float = Field(gt=0, le=24 * 60)
    calls: int = Field(ge=1, le=10_000)
    rate_start: float = Field(gt=0, description="Relative call rate at the start.")
    rate_end: float = Field(gt=0, description="Relative call rate at the end.")
    duplicate_share: float = Field(ge=0, lt=1, description="Calls from callers calling again.")
    error_m: Pair = (50.0, 300.0)
    uncertainty_factor: Pair = (1.0, 1.5)
    reports: tuple[Report, ...] = Field(min_length=1)
    scene: SceneCount | None = None

    @model_validator(mode="after")
    def _pairs(self) -> CrowdSpec:
        for name in ("error_m", "uncertainty_factor"):
            low, high = getattr(self, name)
            if not 0 <= low <= high:
                raise ValueError(f"{name} must be [low, high] with 0 <= low <= high")
        if self.uncertainty_factor[0] < 1.0:
            raise ValueError("uncertainty_factor must be >= 1 (the circle holds the caller)")
        return self

    @property
    def window_s(self) -> tuple[float, float]:
        return self.start_min * 60.0, (self.start_min + self.minutes) * 60.0


class NearbyCall(_Model):
    type: IncidentType
    at_min: float = Field(ge=0)
    bearing_deg: float = Field(ge=0, lt=360)
    distance_m: float = Field(ge=0, le=5000, description="From the crowd's centre.")
    description: str = ""


class Scenario(_Model):
    name: str = Field(min_length=1, max_length=64)
    title: str = ""
    hours: float = Field(gt=0, le=168, description="Default --hours.")
    start_hour: int = Field(default=0, ge=0, le=23, description="Local hour of scenario 0.")
    traffic: Traffic = Traffic()
    surge: SurgeSpec | None = None
    crowd: CrowdSpec | None = None
    nearby: tuple[NearbyCall, ...] = ()
    source: str = Field(default="", description="The file it was read from.")

    @model_validator(mode="after")
    def _nearby_needs_crowd(self) -> Scenario:
        if self.nearby and self.crowd is None:
            raise ValueError("[[nearby]] calls are placed around a [crowd]: add one")
        return self

    def demand(self, base: DemandModel) -> DemandModel:
        """The ordinary traffic of the scenario (and its surge) on top of ``base``."""
        model: DemandModel = Shifted(base, self.start_hour) if self.start_hour else base
        if self.traffic.factor != 1.0:
            model = Surge(model, self.traffic.factor)
        if self.surge is not None:
            s = self.surge
            model = Surge(
                model,
                s.factor,
                gus=frozenset(s.gus) or None,
                types=frozenset(s.types) or None,
                hours=(float(s.from_hour), float(s.to_hour)),
            )
        return model


def scenario_names() -> list[str]:
    """The shipped scenarios' names (file ``crowd_crush.toml`` is ``crowd-crush``)."""
    return sorted(p.stem.replace("_", "-") for p in SCENARIO_DIR.glob("*.toml"))


def scenario_path(name_or_path: str | Path) -> Path:
    """The file of a shipped scenario's name, or the path given."""
    text = str(name_or_path)
    shipped = SCENARIO_DIR / f"{text.replace('-', '_')}.toml"
    if "/" not in text and not text.endswith(".toml"):
        if shipped.is_file():
            return shipped
        raise ScenarioError(
            f"unknown scenario {text!r}; shipped: {', '.join(scenario_names())} (or a .toml path)"
        )
    path = Path(text)
    if not path.is_file():
        raise ScenarioError(f"scenario file {path} does not exist")
    return path


def load_scenario(name_or_path: str | Path) -> Scenario:
    """A shipped scenario by name (``crowd-crush``, ``surge-5x``) or a scenario file."""
    path = scenario_path(name_or_path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as err:
        raise ScenarioError(f"cannot read scenario {path}: {err}") from err
    try:
        return Scenario.model_validate({**raw, "source": str(path)})
    except ValidationError as err:
        first = err.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "(file)"
        raise ScenarioError(f"scenario {path}: {where}: {first['msg']}") from err
