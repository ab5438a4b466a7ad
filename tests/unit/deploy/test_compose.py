"""deploy/compose: the Compose v2 binary and the compose-spec schema accept it, and it is a
3-broker KRaft cluster with durable settings whose goldentime env vars are real settings."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest

from goldentime.metrics import configured_port
from goldentime.settings import load_settings

REPO = Path(__file__).resolve().parents[3]
DEPLOY = REPO / "deploy"
COMPOSE_FILE = DEPLOY / "compose" / "compose.yaml"
GOLDENTIME_SERVICES = {"topics", "migrate", "dispatch-worker", "console", "video-relay"}
KAFKA_SERVICES = ("kafka-1", "kafka-2", "kafka-3")


def compose(
    binary: Path, file: Path, *args: str, env: dict[str, str]
) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("POSTGRES_", "COMPOSE_"))}
    return subprocess.run(
        [str(binary), "-f", str(file), *args],
        capture_output=True,
        text=True,
        env={**clean, **env},
        cwd=file.parent,
        timeout=60,
        check=False,
    )


@pytest.fixture(scope="module")
def resolved(compose_binary: Path) -> dict[str, Any]:
    """The compose model after anchors, merges and interpolation (`config --format json`)."""
    done = compose(
        compose_binary, COMPOSE_FILE, "config", "--format", "json", env={"POSTGRES_PASSWORD": "pw"}
    )
    assert done.returncode == 0, done.stderr
    model: dict[str, Any] = json.loads(done.stdout)
    return model


def test_compose_binary_validates_the_file(compose_binary: Path) -> None:
    done = compose(compose_binary, COMPOSE_FILE, "config", "-q", env={"POSTGRES_PASSWORD": "pw"})
    assert done.returncode == 0, done.stderr


def test_compose_refuses_to_start_without_a_database_password(compose_binary: Path) -> None:
    done = compose(compose_binary, COMPOSE_FILE, "config", "-q", env={})
    assert done.returncode != 0
    assert "POSTGRES_PASSWORD" in done.stderr


def test_compose_binary_rejects_a_broken_copy(compose_binary: Path, tmp_path: Path) -> None:
    broken = tmp_path / "compose.yaml"
    text = COMPOSE_FILE.read_text(encoding="utf-8")
    broken.write_text(text.replace("service_completed_successfully", "service_finished"))
    done = compose(compose_binary, broken, "config", "-q", env={"POSTGRES_PASSWORD": "pw"})
    assert done.returncode != 0
    assert "depends_on" in done.stderr


def check_jsonschema(file: Path) -> subprocess.CompletedProcess[str]:
    tool = Path(sys.executable).parent / "check-jsonschema"
    return subprocess.run(
        [str(tool), "--builtin-schema", "vendor.compose-spec", str(file)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_compose_spec_schema_accepts_the_file_and_rejects_a_typo(tmp_path: Path) -> None:
    done = check_jsonschema(COMPOSE_FILE)
    assert done.returncode == 0, done.stdout + done.stderr
    typo = tmp_path / "compose.yaml"
    typo.write_text(COMPOSE_FILE.read_text(encoding="utf-8").replace("healthcheck:", "helthcheck:"))
    assert check_jsonschema(typo).returncode != 0


def test_three_kraft_brokers_form_one_quorum_with_durable_defaults(
    resolved: dict[str, Any],
) -> None:
    services = resolved["services"]
    node_ids = set()
    for name in KAFKA_SERVICES:
        env = services[name]["environment"]
        assert services[name]["image"].startswith("apache/kafka:")
        assert env["KAFKA_PROCESS_ROLES"] == "broker,controller"
        assert env["KAFKA_CONTROLLER_QUORUM_VOTERS"] == (
            "1@kafka-1:9093,2@kafka-2:9093,3@kafka-3:9093"
        )
        assert env["KAFKA_ADVERTISED_LISTENERS"] == f"PLAINTEXT://{name}:9092"
        assert env["KAFKA_DEFAULT_REPLICATION_FACTOR"] == "3"
        assert env["KAFKA_MIN_INSYNC_REPLICAS"] == "2"
        assert env["KAFKA_UNCLEAN_LEADER_ELECTION_ENABLE"] == "false"
        assert env["KAFKA_AUTO_CREATE_TOPICS_ENABLE"] == "false"
        assert env["KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR"] == "3"
        assert "healthcheck" in services[name]
        node_ids.add(env["KAFKA_NODE_ID"])
    assert node_ids == {"1", "2", "3"}
    assert len({services[n]["environment"]["CLUSTER_ID"] for n in KAFKA_SERVICES}) == 1


def test_goldentime_services_use_only_real_settings(
    resolved: dict[str, Any], settings_env_vars: set[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    known = settings_env_vars
    services = resolved["services"]
    goldentime = {n for n, s in services.items() if s.get("image", "").startswith("goldentime")}
    assert goldentime >= GOLDENTIME_SERVICES
    for name in sorted(goldentime):
        env: dict[str, str] = services[name]["environment"]
        unknown = set(env) - known
        assert not unknown, f"{name}: {sorted(unknown)} are not settings env vars"
        assert env["GOLDENTIME_TOPIC_REPLICATION_FACTOR"] == "3"
        assert env["DATABASE_URL"].startswith("postgresql+psycopg://")
        assert env["GOLDENTIME_AUTH"] == "required"
        with monkeypatch.context() as patched:
            for key in known:
                patched.delenv(key, raising=False)
            for key, value in env.items():
                patched.setenv(key, value)
            settings = load_settings()  # raises ConfigError on a bad value
            assert settings.broker.replication_factor == 3, name
            assert settings.broker.bootstrap_servers == "kafka-1:9092,kafka-2:9092,kafka-3:9092"
            configured_port(settings)  # a bad metrics port raises


def test_workers_scale_and_every_long_running_service_is_checked(resolved: dict[str, Any]) -> None:
    services = resolved["services"]
    worker = services["dispatch-worker"]
    assert worker["command"] == ["goldentime", "worker", "dispatch"]
    assert worker["deploy"]["replicas"] >= 1
    assert "ports" not in worker, "published ports would stop `--scale dispatch-worker=N`"
    port = worker["environment"]["GOLDENTIME_METRICS_PORT"]
    assert f"127.0.0.1:{port}/healthz" in " ".join(worker["healthcheck"]["test"])
    assert "/api/health" in " ".join(services["console"]["healthcheck"]["test"])
    assert "/healthz" in " ".join(services["video-relay"]["healthcheck"]["test"])
    for name, service in services.items():
        if name in {"topics", "migrate"}:
            assert service["restart"] == "no"
            continue
        limits = service["deploy"]["resources"]["limits"]
        assert limits.get("cpus") and limits.get("memory"), f"{name} has no resource limits"
    for name in ("dispatch-worker", "console", "video-relay", "sensor-worker"):
        after = services[name]["depends_on"]
        assert after["topics"]["condition"] == "service_completed_successfully", name
        assert after["migrate"]["condition"] == "service_completed_successfully", name


def test_postgres_is_15_and_the_setup_jobs_run_the_real_commands(resolved: dict[str, Any]) -> None:
    services = resolved["services"]
    assert services["postgres"]["image"] == "postgres:15"
    assert services["topics"]["command"][:3] == ["goldentime", "topics", "create"]
    assert services["migrate"]["command"] == ["goldentime", "db", "upgrade"]


def test_dockerfile_installs_every_packaged_module() -> None:
    dockerfile = (DEPLOY / "Dockerfile").read_text(encoding="utf-8")
    assert dockerfile.splitlines()[2] == "FROM python:3.11-slim"
    assert 'pip install ".[postgres]"' in dockerfile
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    patterns = project["tool"]["setuptools"]["packages"]["find"]["include"]
    for package in (p.rstrip("*") for p in patterns):
        assert f"COPY {package} ./{package}\n" in dockerfile, f"Dockerfile misses {package}"
    assert "COPY data/seoul ./data/seoul" in dockerfile


def test_env_example_documents_every_variable_the_compose_file_reads() -> None:
    example = (DEPLOY / "compose" / "env.example").read_text(encoding="utf-8")
    documented = {line.split("=", 1)[0] for line in example.splitlines() if "=" in line}
    read = set(re.findall(r"\$\{([A-Z_][A-Z0-9_]*)", COMPOSE_FILE.read_text(encoding="utf-8")))
    assert "POSTGRES_PASSWORD" in read
    assert read <= documented, f"not in env.example: {sorted(read - documented)}"
