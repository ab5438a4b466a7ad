"""Geo-targeting: which subscribers are inside an alert area, computed vectorised.

Subscribers may register several locations (home, work, ...). All locations sit in flat
numpy arrays; ``shapely.contains_xy`` tests them against the (prepared) area in one call,
and ``numpy.unique`` keeps each subscriber once, however many of their locations are inside.
Opted-out subscribers are never returned; an exercise reaches only exercise participants.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import shapely
from sqlalchemy import select
from sqlalchemy.orm import Session

from alerts.alert_store import SubscriberLocationRow, SubscriberRow


@dataclass(frozen=True, slots=True)
class Recipient:
    phone: str
    language: str


class SubscriberIndex:
    """Subscribers' locations as arrays, ready for vectorised point-in-area tests."""

    def __init__(
        self,
        *,
        phones: list[str],
        languages: list[str],
        active: npt.NDArray[np.bool_],
        exercise: npt.NDArray[np.bool_],
        owner: npt.NDArray[np.int64],
        lon: npt.NDArray[np.float64],
        lat: npt.NDArray[np.float64],
    ) -> None:
        if not (len(phones) == len(languages) == len(active) == len(exercise)):
            raise ValueError("subscriber arrays must have one entry per subscriber")
        if not (len(owner) == len(lon) == len(lat)):
            raise ValueError("location arrays must have one entry per location")
        self.phones = phones
        self.languages = languages
        self.active = active
        self.exercise = exercise
        self.owner = owner
        self.lon = lon
        self.lat = lat

    @classmethod
    def from_session(cls, session: Session) -> SubscriberIndex:
        subscribers = session.execute(
            select(
                SubscriberRow.id,
                SubscriberRow.phone,
                SubscriberRow.language,
                SubscriberRow.opted_out,
                SubscriberRow.exercise_participant,
            ).order_by(SubscriberRow.id)
        ).all()
        position = {row.id: i for i, row in enumerate(subscribers)}
        locations = session.execute(
            select(
                SubscriberLocationRow.subscriber_id,
                SubscriberLocationRow.lon,
                SubscriberLocationRow.lat,
            )
        ).all()
        return cls(
            phones=[row.phone for row in subscribers],
            languages=[row.language for row in subscribers],
            active=np.array([not row.opted_out for row in subscribers], dtype=bool),
            exercise=np.array([row.exercise_participant for row in subscribers], dtype=bool),
            owner=np.array([position[row.subscriber_id] for row in locations], dtype=np.int64),
            lon=np.array([row.lon for row in locations], dtype=np.float64),
            lat=np.array([row.lat for row in locations], dtype=np.float64),
        )

    def inside(self, geometry: Any) -> npt.NDArray[np.int64]:
        """Positions of the subscribers with at least one location inside ``geometry``."""
        shapely.prepare(geometry)
        mask = shapely.contains_xy(geometry, self.lon, self.lat)
        return np.unique(self.owner[mask])

    def inside_loop(self, geometry: Any) -> npt.NDArray[np.int64]:
        """The same answer with a per-point Python loop: the baseline of the benchmark."""
        point = shapely.Point
        found = {
            int(self.owner[i])
            for i in range(len(self.lon))
            if geometry.contains(point(float(self.lon[i]), float(self.lat[i])))
        }
        return np.array(sorted(found), dtype=np.int64)

    def recipients(self, geometry: Any, *, exercise: bool) -> list[Recipient]:
        """Deduplicated recipients inside ``geometry``; only participants for an exercise."""
        positions = self.inside(geometry)
        keep = self.active[positions]
        if exercise:
            keep &= self.exercise[positions]
        return [Recipient(self.phones[i], self.languages[i]) for i in positions[keep].tolist()]


def add_subscriber(
    session: Session,
    *,
    phone: str,
    language: str,
    locations: list[tuple[float, float]],
    exercise_participant: bool = False,
) -> SubscriberRow:
    """Register a subscriber with (lat, lon) locations; the caller commits."""
    if not phone.startswith("+") or not phone[1:].isdigit() or not 8 <= len(phone) <= 16:
        raise ValueError(f"phone {phone!r} must be E.164, e.g. +821012345678")
    if language not in ("ko", "en"):
        raise ValueError(f"language {language!r} must be 'ko' or 'en'")
    if not locations:
        raise ValueError(f"subscriber {phone} needs at least one location")
    row = SubscriberRow(
        phone=phone, language=language, opted_out=False, exercise_participant=exercise_participant
    )
    session.add(row)
    session.flush()
    for lat, lon in locations:
        session.add(SubscriberLocationRow(subscriber_id=row.id, lat=lat, lon=lon))
    return row
