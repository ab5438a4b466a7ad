"""Coverage over the day and move-up decisions, on routing's `CoverageModel`.

One coverage model per first-response vehicle class (``ambulance`` answers EMS, ``engine``
answers fire, rescue and cardiac calls): the share of road length within 5 minutes of an
available unit of that class. Every status change updates the models incrementally (routing
repairs only the cells that change), and the share is sampled after each change, so the
time-weighted mean over the day is exact for the event trace.

Move-up (policy ``eta+moveup``): whenever a class's coverage is below its all-home baseline
by more than ``trigger_drop`` (after a dispatch or a unit coming back),
``CoverageModel.suggest_move_up`` proposes up to ``max_moves`` moves of idle units to the
class's stations; moves gaining at least ``min_gain_share`` of the road length are ordered.
A relocating unit counts as covering from its post as soon as it is ordered there (so one
move does not trigger another while it drives); it may still be dispatched, from where it
started, until it arrives. When no unit of a class is busy any more, displaced units go home
(a move-back, not counted as a move-up).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from routing import CoverageModel, UnitPosition
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
        i = model._row[unit_id]
        unit = model.units[i]
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


@dataclass
class MoveUpPlanner:
    """Decides move-ups and move-backs from the tracker's models."""

    world: World
    tracker: CoverageTracker
    max_moves: int = 2
    trigger_drop: float = 0.005
    min_gain_share: float = 0.01

    def plan(
        self, idle_displaced: dict[str, set[str]], busy_kinds: Iterable[str]
    ) -> list[MoveOrder]:
        """Orders for now. ``idle_displaced``: per class, idle units away from home."""
        busy = set(busy_kinds)
        orders: list[MoveOrder] = []
        for kind, model in self.tracker.models.items():
            displaced = idle_displaced.get(kind, set())
            if kind not in busy:
                orders.extend(self._home(kind, displaced))
                continue
            if model.covered_share >= self.tracker.baseline[kind] - self.trigger_drop:
                continue
            stations = self.world.station_positions(kind)
            for move in model.suggest_move_up(stations, max_moves=self.max_moves):
                share = move.gain_m / model.total_length_m
                if share < self.min_gain_share:
                    continue
                home = self._home_station(move.unit_id)
                orders.append(
                    MoveOrder(
                        move.unit_id,
                        kind,
                        move.station_id,
                        move.to_lat,
                        move.to_lon,
                        move_up=move.station_id != home,
                        gain_share=share,
                    )
                )
        return orders

    def _home_station(self, unit_id: str) -> str:
        return next(v.station_id for v in self.world.fleet if v.unit_id == unit_id)

    def _home(self, kind: str, displaced: set[str]) -> list[MoveOrder]:
        orders = []
        for unit_id in sorted(displaced):
            home = self.world.stations[self._home_station(unit_id)]
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
