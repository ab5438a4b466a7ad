"""Time budgets of the simulated response (documented in docs/simulation.md).

- **Call processing** (call received -> dispatch decision): log-normal with median 45 s and
  90th percentile 64 s (NFPA 1710: call processing within 64 s for 90 % of calls).
- **Turnout** (dispatch -> wheels rolling): 60 s for ambulances, 80 s for every other vehicle
  (NFPA 1710 limits, used as fixed values).
- Processing + turnout is the "call taking" part of Korea's 7-minute golden time (2 min):
  105-140 s here, so a first unit is on scene within 7 min when it drives 5 min or a little
  less.
- **On scene** (log-normal, sigma 0.5, medians): EMS 15 min, rescue 20 min, building fire
  40 min. Assumptions: the statistics give no scene times.
- **Hospital**: an EMS patient is transported (share from the statistics) to the nearest
  emergency room, then 15 min handover; then the ambulance drives back to its station.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from goldentime.contracts import IncidentType
from goldentime.contracts.dispatch import UnitKind

Z90 = 1.2815515655446004  # standard normal 90th percentile


def _default_scene() -> dict[IncidentType, float]:
    return {
        IncidentType.EMS: 15 * 60.0,
        IncidentType.RESCUE: 20 * 60.0,
        IncidentType.BUILDING_FIRE: 40 * 60.0,
    }


@dataclass(frozen=True)
class ServiceTimes:
    """Every fixed or sampled duration of a simulated response, in seconds."""

    processing_median_s: float = 45.0
    processing_p90_s: float = 64.0
    turnout_ambulance_s: float = 60.0
    turnout_other_s: float = 80.0
    scene_median_s: dict[IncidentType, float] = field(default_factory=_default_scene)
    scene_sigma: float = 0.5
    handover_s: float = 15 * 60.0
    fallback_speed_mps: float = 30 / 3.6  # crow-flight speed when a place is off the graph

    def turnout_s(self, kind: UnitKind | str) -> float:
        return self.turnout_ambulance_s if kind == "ambulance" else self.turnout_other_s

    def sample_processing(self, rng: np.random.Generator) -> float:
        sigma = math.log(self.processing_p90_s / self.processing_median_s) / Z90
        return float(self.processing_median_s * math.exp(sigma * rng.standard_normal()))

    def sample_scene(self, rng: np.random.Generator, incident_type: IncidentType) -> float:
        median = self.scene_median_s.get(incident_type, 20 * 60.0)
        return float(median * math.exp(self.scene_sigma * rng.standard_normal()))
