"""The Seoul gazetteer: every named place of the shipped data, searched as a call-taker types.

Search tiers, best first: the exact name, an exact alias ("홍대" for 홍대입구역), a prefix
of a name or alias, a part of one ("성모병원"), then a fuzzy match on the jamo spelling
(rapidfuzz's Indel ratio, on whole keys and on key prefixes as long as the query, so a typo
in a half-typed name still finds it). Within a tier, the kind decides (a station before a
landmark before an address), then the shorter name. Spaces and punctuation never matter.
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from rapidfuzz import fuzz, process

from goldentime.geo import local_distance_m
from places.hangul import jamo, normalize
from places.names import aliases
from places.sources import Entry

# Higher first when the match is equally good. Points a caller names come before areas and
# addresses; gu before dong so "중구" is the gu, not a dong of it.
KIND_PRIORITY: dict[str, int] = {
    "station": 13,
    "landmark": 12,
    "intersection": 11,
    "emergency_room": 10,
    "fire_station": 9,
    "safety_center": 8,
    "bridge": 7,
    "tunnel": 6,
    "gu": 5,
    "dong": 4,
    "road": 3,
    "cctv": 2,
    "hydrant": 1,
    "fire_device": 0,
}
KINDS = tuple(KIND_PRIORITY)
EXACT, ALIAS, PREFIX, PART = 4000, 3000, 2000, 1000  # tier bases; fuzzy scores stay below 1000
FUZZY_CUTOFF = 75.0
MAX_HEAD_JAMO = 30  # longer queries are whole names: no prefix-fuzzy pass (bounds the cache)
MAX_QUERY_CHARS = 100


@dataclass(frozen=True, slots=True)
class Place:
    """One gazetteer hit: what ``/api/places`` and ``goldentime place search`` return."""

    name: str
    kind: str
    lat: float
    lon: float
    gu: str | None

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": self.kind,
            "lat": round(self.lat, 6),
            "lon": round(self.lon, 6),
            "gu": self.gu,
        }


class Gazetteer:
    """Places with their lookup keys; built by :func:`places.atlas`."""

    def __init__(
        self,
        places: Iterable[Place],
        *,
        extra_keys: Mapping[tuple[str, str], Sequence[str]] | None = None,
    ) -> None:
        """``extra_keys``: more names by (name, kind), e.g. the English name of a gu."""
        self.places: list[Place] = list(places)
        extra = extra_keys or {}
        key_places: dict[str, list[tuple[int, bool]]] = defaultdict(list)
        for i, place in enumerate(self.places):
            keys = aliases(place.name, place.kind)
            keys += [normalize(k) for k in extra.get((place.name, place.kind), ())]
            for n, key in enumerate(dict.fromkeys(k for k in keys if k)):
                key_places[key].append((i, n == 0))
        self._keys = sorted(key_places)
        self._key_places = [key_places[k] for k in self._keys]
        self._jamo = [jamo(k) for k in self._keys]
        self._heads: dict[int, list[str]] = {}
        self._index = {key: k for k, key in enumerate(self._keys)}

    def __len__(self) -> int:
        return len(self.places)

    @property
    def key_count(self) -> int:
        return len(self._keys)

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = defaultdict(int)
        for place in self.places:
            out[place.kind] += 1
        return dict(sorted(out.items(), key=lambda kv: -kv[1]))

    def search(self, text: str, *, limit: int = 10) -> list[Place]:
        """Places matching ``text``, best first (an empty query finds nothing)."""
        query = normalize(text[:MAX_QUERY_CHARS])
        if not query or limit <= 0:
            return []
        scores: dict[int, float] = {}

        def offer(key_index: int, tier: float) -> None:
            key_len = len(self._keys[key_index])
            for place_index, is_name in self._key_places[key_index]:
                place = self.places[place_index]
                base = ALIAS if tier == EXACT and not is_name else tier
                # closer lengths first, then the kind (a tie-breaker, never a tier jump)
                score = base + 100.0 * len(query) / max(key_len, 1) + KIND_PRIORITY[place.kind]
                if score > scores.get(place_index, -1.0):
                    scores[place_index] = score

        start = bisect.bisect_left(self._keys, query)
        end = bisect.bisect_left(self._keys, query + "\U0010ffff")
        for k in range(start, end):
            offer(k, EXACT if self._keys[k] == query else PREFIX)
        for cut in range(len(query) - 1, 1, -1):  # "강남역 2번 출구 앞": the longest known head
            k = self._index.get(query[:cut], -1)
            if k >= 0:
                offer(k, PART)
                break
        if len(scores) < limit and len(query) >= 2:
            for k, key in enumerate(self._keys):
                if query in key and not key.startswith(query):
                    offer(k, PART)
        if len(scores) < limit:
            self._fuzzy(query, offer, limit)
        best = sorted(scores.items(), key=lambda kv: (-kv[1], self.places[kv[0]].name))
        found: dict[tuple[str, str, str | None], Place] = {}
        for i, _score in best:  # one line per name, kind and gu: the best of repeats
            place = self.places[i]
            found.setdefault((place.name, place.kind, place.gu), place)
            if len(found) == limit:
                break
        return list(found.values())

    def _fuzzy(self, query: str, offer: Callable[[int, float], None], limit: int) -> None:
        spelled = jamo(query)
        size = len(spelled)
        passes = [self._jamo]
        if size < MAX_HEAD_JAMO:  # a half-typed name: keys cut to the query's length
            if size + 1 not in self._heads:  # kept per length (a few short lengths in use)
                self._heads[size + 1] = [k[: size + 1] for k in self._jamo]
            passes.append(self._heads[size + 1])
        for choices in passes:
            for _choice, score, k in process.extract(
                spelled,
                choices,
                scorer=fuzz.ratio,
                limit=limit * 3,
                score_cutoff=FUZZY_CUTOFF,
            ):
                offer(k, score * 9.0 - 100.0)  # below PART whatever the score


def group_points(entries: Sequence[Entry], *, within_m: float) -> list[Place]:
    """One place per name and kind, merging points of the same name within ``within_m``
    (the ramps and portals of one station or tunnel); the same name far apart stays apart.
    ``gu`` is the first one an entry states (None: the caller locates it)."""
    # (name, kind) -> groups of [sum lat, sum lon, count, gu]
    clusters: dict[tuple[str, str], list[list[Any]]] = defaultdict(list)
    for entry in entries:
        groups = clusters[(entry.name, entry.kind)]
        for group in groups:
            lat, lon = group[0] / group[2], group[1] / group[2]
            if metres(lat, lon, entry.lat, entry.lon) <= within_m:
                group[0] += entry.lat
                group[1] += entry.lon
                group[2] += 1
                group[3] = group[3] or entry.gu
                break
        else:
            groups.append([entry.lat, entry.lon, 1, entry.gu])
    return [
        Place(name, kind, g[0] / g[2], g[1] / g[2], g[3])
        for (name, kind), groups in clusters.items()
        for g in groups
    ]


def metres(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    return local_distance_m(lat1, lon1, lat2, lon2)
