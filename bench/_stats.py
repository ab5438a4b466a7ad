"""Small timing helpers shared by the benchmarks: run, time, summarise (median, p95)."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Iterable
from typing import Any


def time_calls(
    calls: Iterable[Callable[[], Any]], *, after: Callable[[], Any] | None = None
) -> list[float]:
    """Milliseconds taken by each call (``after`` runs untimed after each, e.g. to undo)."""
    samples = []
    for call in calls:
        start = time.perf_counter()
        call()
        samples.append((time.perf_counter() - start) * 1e3)
        if after is not None:
            after()
    return samples


def percentile(samples: list[float], q: float) -> float:
    """The ``q`` quantile (0..1) by linear interpolation."""
    if not samples:
        raise ValueError("no samples")
    ordered = sorted(samples)
    pos = (len(ordered) - 1) * q
    lo = int(pos)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


def summary(samples: list[float], *, baseline: list[float] | None = None) -> dict[str, float]:
    """``{"median", "p95"}`` in ms, plus ``baseline_median`` and ``networkx_ratio`` if given."""
    result = {
        "median": round(statistics.median(samples), 4),
        "p95": round(percentile(samples, 0.95), 4),
        "n": len(samples),
    }
    if baseline:
        base = statistics.median(baseline)
        result["baseline_median"] = round(base, 4)
        result["networkx_ratio"] = round(base / max(statistics.median(samples), 1e-9), 2)
    return result


def stdout_to_stderr() -> None:
    """In a benchmark's child process: send stdout to stderr.

    faust writes terminal control sequences on stdout at exit (even when quiet); the parent's
    stdout must carry only the figures (``--json`` is read by scripts).
    """
    import os
    import sys

    sys.stdout.flush()
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
