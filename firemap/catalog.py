"""The shipped layers: which file, which columns, which CRS, and how a row reads.

Paths are relative to the Seoul data directory (``settings.data.seoul_dir``); each folder keeps
its SOURCE.txt. Attribution strings travel with every GeoJSON layer the console shows.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from firemap.layers import LayerSpec, LineColumns, PointColumns
from firemap.sources import RowError, number, text

SEOUL_OPEN_DATA = "서울특별시 / 서울소방재난본부, Seoul Open Data Plaza (KOGL Type 1)"

HYDRANT_KINDS = {"소화전": "hydrant", "저수조": "tank", "급수탑": "water_tower"}
HYDRANT_FORMS = {"지하식": "underground", "지상식": "above_ground", "다용도소화전": "multi_purpose"}
# State of a water point. "working" and "faulty_usable" can be used; the others cannot.
HYDRANT_STATES = {
    "양호": "working",
    "고장(사용가)": "faulty_usable",
    "고장(사용불)": "out_of_service",
    "임시폐전": "closed",
}
USABLE_STATES = frozenset({"working", "faulty_usable"})
DEVICE_STATES = {
    "양호": "working",
    "고장(사용가)": "faulty_usable",
    "고장(사용불)": "out_of_service",
}
# 설치지역 values that say fire engines cannot get in.
NO_ENGINE_ACCESS_ZONES = frozenset({"소방차진입곤란", "소방차진입불가"})
BRIDGE_GRADES = frozenset("ABCDE")


def _choice(row: Mapping[str, str], field: str, table: Mapping[str, str]) -> str:
    raw = (row.get(field) or "").strip()
    if raw not in table:
        raise RowError(field, f"unknown value {raw!r}; expected one of {', '.join(table)}")
    return table[raw]


def _hydrant(row: Mapping[str, str]) -> dict[str, Any]:
    street, main_no = text(row, "도로명"), number(row, "건물본번", required=False)
    sub_no = number(row, "건물부번", required=False)
    address = street
    if street and main_no:
        address = f"{street} {int(main_no)}" + (f"-{int(sub_no)}" if sub_no else "")
    return {
        "number": text(row, "수리번호"),
        "kind": _choice(row, "용수구분", HYDRANT_KINDS),
        "form": _choice(row, "용수형식", HYDRANT_FORMS),
        "state": _choice(row, "사용구분", HYDRANT_STATES),
        "public": text(row, "공설구분") == "공설",
        "pressure": number(row, "수압", required=False),
        "station": text(row, "관할서"),
        "centre": text(row, "안전센터"),
        "address": address,
    }


def _fire_device(row: Mapping[str, str]) -> dict[str, Any]:
    return {"use_code": text(row, "사용구분"), "updated": text(row, "업데이트날짜")}


def _songpa_device(row: Mapping[str, str]) -> dict[str, Any]:
    zone = text(row, "설치지역")
    return {
        "zone": zone,
        "no_engine_access": zone in NO_ENGINE_ACCESS_ZONES,
        "type": text(row, "설치유형구분"),
        "state": _choice(row, "사용구분", DEVICE_STATES),
        "centre": text(row, "안전센터"),
        "address": text(row, "주소"),
        "detail": text(row, "상세위치"),
    }


def _bridge(row: Mapping[str, str]) -> dict[str, Any]:
    grade = (row.get("최종안전점검결과") or "").strip().upper()
    if grade not in BRIDGE_GRADES:
        raise RowError("최종안전점검결과", f"safety grade {grade!r} is not one of A-E")
    return {
        "name": text(row, "교량명"),
        "grade": grade,
        "length_m": number(row, "교량연장", required=False),
        "width_m": number(row, "교량폭", required=False),
        "load_limit_t": number(row, "통행하중", required=False),
        "lanes": number(row, "차로수", required=False),
        "built": text(row, "교량준공년도"),
        "inspected": text(row, "최종안전점검일자"),
        "manager": text(row, "관리기관명"),
        "gu": text(row, "시군구명"),
    }


def _cctv(row: Mapping[str, str]) -> dict[str, Any]:
    cameras = number(row, "camera_count")
    return {
        "cameras": int(cameras or 0),
        "address": text(row, "road_address") or text(row, "jibun_address"),
        "manager": text(row, "manager"),
    }


def _unit(row: Mapping[str, str]) -> dict[str, Any]:
    return {
        "name": text(row, "name"),
        "type": text(row, "type"),
        "parent_id": text(row, "parent_id"),
        "parent_name": text(row, "parent_name"),
    }


def _emergency_room(row: Mapping[str, str]) -> dict[str, Any]:
    # Only key columns: the upstream description columns are garbled and never shown.
    return {
        "name": text(row, "기관명"),
        "address": text(row, "주소"),
        "er_class": text(row, "응급의료기관코드명"),
        "er_phone": text(row, "응급실전화"),
        "operating": text(row, "응급실운영여부") == "1",
    }


HYDRANTS = LayerSpec(
    name="hydrants",
    title="Songpa hydrants, tanks and water towers (소방용수)",
    filename="firemap/songpa_fire_water.csv",
    attribution="송파소방서 소방용수 (data.go.kr public data)",
    licence="KOGL Type 1 / data.go.kr open use",
    id_column="일련번호",
    point=PointColumns("좌표X", "좌표Y", "EPSG:5181", check_lon="경위도X", check_lat="경위도Y"),
    columns=(
        "수리번호",
        "용수구분",
        "용수형식",
        "사용구분",
        "공설구분",
        "관할서",
        "안전센터",
        "도로명",
    ),
    props=_hydrant,
)
FIRE_DEVICES = LayerSpec(
    name="fire_devices",
    title="Emergency fire-hose boxes (비상소화장치), all Seoul",
    filename="firemap/emergency_fire_devices.csv",
    attribution=f"서울시 비상소화장치 위치정보, {SEOUL_OPEN_DATA}",
    licence="KOGL Type 1",
    id_column="비상소화장치일련번호",
    point=PointColumns("X좌표", "Y좌표", "EPSG:5186", check_lon="lon", check_lat="lat"),
    columns=("사용구분",),
    props=_fire_device,
)
SONGPA_DEVICES = LayerSpec(
    name="songpa_devices",
    title="Songpa emergency fire devices with installation zone (소방차진입곤란 ...)",
    filename="firemap/songpa_emergency_devices.csv",
    attribution="송파소방서 비상소화장치 (data.go.kr public data)",
    licence="KOGL Type 1 / data.go.kr open use",
    id_column="일련번호",
    point=PointColumns(
        "좌표X", "좌표Y", "EPSG:5181", check_lon="경위도좌표X", check_lat="경위도좌표Y"
    ),
    columns=("설치지역", "사용구분", "주소"),
    props=_songpa_device,
)
BRIDGES = LayerSpec(
    name="bridges",
    title="Bridges with safety grade (전국교량표준데이터 2018, Seoul)",
    filename="bridges/seoul_bridges_2018.csv",
    attribution="국토교통부 전국교량표준데이터 (data.go.kr)",
    licence="data.go.kr national standard data",
    id_column=None,
    line=LineColumns("교량시작점위도", "교량시작점경도", "교량종료점위도", "교량종료점경도"),
    columns=("교량명", "최종안전점검결과"),
    props=_bridge,
)
CCTV = LayerSpec(
    name="cctv",
    title="Public CCTV sites, Gangnam-gu",
    filename="cctv/cctv_gangnam.csv",
    attribution="전국CCTV표준데이터, 강남구청 (data.go.kr)",
    licence="data.go.kr national standard data",
    id_column=None,
    point=PointColumns("longitude", "latitude"),
    columns=("camera_count",),
    props=_cctv,
)
FIRE_UNITS = LayerSpec(
    name="fire_units",
    title="Fire stations (소방서) and 119 safety centres / rescue units",
    filename="units/fire_units.csv",
    attribution=f"서울시 소방서, 안전센터, 구조대 위치정보, {SEOUL_OPEN_DATA}",
    licence="KOGL Type 1",
    id_column="unit_id",
    point=PointColumns("x_epsg5186", "y_epsg5186", "EPSG:5186", check_lon="lon", check_lat="lat"),
    columns=("name", "type", "parent_id", "parent_name"),
    props=_unit,
)
EMERGENCY_ROOMS = LayerSpec(
    name="emergency_rooms",
    title="Emergency rooms (응급실), 2024-04",
    filename="hospitals/emergency_rooms.csv",
    attribution="서울시 응급실 위치 정보, 서울특별시 (KOGL Type 1)",
    licence="KOGL Type 1",
    id_column="기관ID",
    point=PointColumns("병원경도", "병원위도"),
    columns=("기관명", "응급의료기관코드명", "응급실전화"),
    props=_emergency_room,
)

LAYERS: dict[str, LayerSpec] = {
    spec.name: spec
    for spec in (HYDRANTS, FIRE_DEVICES, SONGPA_DEVICES, BRIDGES, CCTV, FIRE_UNITS, EMERGENCY_ROOMS)
}
