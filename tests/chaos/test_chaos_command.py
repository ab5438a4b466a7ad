"""`goldentime chaos` on a fresh local system: 1,500 mixed events, a worker killed every 3 s.

Calls with planted duplicates, video fire episodes that join the callers' incident or open
their own, quiet sensor readings and malformed records on every input topic. The checker must
find no call or video signal lost, no event split over two incidents, no two events merged,
and exactly one dead letter per malformed record.
"""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from ops.commands.chaos import chaos

pytestmark = pytest.mark.chaos


def test_chaos_command_reports_a_consistent_record() -> None:
    result = CliRunner().invoke(
        chaos,
        ["--events", "1500", "--kill-every", "3", "--workers", "2", "--rate", "150",
         "--timeout", "60", "--json"],
    )  # fmt: skip
    assert result.exit_code in (0, 1), result.output
    out = json.loads(result.output)
    print(json.dumps({k: out[k] for k in ("events", "kills", "lost", "duplicated",
                                          "dead_letters", "durations_s")}))  # fmt: skip
    assert out["events"] == 1500
    assert out["kills"] >= 2, out["kill_log"]
    assert out["inputs"]["video_signals"] > 0 and out["inputs"]["video_only_events"] > 0
    assert out["check"]["stored_signals"] == out["check"]["expected_signals"]
    assert out["lost"] == 0, out["check"]["lost_examples"]
    assert out["duplicated"] == 0, out["check"]["duplicated_examples"]
    assert out["merged"] == 0
    assert out["dead_letters"] == out["malformed"] > 0
    assert {topic.split(":")[0] for topic in out["check"]["dead_letter_reasons"]} == {
        "calls",
        "video.events",
        "sensor.readings",
    }
    assert out["consistent"] is True and result.exit_code == 0
