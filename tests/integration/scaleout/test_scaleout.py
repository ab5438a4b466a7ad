"""Scale-out on the embedded broker: 1, 2 and 3 dispatch workers on the same topics.

Each worker must hold some of the ``calls`` partitions (from the heartbeat table), every call
is stored once whatever the worker count, and the throughput per worker count is printed
(not asserted: on 2 shared cores it is sub-linear and noisy; `goldentime bench scaleout`).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench.scaleout import measure, summary

pytestmark = pytest.mark.integration

CALLS = 450


def test_partitions_spread_and_throughput_per_worker_count(tmp_path: Path) -> None:
    runs = []
    for workers in (1, 2, 3):
        run = measure(workers, calls=CALLS, data_dir=tmp_path / f"w{workers}")
        assert len(run.partitions) == workers, run.partitions
        assert all(held > 0 for held in run.partitions.values())
        assert sum(run.partitions.values()) == 4  # GOLDENTIME_TOPIC_PARTITIONS default
        assert run.calls == CALLS
        runs.append(run)
    print(json.dumps(summary(runs)))
