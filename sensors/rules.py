"""The rules engine: per-sensor state, real alarms kept apart from sensor faults.

Pure and in event time: :meth:`RulesEngine.process` takes one validated reading and returns
the alarm records it causes (usually none). Per sensor, in this order:

1. **Order and duplicates.** A reading not newer (by ``measured_at``) than the last one seen
   for its sensor is a redelivery or late data and changes nothing: at-least-once delivery
   can neither double-count a gust nor flap a level.
2. **Faults** (``fault=True`` records, never a structural alarm): wrong unit, out of the
   physical range, a spike (a jump larger than the sensor can move, held one reading and
   called a spike when the next reading returns; a confirmed jump is accepted), a flatline
   (the same value for ``flatline_s``) and a gap (no reading for ``gap_s``; found on
   arrival, or by :meth:`RulesEngine.check_gaps` from a timer). While a fault is open the
   sensor's readings do not move its alarms: it clears after ``clear_after_good`` plausible
   readings in a row, which are then applied (a gap clears on the first reading).
3. **Rules** on plausible values: level latches with hysteresis and hold times, counts in a
   window, rates of rise (:mod:`sensors.triggers`).

Each change yields a :class:`SensorAlarm` whose id is derived from the sensor, the rule, the
event time and the level, so reprocessing the same readings gives the same ids.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from goldentime.contracts.sensors import AlarmLevel, FaultKind, SensorAlarm, SensorReading
from sensors.model import SensorSpec
from sensors.registry import SensorRegistry
from sensors.triggers import CountTracker, Latch, RateTracker

FAULT_OPEN_LEVEL = AlarmLevel.WARNING
LEVEL_RULE = "level"
FAULT_RULE = "fault"


@dataclass(slots=True)
class EngineStats:
    processed: int = 0
    duplicates: int = 0
    late: int = 0
    faulty: int = 0
    alarms: int = 0


@dataclass(slots=True)
class _SensorState:
    spec: SensorSpec
    latches: list[Latch]
    counts: list[CountTracker]
    rates: list[RateTracker]
    level: AlarmLevel = AlarmLevel.CLEAR
    last_at: datetime | None = None
    last_id: str = ""
    ref: tuple[datetime, float] | None = None  # last accepted value, for spikes
    pending: SensorReading | None = None  # a suspect jump, held one reading
    flat_value: float | None = None
    flat_since: datetime | None = None
    fault: FaultKind | None = None
    good_run: list[SensorReading] = field(default_factory=list)


def _ms(t: datetime) -> int:
    return int(t.timestamp() * 1000)


class RulesEngine:
    """Per-sensor rule state for the sensors of ``registry`` (one worker's partitions)."""

    def __init__(self, registry: SensorRegistry) -> None:
        self._registry = registry
        self._states: dict[str, _SensorState] = {}
        self._rule_levels: dict[str, dict[str, AlarmLevel]] = {}
        self.stats = EngineStats()
        self.watermark: datetime | None = None

    # --- public ------------------------------------------------------------------------------
    def process(self, reading: SensorReading) -> list[SensorAlarm]:
        """Apply one reading (its sensor must be in the registry); return the changes."""
        st = self._state(reading.sensor_id)
        t = reading.measured_at
        if st.last_at is not None and t <= st.last_at:
            if t == st.last_at:
                self.stats.duplicates += 1
            else:
                self.stats.late += 1
            return []
        self.stats.processed += 1
        if self.watermark is None or t > self.watermark:
            self.watermark = t
        out: list[SensorAlarm] = []
        previous_at, st.last_at, st.last_id = st.last_at, t, reading.id
        faults = st.spec.faults
        silent = (t - previous_at).total_seconds() if previous_at is not None else 0.0
        if silent > faults.gap_s and st.fault is None:
            why = f"no reading for {silent:.0f} s"
            out.append(self._open_fault(st, reading, FaultKind.GAP, why))
        if st.fault is FaultKind.GAP:
            out.append(self._close_fault(st, reading, "readings resumed"))
        reason = self._fault_of(st, reading)
        if reason is not None:
            kind, why = reason
            self.stats.faulty += 1
            st.good_run = []
            if st.fault is None:
                out.append(self._open_fault(st, reading, kind, why))
            self.stats.alarms += len(out)
            return out
        accepted = self._despike(st, reading, out)
        for plausible in accepted:
            out.extend(self._plausible(st, plausible))
        self.stats.alarms += len(out)
        return out

    def check_gaps(self, *, now: datetime) -> list[SensorAlarm]:
        """Open a gap fault for every sensor silent for longer than its ``gap_s`` at ``now``
        (pass the event-time :attr:`watermark` to stay correct in replays)."""
        out = []
        for st in self._states.values():
            if st.fault is None and st.last_at is not None:
                silent = (now - st.last_at).total_seconds()
                if silent > st.spec.faults.gap_s:
                    out.append(
                        self._fault_record(
                            st, FaultKind.GAP, FAULT_OPEN_LEVEL, AlarmLevel.CLEAR, now,
                            f"no reading for {silent:.0f} s (gap limit {st.spec.faults.gap_s:g} s)",
                            [st.last_id], None,
                        )
                    )  # fmt: skip
                    st.fault = FaultKind.GAP
        self.stats.alarms += len(out)
        return out

    def structure_level(self, structure_id: str) -> AlarmLevel:
        levels = self._rule_levels.get(structure_id, {}).values()
        return max(levels, key=lambda lv: lv.rank, default=AlarmLevel.CLEAR)

    def sensor_fault(self, sensor_id: str) -> FaultKind | None:
        st = self._states.get(sensor_id)
        return st.fault if st else None

    # --- state -------------------------------------------------------------------------------
    def _state(self, sensor_id: str) -> _SensorState:
        st = self._states.get(sensor_id)
        if st is None:
            spec = self._registry.sensor(sensor_id)
            st = _SensorState(
                spec=spec,
                latches=[Latch(th) for th in spec.levels],
                counts=[CountTracker(rule) for rule in spec.count_rules],
                rates=[RateTracker(rule) for rule in spec.rate_rules],
            )
            self._states[sensor_id] = st
        return st

    # --- faults ------------------------------------------------------------------------------
    def _fault_of(self, st: _SensorState, r: SensorReading) -> tuple[FaultKind, str] | None:
        spec, faults = st.spec, st.spec.faults
        if r.unit != spec.unit:
            return FaultKind.WRONG_UNIT, f"unit {r.unit!r}, expected {spec.unit!r}"
        if not faults.physical_min <= r.value <= faults.physical_max:
            return (
                FaultKind.OUT_OF_RANGE,
                f"{r.value:g} {spec.unit} outside the physical range "
                f"[{faults.physical_min:g}, {faults.physical_max:g}]",
            )
        if st.flat_value is not None and r.value == st.flat_value and st.flat_since is not None:
            stuck = (r.measured_at - st.flat_since).total_seconds()
            if stuck >= faults.flatline_s:
                return FaultKind.FLATLINE, f"stuck at {r.value:g} {spec.unit} for {stuck:.0f} s"
        else:
            st.flat_value, st.flat_since = r.value, r.measured_at
        return None

    def _allowed_step(self, st: _SensorState, since: datetime, t: datetime) -> float:
        faults = st.spec.faults
        assert faults.max_step is not None
        return faults.max_step + faults.max_slew_per_s * (t - since).total_seconds()

    def _despike(
        self, st: _SensorState, r: SensorReading, out: list[SensorAlarm]
    ) -> list[SensorReading]:
        """Readings to treat as plausible now (a suspect jump is held for one reading)."""
        if st.spec.faults.max_step is None or st.ref is None:
            return [r]
        ref_at, ref_value = st.ref
        near_ref = abs(r.value - ref_value) <= self._allowed_step(st, ref_at, r.measured_at)
        pending, st.pending = st.pending, None
        if pending is None:
            if near_ref:
                return [r]
            st.pending = r
            return []
        if near_ref or abs(r.value - pending.value) > self._allowed_step(
            st, pending.measured_at, r.measured_at
        ):
            self.stats.faulty += 1
            if st.fault is None:
                why = (
                    f"jump to {pending.value:g} {st.spec.unit} from {ref_value:g}, "
                    f"not confirmed by the next reading"
                )
                out.append(self._open_fault(st, pending, FaultKind.SPIKE, why))
            st.good_run = []
            if near_ref:
                return [r]
            st.pending = r
            return []
        return [pending, r]  # the next reading confirmed the jump: a real change

    def _open_fault(
        self, st: _SensorState, r: SensorReading, kind: FaultKind, why: str
    ) -> SensorAlarm:
        st.fault, st.good_run = kind, []
        return self._fault_record(
            st, kind, FAULT_OPEN_LEVEL, AlarmLevel.CLEAR, r.measured_at, why, [r.id], r.value
        )

    def _close_fault(self, st: _SensorState, r: SensorReading, why: str) -> SensorAlarm:
        kind = st.fault
        assert kind is not None
        st.fault = None
        ids = [g.id for g in st.good_run] or [r.id]
        return self._fault_record(
            st, kind, AlarmLevel.CLEAR, FAULT_OPEN_LEVEL, r.measured_at,
            f"{kind.value} over: {why}", ids, r.value,
        )  # fmt: skip

    def _fault_record(
        self,
        st: _SensorState,
        kind: FaultKind,
        level: AlarmLevel,
        previous: AlarmLevel,
        at: datetime,
        why: str,
        ids: list[str],
        value: float | None,
    ) -> SensorAlarm:
        spec = st.spec
        return SensorAlarm(
            id=f"{spec.sensor_id}:{FAULT_RULE}:{_ms(at)}:{level.value}",
            structure_id=spec.structure_id,
            structure_name=self._registry.structure(spec.structure_id).name,
            sensor_id=spec.sensor_id,
            kind=spec.kind,
            rule=FAULT_RULE,
            level=level,
            previous_level=previous,
            structure_level=self.structure_level(spec.structure_id),
            fault=True,
            fault_kind=kind,
            reason=f"sensor fault ({kind.value}): {why}",
            value=value,
            unit=spec.unit,
            raised_at=at,
            reading_ids=ids[-10:],
        )

    # --- rules -------------------------------------------------------------------------------
    def _plausible(self, st: _SensorState, r: SensorReading) -> list[SensorAlarm]:
        if st.spec.faults.max_step is not None:
            st.ref = (r.measured_at, r.value)
        if st.fault is not None:
            st.good_run.append(r)
            if len(st.good_run) < st.spec.faults.clear_after_good:
                return []
            run = st.good_run
            out = [self._close_fault(st, r, f"{len(run)} plausible readings in a row")]
            st.good_run = []
            for held in run:
                out.extend(self._apply_rules(st, held))
            return out
        return self._apply_rules(st, r)

    def _apply_rules(self, st: _SensorState, r: SensorReading) -> list[SensorAlarm]:
        spec = st.spec
        t, x = r.measured_at, abs(r.value) if spec.absolute else r.value
        out: list[SensorAlarm] = []
        changed = False
        for latch in st.latches:
            changed |= latch.feed(t, x, r.id)
        if changed:
            new = AlarmLevel.CLEAR
            for latch in st.latches:
                if latch.on:
                    new = latch.threshold.level
            if new != st.level:
                rising = new.rank > st.level.rank
                decisive = next(
                    la for la in st.latches if la.threshold.level is (new if rising else st.level)
                )
                th = decisive.threshold
                limit = th.raise_at if rising else th.clear_at
                why = f"{spec.kind.value} {r.value:g} {spec.unit} " + (
                    f"at or over {limit:g}"
                    if rising
                    else f"under {limit:g} for {th.clear_after_s:g} s"
                )
                ids = decisive.run_ids or [r.id]
                out.append(self._real(st, LEVEL_RULE, st.level, new, r, why, limit, ids))
                st.level = new
        for count in st.counts:
            if count.feed(t, x, r.id):
                level = count.rule.level if count.on else AlarmLevel.CLEAR
                previous = AlarmLevel.CLEAR if count.on else count.rule.level
                ids = count.episode_ids if count.on else [r.id]
                out.append(
                    self._real(st, f"count.{count.rule.name}", previous, level, r,
                               count.describe(), count.rule.over, ids)
                )  # fmt: skip
        for rate in st.rates:
            if rate.feed(t, x, r.id):
                level = rate.rule.level if rate.on else AlarmLevel.CLEAR
                previous = AlarmLevel.CLEAR if rate.on else rate.rule.level
                per = f"{rate.rule.rise:g} {spec.unit} per {rate.rule.per_s:g} s"
                why = f"rising {rate.rate:.3g} {spec.unit} per {rate.rule.per_s:g} s " + (
                    f"(limit {per})" if rate.on else f"(under half of {per})"
                )
                out.append(
                    self._real(st, f"rate.{rate.rule.name}", previous, level, r, why,
                               rate.rule.rise, rate.window_ids)
                )  # fmt: skip
        return out

    def _real(
        self,
        st: _SensorState,
        rule: str,
        previous: AlarmLevel,
        level: AlarmLevel,
        r: SensorReading,
        why: str,
        threshold: float,
        ids: list[str],
    ) -> SensorAlarm:
        spec = st.spec
        levels = self._rule_levels.setdefault(spec.structure_id, {})
        key = f"{spec.sensor_id}/{rule}"
        if level is AlarmLevel.CLEAR:
            levels.pop(key, None)
        else:
            levels[key] = level
        return SensorAlarm(
            id=f"{spec.sensor_id}:{rule}:{_ms(r.measured_at)}:{level.value}",
            structure_id=spec.structure_id,
            structure_name=self._registry.structure(spec.structure_id).name,
            sensor_id=spec.sensor_id,
            kind=spec.kind,
            rule=rule,
            level=level,
            previous_level=previous,
            structure_level=self.structure_level(spec.structure_id),
            fault=False,
            reason=why,
            value=r.value,
            unit=spec.unit,
            threshold=threshold,
            raised_at=r.measured_at,
            reading_ids=ids[-10:],
        )
