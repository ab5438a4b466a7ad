"""The camera registry: which cameras exist, where they are, and where their video comes from.

A registry is a JSON file ``{"cameras": [{...}, ...]}`` validated by :class:`Camera`. The
built-in registry holds the demo cameras in central Seoul (one plays the real house-fire clip
``house6.mp4`` in a loop) and, optionally, the 1,761 real Gangnam CCTV sites from
``data/seoul/cctv/cctv_gangnam.csv`` (sites have a position but no stream, so they are listed,
not played).
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from goldentime.contracts.core import Latitude, Longitude, RecordId
from goldentime.contracts.video import CameraKind
from video_relay.errors import RegistryError

Point = tuple[Annotated[float, Field(ge=0.0, le=1.0)], Annotated[float, Field(ge=0.0, le=1.0)]]

# The central demo area (lat 37.544-37.589, lon 126.950-127.007) shared with the other demos.
CENTRAL_AREA = ((37.544, 37.589), (126.950, 127.007))


class Zone(BaseModel):
    """A named polygon in normalised frame coordinates (0..1)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1, max_length=40)
    polygon: list[Point] = Field(min_length=3, max_length=64)
    motion: bool = Field(default=False, description="Publish motion events inside this zone.")
    ignore: bool = Field(default=False, description="Mask this area out of every analysis.")


class Camera(BaseModel):
    """One camera: identity, position and source (RTSP/HTTP/file URL, or none for a site)."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    id: RecordId
    name: str = Field(min_length=1, max_length=200)
    lat: Latitude
    lon: Longitude
    gu: str | None = Field(default=None, max_length=40)
    kind: CameraKind = CameraKind.CCTV
    source: str | None = Field(
        default=None,
        max_length=1000,
        description="rtsp://, http(s)://, file path, or synthetic:SCENE; None for a site only.",
    )
    loop: bool = Field(default=True, description="Replay a file source from the start at its end.")
    zones: list[Zone] = Field(default_factory=list, max_length=32)

    @field_validator("source")
    @classmethod
    def _source_not_blank(cls, value: str | None) -> str | None:
        if value is not None and not value:
            raise ValueError("source is empty; omit it for a camera site without a stream")
        return value

    @property
    def streams(self) -> bool:
        return self.source is not None


def demo_cameras(seoul_data_dir: Path) -> list[Camera]:
    """Demo cameras in central Seoul; the first plays the real house fire in a loop."""
    fire_clip = seoul_data_dir / "video" / "house6.mp4"
    return [
        Camera(
            id="demo-jongno-01",
            name="종로3가 이면도로 CCTV (demo: house6 fire clip)",
            lat=37.57136,
            lon=126.99178,
            gu="종로구",
            source=str(fire_clip),
        ),
        Camera(
            id="demo-jung-namsan-02",
            name="남산 소월로 CCTV (demo: synthetic sunset)",
            lat=37.55318,
            lon=126.98152,
            gu="중구",
            source="synthetic:sunset",
        ),
        Camera(
            id="demo-jung-cityhall-03",
            name="시청 앞 펌프차 차량 카메라 (demo: synthetic headlights)",
            lat=37.56650,
            lon=126.97800,
            gu="중구",
            kind=CameraKind.VEHICLE,
            source="synthetic:headlights",
        ),
    ]


def gangnam_sites(csv_path: Path) -> list[Camera]:
    """The real Gangnam CCTV installation points (UTF-8 CSV) as stream-less camera sites."""
    try:
        with csv_path.open(encoding="utf-8-sig", newline="") as handle:
            rows = list(csv.DictReader(handle))
    except (OSError, UnicodeDecodeError) as err:
        raise RegistryError(f"{csv_path}: cannot read CCTV sites: {err}") from err
    sites: list[Camera] = []
    for number, row in enumerate(rows, start=2):
        try:
            address = (row.get("road_address") or row.get("jibun_address") or "").strip()
            sites.append(
                Camera(
                    id=f"gangnam-cctv-{number - 1:04d}",
                    name=address or f"강남구 CCTV {number - 1}",
                    lat=float(row["latitude"]),
                    lon=float(row["longitude"]),
                    gu="강남구",
                )
            )
        except (KeyError, ValueError, ValidationError) as err:
            raise RegistryError(f"{csv_path} row {number}: invalid CCTV site: {err}") from err
    return sites


def load_registry(path: Path) -> list[Camera]:
    """Read a registry JSON file; errors name the file, the camera index and the field."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as err:
        raise RegistryError(f"{path}: no such camera registry file") from err
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise RegistryError(f"{path}: not a readable JSON registry: {err}") from err
    items = data.get("cameras") if isinstance(data, dict) else None
    if not isinstance(items, list):
        raise RegistryError(f'{path}: expected an object {{"cameras": [...]}}')
    cameras: list[Camera] = []
    for index, item in enumerate(items):
        try:
            cameras.append(Camera.model_validate(item))
        except ValidationError as err:
            first = err.errors()[0]
            where = ".".join(str(p) for p in first["loc"]) or "(camera)"
            raise RegistryError(f"{path}: cameras[{index}].{where}: {first['msg']}") from err
    return check_unique(cameras, origin=str(path))


def check_unique(cameras: Iterable[Camera], *, origin: str) -> list[Camera]:
    seen: set[str] = set()
    result = list(cameras)
    for camera in result:
        if camera.id in seen:
            raise RegistryError(f"{origin}: camera id {camera.id!r} appears twice")
        seen.add(camera.id)
    return result


def default_registry(seoul_data_dir: Path, *, include_sites: bool = True) -> list[Camera]:
    """Demo cameras plus (optionally) the real Gangnam CCTV sites."""
    cameras = demo_cameras(seoul_data_dir)
    if include_sites:
        cameras += gangnam_sites(seoul_data_dir / "cctv" / "cctv_gangnam.csv")
    return check_unique(cameras, origin="built-in registry")


def write_registry(path: Path, cameras: Sequence[Camera]) -> None:
    payload = {"cameras": [c.model_dump(mode="json", exclude_defaults=True) for c in cameras]}
    path.write_text(json.dumps(payload, ensure_ascii=False, indent=2), encoding="utf-8")
