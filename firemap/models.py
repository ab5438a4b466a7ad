"""The answer of ``SafetyMap.near``: what a crew needs to know about a place before arriving.

Pydantic models, frozen; ``to_dict()`` gives the JSON the CLI prints and dispatch stores.
Distances are metres in EPSG:5186, rounded to 0.1 m; every list is nearest first.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    def to_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json")


class Hit(_Model):
    id: str
    lat: float
    lon: float
    distance_m: float


class HydrantHit(Hit):
    state: Literal["working", "faulty_usable", "out_of_service", "closed"]
    kind: str = Field(description="hydrant | tank | water_tower")
    form: str = Field(description="underground | above_ground | multi_purpose")
    number: str | None
    pressure: float | None
    address: str | None


class DeviceHit(Hit):
    zone: str | None = Field(description="installation zone (Songpa data), e.g. 소방차진입곤란")
    no_engine_access: bool
    state: str | None
    address: str | None


class HazardHit(Hit):
    kind: Literal["bridge", "no_engine_access"]
    severity: Literal["info", "warning"]
    name: str | None
    detail: str


class CctvHit(Hit):
    cameras: int
    address: str | None


class EmergencyRoomHit(Hit):
    name: str | None
    er_class: str | None
    er_phone: str | None


class Station(_Model):
    """The responsible station: nearest 119 safety centre and its parent fire station."""

    centre_id: str
    centre: str
    lat: float
    lon: float
    distance_m: float
    fire_station: str | None
    fire_station_id: str | None
    rule: str
    alternatives: list[str]


class Restriction(_Model):
    vehicle: str
    access: Literal["direct", "hose", "unreachable", "outside_graph"]
    required_width_m: float
    hose_m: float | None
    stop_lat: float | None
    stop_lon: float | None
    street: str | None
    message: str


class NearResult(_Model):
    lat: float
    lon: float
    radius_m: float
    gu: str | None
    gu_code: str | None
    dong: str | None = Field(description="administrative dong (행정동, 2013 set)")
    legal_dong: str | None = Field(description="legal dong (법정동, 2015 set)")
    station: Station | None
    hydrants: list[HydrantHit] = Field(description="usable water points (working, faulty_usable)")
    hydrants_unusable: list[HydrantHit]
    devices: list[DeviceHit]
    hazards: list[HazardHit]
    restrictions: list[Restriction]
    cctv: list[CctvHit]
    emergency_rooms: list[EmergencyRoomHit]
    coverage: list[str] = Field(description="what the data does not cover here")
