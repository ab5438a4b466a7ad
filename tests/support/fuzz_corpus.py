"""Hypothesis strategies for malformed input, and a fast way to draw a corpus from them.

Every strategy mutates a *valid* template (drop a field, give a field a value of the wrong
type or range, add an unknown field, two changes at once) or produces raw garbage (bytes,
text, JSON scalars and nesting). The callers keep only the drawn values that the real
validator refuses, so the corpus is malformed by construction, not by assumption.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, TypeVar

from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st

T = TypeVar("T")
STAMP = "2025-03-01T09:00:00+09:00"

JUNK: st.SearchStrategy[Any] = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**20), max_value=10**20),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=24),
    st.just("x" * 5000),
    st.just(STAMP[:19]),  # a datetime without its zone
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=4), st.integers(), max_size=2),
)


def _dumps(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False).encode()


def mutations(template: dict[str, Any]) -> st.SearchStrategy[bytes]:
    """JSON bodies one or two edits away from ``template``."""
    keys = sorted(template)

    def drop(key: str) -> dict[str, Any]:
        return {k: v for k, v in template.items() if k != key}

    def put(edit: tuple[str, Any]) -> dict[str, Any]:
        return template | {edit[0]: edit[1]}

    def put_two(edits: tuple[str, Any, str, Any]) -> dict[str, Any]:
        return template | {edits[0]: edits[1], edits[2]: edits[3]}

    return st.one_of(
        st.sampled_from(keys).map(drop),
        st.tuples(st.sampled_from(keys), JUNK).map(put),
        st.tuples(st.text(min_size=1, max_size=12), JUNK)
        .filter(lambda edit: edit[0] not in template)
        .map(put),
        st.tuples(st.sampled_from(keys), JUNK, st.sampled_from(keys), JUNK).map(put_two),
    ).map(_dumps)


GARBAGE: st.SearchStrategy[bytes] = st.one_of(
    st.binary(min_size=1, max_size=160),
    st.text(min_size=1, max_size=80).map(str.encode),
    st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=20)).map(_dumps),
    st.integers(min_value=1, max_value=3000).map(lambda depth: b"{" * depth),
    st.just(b'{"id": "truncated'),
)


def draw(strategy: st.SearchStrategy[T], count: int, *, seed_value: int) -> list[T]:
    """``count`` values of ``strategy`` (generation only: no shrinking, no example database)."""
    out: list[T] = []

    @seed(seed_value)
    @settings(
        max_examples=count,
        database=None,
        deadline=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(strategy)
    def collect(value: T) -> None:
        out.append(value)

    collect()
    return out


def refused(values: list[bytes], accepts: Callable[[bytes], bool]) -> list[bytes]:
    """The distinct values ``accepts`` refuses (a value it accepts is not malformed)."""
    return [v for v in dict.fromkeys(values) if not accepts(v)]
