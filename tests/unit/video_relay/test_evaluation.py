from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from video_relay.cli import video
from video_relay.errors import TruthError
from video_relay.evaluation import load_truth


def test_truth_of_house6_is_read(video_dir: Path) -> None:
    truth, size = load_truth(video_dir / "house6.xml")
    assert size == (426, 240) and len(truth) == 900
    assert truth[0] == [(176, 84, 24, 33), (154, 152, 17, 44)]


def test_bad_truth_file_is_a_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.xml"
    bad.write_text('<?xml version="1.0"?>\n<opencv_storage><x>1</x></opencv_storage>\n')
    with pytest.raises(TruthError, match="frames"):
        load_truth(bad)
    with pytest.raises(TruthError, match="no such"):
        load_truth(tmp_path / "missing.xml")


def test_eval_cli_meets_the_fire_targets_on_house6(video_dir: Path) -> None:
    result = CliRunner().invoke(
        video,
        ["eval", str(video_dir / "house6.mp4"), "--truth", str(video_dir / "house6.xml"), "--json"],
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert {"frame_recall", "frame_precision", "first_detection_s", "mean_iou"} <= set(report)
    assert report["frame_recall"] >= 0.9
    assert report["first_detection_s"] is not None and report["first_detection_s"] <= 2.0
    assert report["mean_iou"] > 0.1
