"""The system under fuzzing: embedded broker, one dispatch worker, the sensors worker, the
console with ``GOLDENTIME_AUTH=demo`` (every role, no sign-in), SQLite in a temporary dir."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from goldentime.settings import load_settings
from ops.chaos import start_local_system


@pytest.fixture(scope="module")
def fuzz_system(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    data_dir: Path = tmp_path_factory.mktemp("fuzz")
    settings = load_settings(data={"dir": data_dir}, console={"port": 0, "auth": "demo"})
    system = start_local_system(settings, workers=1, sensors=True)
    try:
        yield system
    finally:
        system.stop()
