"""Patient distribution of a mass-casualty incident over emergency rooms.

Pure functions over plain values. Patients leave in START order (red, then yellow, then
green; black is not transported). Each goes to the nearest emergency room (by ETA from the
scene) that still has room and, when more than three ERs are within the horizon, stays under
``max_share`` of all the incident's patients: the nearest ER must not be flooded while others
nearby have room (Itaewon 2022: the nearest hospital received far more than it could treat).
Every assignment carries its reason.

Capacity is the number of an incident's patients an ER can take at once on top of its
ordinary load. It is configurable (by ER id or by level); the defaults rise with the ER's
level in data/seoul/hospitals (``dispatch.hospitals.LEVELS``): a 권역응급의료센터 (regional
centre) must by its designation hold more beds and specialists than a 지역응급의료센터 (local
centre), which holds more than a 지역응급의료기관 (local institution) or an 응급의료시설
(facility). The numbers are our estimate of a night's surge room, to be set per centre.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType

from dispatch.hospitals import LEVELS, Hospital
from dispatch.mci import triage_counts
from goldentime.errors import ContractError

DEFAULT_CAPACITY: Mapping[str, int] = MappingProxyType(
    {
        "권역응급의료센터": 10,  # regional centre
        "지역응급의료센터": 6,  # local centre
        "지역응급의료기관": 3,  # local institution
        "응급의료시설": 1,  # facility
    }
)
UNKNOWN_LEVEL_CAPACITY = 1  # an ER whose level the file does not name
TRANSPORTED = ("red", "yellow", "green")  # START order; black is not transported
MAX_CAPACITY = 10_000
_SHARE_FROM_ERS = 3  # the share limit applies when MORE than this many ERs are within reach
_NAMED = 3  # skipped nearer ERs named in a reason
_SPILL = 2.0  # ERs up to this x the horizon take patients before a near ER goes over its share


@dataclass(frozen=True, slots=True)
class ErCapacity:
    er_id: str
    name: str
    lat: float
    lon: float
    level: str
    capacity: int

    def __post_init__(self) -> None:
        if not self.er_id:
            raise ContractError("er_id must not be empty", field="er_id")
        if not (math.isfinite(self.lat) and math.isfinite(self.lon)):
            raise ContractError(f"{self.er_id}: lat/lon must be numbers", field="lat")
        if (
            isinstance(self.capacity, bool)
            or not isinstance(self.capacity, int)
            or not 0 <= self.capacity <= MAX_CAPACITY
        ):
            raise ContractError(
                f"{self.er_id}: capacity must be a whole number 0..{MAX_CAPACITY}",
                field="capacity",
            )


@dataclass(frozen=True, slots=True)
class PatientAssignment:
    patient: int
    triage: str
    er_id: str
    er_name: str
    eta_s: float
    reason: str


def er_capacities(
    hospitals: Sequence[Hospital], *, overrides: Mapping[str, int] | None = None
) -> list[ErCapacity]:
    """Every ER with its capacity: ``overrides`` by ER id first, then by level name, then
    :data:`DEFAULT_CAPACITY` by the ER's level (:data:`UNKNOWN_LEVEL_CAPACITY` otherwise).

    An override naming neither a listed ER nor a level is refused (a typo must not silently
    leave the default in place).
    """
    overrides = overrides or {}
    ids = {h.hospital_id for h in hospitals}
    for key, value in overrides.items():
        if key not in ids and key not in LEVELS:
            raise ContractError(
                f"overrides.{key}: neither an ER id nor an ER level", field=f"overrides.{key}"
            )
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_CAPACITY:
            raise ContractError(
                f"overrides.{key} must be a whole number 0..{MAX_CAPACITY}",
                field=f"overrides.{key}",
            )
    result = []
    for hospital in hospitals:
        if hospital.hospital_id in overrides:
            capacity = overrides[hospital.hospital_id]
        elif hospital.level in overrides:
            capacity = overrides[hospital.level]
        else:
            capacity = DEFAULT_CAPACITY.get(hospital.level, UNKNOWN_LEVEL_CAPACITY)
        result.append(
            ErCapacity(
                er_id=hospital.hospital_id,
                name=hospital.name,
                lat=hospital.lat,
                lon=hospital.lon,
                level=hospital.level,
                capacity=capacity,
            )
        )
    return result


@dataclass(slots=True)
class _Er:
    er: ErCapacity
    eta_s: float
    load: int  # the incident's patients already sent here


def distribute(
    triage: Mapping[str, int],
    ers: Sequence[tuple[ErCapacity, float]],
    *,
    already: Mapping[str, int] | None = None,
    horizon_s: float = 900.0,
    max_share: float = 0.35,
    first_patient: int = 1,
) -> list[PatientAssignment]:
    """Assign the patients of ``triage`` (START counts still to transport) to ERs.

    ``ers``: each ER with its ETA from the scene in seconds (``math.inf``: unreachable, never
    chosen). ``already``: the incident's patients already sent to each ER (by id): they use
    room and count in the shares. The share limit, ``floor(max_share x all patients)`` (at
    least 1), applies when more than three ERs are within ``horizon_s``; ERs up to twice the
    horizon take patients before a near ER goes over its share; when every ER with room
    (within twice the horizon) is at its share the patient goes to the least loaded ER with
    room within the horizon (ties: the nearest; none: the nearest with room), and when every
    ER is full to the least loaded relative to its capacity within the horizon: a patient is
    never left without a destination, and the reason says so. Patients are numbered from
    ``first_patient`` in the order they leave.
    """
    counts = triage_counts(triage)
    already_counts = _check_already(already or {})
    _need(math.isfinite(horizon_s) and horizon_s > 0, "horizon_s", "a positive number of seconds")
    _need(math.isfinite(max_share) and 0 < max_share <= 1, "max_share", "in (0, 1]")
    _need(
        not isinstance(first_patient, bool)
        and isinstance(first_patient, int)
        and first_patient >= 1,
        "first_patient",
        "a whole number >= 1",
    )
    table = _table(ers, already_counts)
    new = sum(counts[t] for t in TRANSPORTED)
    if new == 0:
        return []
    if not table:
        raise ContractError("no reachable emergency room to distribute patients to", field="ers")
    total = new + sum(already_counts.values())
    near = [e for e in table if e.eta_s <= horizon_s]
    share_cap = (
        max(1, math.floor(max_share * total + 1e-9)) if len(near) > _SHARE_FROM_ERS else None
    )
    assignments: list[PatientAssignment] = []
    number = first_patient
    for category in TRANSPORTED:
        for _ in range(counts[category]):
            chosen, why = _choose(
                table, near, share_cap, max_share, total, spill_s=_SPILL * horizon_s
            )
            chosen.load += 1
            reason = (
                f"{category}: {chosen.er.name} ETA {chosen.eta_s / 60:.1f} min, "
                f"{chosen.load}/{chosen.er.capacity} of its capacity: {why}"
            )
            assignments.append(
                PatientAssignment(
                    patient=number,
                    triage=category,
                    er_id=chosen.er.er_id,
                    er_name=chosen.er.name,
                    eta_s=chosen.eta_s,
                    reason=reason,
                )
            )
            number += 1
    return assignments


def er_load(
    assignments: Sequence[PatientAssignment],
    ers: Sequence[ErCapacity],
    *,
    already: Mapping[str, int] | None = None,
) -> list[dict[str, object]]:
    """Patients per ER against its capacity (``{er_id, er_name, patients, capacity}``), the
    ERs that received any, most loaded first: the console's load table."""
    counts = dict(_check_already(already or {}))
    for assignment in assignments:
        counts[assignment.er_id] = counts.get(assignment.er_id, 0) + 1
    names = {a.er_id: a.er_name for a in assignments}
    by_id = {e.er_id: e for e in ers}
    rows: list[dict[str, object]] = []
    for er_id, patients in counts.items():
        if patients <= 0:
            continue
        er = by_id.get(er_id)
        rows.append(
            {
                "er_id": er_id,
                "er_name": er.name if er else names.get(er_id, er_id),
                "patients": patients,
                "capacity": er.capacity if er else None,
            }
        )
    rows.sort(key=lambda row: (-int(str(row["patients"])), str(row["er_id"])))
    return rows


def _choose(
    table: list[_Er],
    near: list[_Er],
    share_cap: int | None,
    max_share: float,
    total: int,
    *,
    spill_s: float,
) -> tuple[_Er, str]:
    skipped: list[str] = []
    for entry in table:  # nearest first
        if share_cap is not None and entry.eta_s > spill_s:
            break  # a ride this long is worse than one more patient over a near ER's share
        if entry.load >= entry.er.capacity:
            skipped.append(f"{entry.er.name} full ({entry.load}/{entry.er.capacity})")
            continue
        if share_cap is not None and entry.load >= share_cap:
            skipped.append(
                f"{entry.er.name} at its share ({entry.load} of {total}, limit {max_share:.0%})"
            )
            continue
        if not skipped:
            return entry, "nearest ER with room"
        return entry, "nearest with room; " + _named(skipped)
    with_room = [e for e in table if e.load < e.er.capacity]
    near_with_room = [e for e in with_room if e in near]
    if near_with_room:  # every near ER with room is at its share: the least loaded, nearest
        best = min(near_with_room, key=lambda e: (e.load, e.eta_s, e.er.er_id))
        return best, (
            f"every ER with room is at its share of {total} patients: least loaded with room"
        )
    if with_room:  # the near ERs are full: the nearest with room, however far
        return with_room[0], "every ER within reach is full: nearest with room; " + _named(skipped)
    pool = near or table  # every ER is full: spread the overflow, and say so
    best = min(pool, key=lambda e: ((e.load + 1) / max(e.er.capacity, 1), e.eta_s, e.er.er_id))
    return best, "EVERY ER IS FULL: over capacity, least loaded within reach (call the ER)"


def _named(skipped: list[str]) -> str:
    """ "3 nearer ERs skipped: A full (6/6); B full (3/3); C at its share (...)"."""
    shown = "; ".join(skipped[:_NAMED])
    more = len(skipped) - _NAMED
    count = f"{len(skipped)} nearer ER{'s' if len(skipped) > 1 else ''} skipped: "
    return count + (f"{shown}; {more} more" if more > 0 else shown)


def _table(ers: Sequence[tuple[ErCapacity, float]], already: Mapping[str, int]) -> list[_Er]:
    seen: set[str] = set()
    table: list[_Er] = []
    for index, pair in enumerate(ers):
        try:
            er, eta = pair
        except (TypeError, ValueError) as err:
            raise ContractError(f"ers[{index}] must be (ErCapacity, eta_s)", field="ers") from err
        if not isinstance(er, ErCapacity):
            raise ContractError(f"ers[{index}] must hold an ErCapacity", field="ers")
        if er.er_id in seen:
            raise ContractError(f"ers[{index}]: {er.er_id} listed twice", field="ers")
        seen.add(er.er_id)
        if isinstance(eta, bool) or not isinstance(eta, int | float) or math.isnan(eta) or eta < 0:
            raise ContractError(f"ers[{index}]: eta_s must be >= 0 seconds", field="ers")
        if math.isinf(eta):
            continue  # unreachable
        table.append(_Er(er, float(eta), already.get(er.er_id, 0)))
    table.sort(key=lambda e: (e.eta_s, e.er.er_id))
    return table


def _check_already(already: Mapping[str, int]) -> dict[str, int]:
    if not isinstance(already, Mapping):
        raise ContractError("already must map ER ids to counts", field="already")
    for key, value in already.items():
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_CAPACITY:
            raise ContractError(
                f"already.{key} must be a whole number 0..{MAX_CAPACITY}", field=f"already.{key}"
            )
    return dict(already)


def _need(ok: bool, field: str, expected: str) -> None:
    if not ok:
        raise ContractError(f"{field} must be {expected}", field=field)
