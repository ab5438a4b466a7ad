"""Coverage over the day and move-up decisions, on routing's `CoverageModel`.

One coverage model per first-response vehicle class (``ambulance`` answers EMS, ``engine``
answers fire, rescue and cardiac calls): the share of road length within 5 minutes of an
available unit of that class. Every status change updates the models incrementally (routing
repairs only the cells that change), and the share is sampled after each change, so the
time-weighted mean over the day is exact for the event trace.

Move-up (policy ``eta+moveup``): whenever a class's coverage is below its all-home baseline
by more than ``trigger_drop`` (after a dispatch or a unit coming back), `simulation.moveup`
proposes up to ``max_moves`` moves of idle units to the class's emptied stations, valuing
each road segment by the calls a day expected on it (`demand_weights`); moves bringing more
than ``min_gain_share`` of the area's calls a day newly within 5 minutes are ordered, at most
one search per ``min_interval_s`` per class. A relocating unit counts as covering from its
post as soon as it is ordered there (so one move does not trigger another while it drives);
it may still be dispatched, from where it started, until it arrives. A displaced unit goes
home (a move-back, not counted as a move-up) when the unit of the station it stands in comes
back, or when no unit of its class is busy any more.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from routing import CoverageModel, UnitPosition
from simulation.moveup import StationReach, plan_moves
from simulation.world import World

TRACKED_KINDS = ("ambulance", "engine")


@dataclass(frozen=True, slots=True)
class MoveOrder:
    unit_id: str
    kind: str
    station_id: str
    lat: float
    lon: float
    move_up: bool  # False: a move-back home
    gain_share: float


@dataclass
class CoverageTracker:
    """Per-class coverage models of one policy run, with their sampled history."""

    world: World
    minutes: float = 5.0
    models: dict[str, CoverageModel] = field(default_factory=dict)
    baseline: dict[str, float] = field(default_factory=dict)
    history: list[tuple[float, dict[str, float]]] = field(default_factory=list)

    def __post_init__(self) -> None:
        for kind in TRACKED_KINDS:
            units = [
                UnitPosition(v.unit_id, v.lat, v.lon, vehicle=kind, name=v.name)
                for v in self.world.fleet
                if v.kind == kind
            ]
            if units:
                model = self.world.network.coverage(units, minutes=self.minutes, vehicle=kind)
                self.models[kind] = model
                self.baseline[kind] = model.covered_share
        self.sample(0.0)

    def _model(self, kind: str) -> CoverageModel | None:
        return self.models.get(kind)

    def set_available(self, unit_id: str, kind: str, available: bool) -> None:
        model = self._model(kind)
        if model is not None:
            model.set_available(unit_id, available)

    def place(self, unit_id: str, kind: str, lat: float, lon: float) -> None:
        """The unit now stands at (lat, lon) (home or a move-up post)."""
        model = self._model(kind)
        if model is None:
            return
        unit = model.unit(unit_id)
        if (unit.lat, unit.lon) != (lat, lon):
            model.move_unit(unit_id, lat, lon)

    def sample(self, t: float) -> None:
        shares = {k: m.covered_share for k, m in self.models.items()}
        if self.history and self.history[-1][0] == t:
            self.history[-1] = (t, shares)
        else:
            self.history.append((t, shares))

    def time_weighted(self, horizon_s: float) -> dict[str, dict[str, float]]:
        """Mean (time-weighted over [0, horizon]) and minimum share per class, in percent."""
        out: dict[str, dict[str, float]] = {}
        for kind in self.models:
            total, low = 0.0, 1.0
            for n, (t, shares) in enumerate(self.history):
                if t >= horizon_s:
                    break
                end = self.history[n + 1][0] if n + 1 < len(self.history) else horizon_s
                total += shares[kind] * (min(end, horizon_s) - t)
                low = min(low, shares[kind])
            out[kind] = {
                "mean_pct": round(max(0.0, 100 * total / horizon_s), 2),
                "min_pct": round(max(0.0, 100 * low), 2),
                "all_home_pct": round(100 * self.baseline[kind], 2),
            }
        return out

    def series(self, horizon_s: float, *, step_s: float = 300.0) -> list[dict[str, float]]:
        """The shares (percent) every ``step_s`` seconds, for the chart."""
        points: list[dict[str, float]] = []
        n, t = 0, 0.0
        while t <= horizon_s:
            while n + 1 < len(self.history) and self.history[n + 1][0] <= t:
                n += 1
            points.append(
                {"t_s": t, **{k: round(100 * v, 2) for k, v in self.history[n][1].items()}}
            )
            t += step_s
        return points


def demand_weights(world: World) -> npt.NDArray[np.float64]:
    """Calls a day expected on each road segment (a gu's rate spread by road length).

    Segments of gu placed by dong (off the network) get none; with no on-network gu at all,
    every segment is weighed by its length.
    """
    index = world.network.index
    weights = np.zeros(index.n_segments)
    per_day = world.demand.per_day()
    for gu, places in world.places.by_gu.items():
        if places.segments.size:
            lengths = index.seg_length[places.segments].astype(np.float64)
            weights[places.segments] += sum(per_day[gu].values()) * lengths / lengths.sum()
    if not weights.any():
        return np.asarray(index.seg_length, dtype=np.float64)
    return weights


@dataclass
class MoveUpPlanner:
    """Decides move-ups and move-backs from the tracker's models (`simulation.moveup`)."""

    world: World
    tracker: CoverageTracker
    max_moves: int = 2
    trigger_drop: float = 0.005
    min_gain_share: float = 0.001  # of the area's calls a day newly within 5 min
    min_interval_s: float = 60.0  # per class, between two move-up searches
    _last: dict[str, float] = field(default_factory=dict)
    _reach: dict[str, StationReach] = field(default_factory=dict)
    _home_of: dict[str, str] = field(default_factory=dict)
    _weights: npt.NDArray[np.float64] = field(default_factory=lambda: np.zeros(0))

    def __post_init__(self) -> None:
        self._home_of = {v.unit_id: v.station_id for v in self.world.fleet}
        self._weights = demand_weights(self.world)
        for kind, model in self.tracker.models.items():
            self._reach[kind] = StationReach(self.world.network, kind, model.minutes)

    def plan(
        self, idle_displaced: dict[str, set[str]], busy_kinds: Iterable[str], *, now: float
    ) -> list[MoveOrder]:
        """Orders for now. ``idle_displaced``: per class, idle units away from home.

        A displaced unit goes home when no unit of its class is busy any more, or when
        another available unit of its class stands at its post again (the station's own
        unit came back). Then, when the class's coverage is below its all-home value by more
        than ``trigger_drop``, up to ``max_moves`` move-ups gaining > ``min_gain_share`` each, at
        most once per ``min_interval_s`` of scenario time per class (``now``).
        """
        busy = set(busy_kinds)
        orders: list[MoveOrder] = []
        for kind, model in self.tracker.models.items():
            displaced = idle_displaced.get(kind, set())
            if kind not in busy:
                orders.extend(self._home(kind, displaced))
                continue
            going_home = self._doubled(model, displaced)
            orders.extend(self._home(kind, going_home))
            for order in orders:
                if order.kind == kind:  # the model counts them home from the order on
                    self.tracker.place(order.unit_id, kind, order.lat, order.lon)
            if model.covered_share >= self.tracker.baseline[kind] - self.trigger_drop:
                continue
            if now < self._last.get(kind, -math.inf) + self.min_interval_s:
                continue
            self._last[kind] = now
            stations = self.world.station_positions(kind)
            for move in plan_moves(
                model,
                stations,
                self._reach[kind],
                weights=self._weights,
                max_moves=self.max_moves,
                min_gain=self.min_gain_share * float(self._weights.sum()),
            ):
                home = self._home_of[move.unit_id]
                orders.append(
                    MoveOrder(
                        move.unit_id,
                        kind,
                        move.station.unit_id,
                        move.station.lat,
                        move.station.lon,
                        move_up=move.station.unit_id != home,
                        gain_share=move.gain / float(self._weights.sum()),
                    )
                )
        return orders

    @staticmethod
    def _doubled(model: CoverageModel, displaced: set[str]) -> set[str]:
        """Displaced units whose post another available unit of the class stands at."""
        if not displaced:
            return set()
        count: dict[tuple[float, float], int] = {}
        for i in np.flatnonzero(model.available):
            unit = model.units[int(i)]
            count[(unit.lat, unit.lon)] = count.get((unit.lat, unit.lon), 0) + 1
        return {
            u.unit_id
            for i in np.flatnonzero(model.available)
            if (u := model.units[int(i)]).unit_id in displaced and count[(u.lat, u.lon)] > 1
        }

    def _home(self, kind: str, displaced: set[str]) -> list[MoveOrder]:
        orders = []
        for unit_id in sorted(displaced):
            home = self.world.stations[self._home_of[unit_id]]
            orders.append(
                MoveOrder(
                    unit_id,
                    kind,
                    home.station_id,
                    home.lat,
                    home.lon,
                    move_up=False,
                    gain_share=0.0,
                )
            )
        return orders
