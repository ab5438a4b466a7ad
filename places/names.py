"""Place names: the standard network's node names made clean, and the other ways to type them.

Node names of the standard node-link are cut at 12 characters and carry ramp and portal
detail: "삼각지역_한강로_진입_2" is a ramp node at 삼각지역, "사직터널(남측)" one portal of
사직터널, "강변북로-이촌동길램프(" a ramp between two roads. :func:`clean_node_name` turns a
node name into the place it belongs to and its kind; :func:`aliases` gives the other keys a
call-taker may type for a name ("홍대입구역" -> "홍대입구", "홍대").
"""

from __future__ import annotations

import re

from places.hangul import normalize

_DIGIT_TAIL = re.compile(r"(\(\d+\)|_\d+|\d+)$")
_SIDE = re.compile(r"\((동|서|남|북|상|하)(측|단|쪽)?\)$")
_RAMP_WORDS = {"진입", "진출", "진", "진입로", "진출로", ""}
_ROAD_END = re.compile(r"(로|길|대로|가길|고가|고가차도|호선|간선도로|순환로|IC|JC)$")
_INTERSECTION = re.compile(
    r"(사거리|삼거리|오거리|육거리|교차로|로터리|분기점|램프|IC|JC|나들목|입체교차로)$"
)
_STATION_TAIL = re.compile(r"역(앞|\d+번출구|광장|광장앞|입구)?$")
_TUNNEL = re.compile(r"(터널|지하차도)$")
# 교 ends bridge names, but also school and church abbreviations (초등교, 중교, 고교, 장로교)
_BRIDGE = re.compile(r"(대교|(?<![학고초중등로])교|다리|고가차도|육교)(남단|북단|동단|서단)?$")


def _strip_truncation(name: str) -> str:
    """Drop the tail of a name cut inside a parenthesis: "강변북로-이촌동길램프(" -> "...램프"."""
    if name.count("(") > name.count(")"):
        name = name[: name.rindex("(")]
    return name.strip(" _-")


def clean_node_name(raw: str) -> tuple[str, str] | None:
    """``(name, kind)`` of the place a node belongs to, or None (no name, a gu border)."""
    name = _strip_truncation(raw.strip())
    if not name:
        return None
    if "_" in name:
        parts = [p for p in name.split("_") if p not in _RAMP_WORDS and not p.isdigit()]
        if not parts:
            return None
        if _ROAD_END.search(parts[0]) and len(parts) > 1:
            name = f"{parts[0]}-{parts[1]}"  # a ramp between two roads
        else:
            name = parts[0]  # a ramp at a place: the place
    previous = None
    while previous != name:  # "서울역고가차도(서측)_1" -> "서울역고가차도"
        previous = name
        name = _SIDE.sub("", _DIGIT_TAIL.sub("", name)).strip(" _-")
    if len(name) < 2 or name.endswith("경계"):  # a gu border is not a place anyone names
        return None
    kind = node_kind(name)
    return (station_name(name) if kind == "station" else name), kind


def node_kind(name: str) -> str:
    """station, tunnel, bridge, intersection or landmark, by the words of the name."""
    if _TUNNEL.search(name):
        return "tunnel"
    if _STATION_TAIL.search(name) and not _INTERSECTION.search(name):
        return "station"
    if "-" in name or _INTERSECTION.search(name):
        return "intersection"
    if _BRIDGE.search(name):
        return "bridge"
    return "landmark"


def station_name(name: str) -> str:
    """ "용산역앞" and "금호역3번출구" belong to the station: "용산역", "금호역"."""
    match = _STATION_TAIL.search(name)
    if match and match.group(1) and match.group(1) != "입구":
        return name[: match.start()] + "역"
    return name


def aliases(name: str, kind: str) -> list[str]:
    """Lookup keys for ``name`` (normalised), the name itself first."""
    key = normalize(name)
    keys = [key]
    if kind == "station" and key.endswith("역") and len(key) > 2:
        base = key[:-1]
        keys.append(base)  # "강남역" typed "강남"
        if base.endswith("입구") and len(base) > 3:
            keys.append(base[:-2])  # "홍대입구역" typed "홍대"
    elif kind == "gu" and len(key) > 2:
        keys.append(key[:-1])  # "강남구" typed "강남"
    elif kind in ("landmark", "intersection") and key.endswith("앞") and len(key) > 2:
        keys.append(key[:-1])  # "신목중학교앞" typed "신목중학교"
    words = name.split()
    for i in range(1, len(words)):  # "가톨릭대학교 여의도성모병원" typed "여의도성모병원"
        tail = normalize(" ".join(words[i:]))
        if len(tail) >= 3:
            keys.append(tail)
    if "대학교" in key:  # "서울대학교병원" typed "서울대병원"
        keys.append(key.replace("대학교", "대"))
    if kind == "safety_center" and "119" in key:
        keys.append(key.replace("119", ""))  # "영동119안전센터" typed "영동안전센터"
    return list(dict.fromkeys(k for k in keys if k))
