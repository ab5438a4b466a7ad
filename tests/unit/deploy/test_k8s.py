"""deploy/k8s: standard kinds pass the Kubernetes schemas, Strimzi resources pass our schema of
the fields we use, Kafka is durable (RF 3, min ISR 2), every Deployment has probes and limits,
and every goldentime variable is a real setting."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import pytest
import yaml

from goldentime.topics import ALL_TOPICS

REPO = Path(__file__).resolve().parents[3]
K8S = REPO / "deploy" / "k8s"
STRIMZI_SCHEMA = json.loads((Path(__file__).parent / "strimzi.schema.json").read_text())
STRIMZI_KINDS = {"Kafka", "KafkaNodePool", "KafkaTopic"}
NOT_KUBERNETES = {"Kustomization"}

Docs = list[tuple[Path, dict[str, Any]]]


def of_kind(docs: Docs, kind: str) -> list[dict[str, Any]]:
    return [doc for _path, doc in docs if doc["kind"] == kind]


def settings_config(docs: Docs) -> dict[str, str]:
    (config_map,) = [
        d for d in of_kind(docs, "ConfigMap") if d["metadata"]["name"] == "goldentime-settings"
    ]
    return dict(config_map["data"])


def goldentime_containers(docs: Docs) -> list[tuple[str, dict[str, Any]]]:
    found = []
    for kind in ("Deployment", "Job", "StatefulSet"):
        for doc in of_kind(docs, kind):
            for container in doc["spec"]["template"]["spec"]["containers"]:
                if container["image"].startswith("goldentime"):
                    found.append((f"{kind}/{doc['metadata']['name']}", container))
    return found


def test_standard_kinds_pass_the_kubernetes_schemas(k8s_docs: Docs) -> None:
    version = kubernetes_validate.latest_version()
    checked = 0
    for path, doc in k8s_docs:
        if doc["kind"] in STRIMZI_KINDS | NOT_KUBERNETES:
            continue
        try:
            kubernetes_validate.validate(doc, version, strict=True)
        except kubernetes_validate.ValidationError as err:
            pytest.fail(f"{path.name}: {doc['kind']}/{doc['metadata']['name']}: {err}")
        checked += 1
    assert checked >= 15


def test_kubernetes_schema_rejects_a_misplaced_field(k8s_docs: Docs) -> None:
    (deployment,) = [
        d for d in of_kind(k8s_docs, "Deployment") if "dispatch" in d["metadata"]["name"]
    ]
    broken = copy.deepcopy(deployment)
    broken["spec"]["template"]["spec"]["containers"][0]["readinessProbe"]["httpGet"]["paht"] = "/x"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, kubernetes_validate.latest_version(), strict=True)


def test_strimzi_resources_pass_their_schema_and_a_typo_fails(k8s_docs: Docs) -> None:
    strimzi = [doc for _p, doc in k8s_docs if doc["kind"] in STRIMZI_KINDS]
    assert {d["kind"] for d in strimzi} == STRIMZI_KINDS
    for doc in strimzi:
        jsonschema.validate(doc, STRIMZI_SCHEMA)
    (kafka,) = of_kind(k8s_docs, "Kafka")
    typo = copy.deepcopy(kafka)
    typo["spec"]["kafka"]["listners"] = typo["spec"]["kafka"].pop("listeners")
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(typo, STRIMZI_SCHEMA)


def test_kafka_is_kraft_three_nodes_with_durable_settings(k8s_docs: Docs) -> None:
    (kafka,) = of_kind(k8s_docs, "Kafka")
    annotations = kafka["metadata"]["annotations"]
    assert annotations["strimzi.io/kraft"] == "enabled"
    assert annotations["strimzi.io/node-pools"] == "enabled"
    config = kafka["spec"]["kafka"]["config"]
    assert config["default.replication.factor"] == 3
    assert config["min.insync.replicas"] == 2
    assert config["unclean.leader.election.enable"] is False
    assert config["auto.create.topics.enable"] is False
    assert config["offsets.topic.replication.factor"] == 3
    pools = of_kind(k8s_docs, "KafkaNodePool")
    cluster = kafka["metadata"]["name"]
    assert all(p["metadata"]["labels"]["strimzi.io/cluster"] == cluster for p in pools)
    controllers = sum(p["spec"]["replicas"] for p in pools if "controller" in p["spec"]["roles"])
    brokers = sum(p["spec"]["replicas"] for p in pools if "broker" in p["spec"]["roles"])
    assert controllers == 3 and brokers >= 3


def test_one_kafka_topic_per_declared_topic_matching_the_settings(k8s_docs: Docs) -> None:
    settings = settings_config(k8s_docs)
    topics = {t["spec"]["topicName"]: t for t in of_kind(k8s_docs, "KafkaTopic")}
    assert set(topics) == {spec.name for spec in ALL_TOPICS}
    assert settings["GOLDENTIME_TOPIC_REPLICATION_FACTOR"] == "3"
    for spec in ALL_TOPICS:
        topic = topics[spec.name]["spec"]
        assert topic["replicas"] == 3, spec.name
        assert topic["partitions"] == int(settings["GOLDENTIME_TOPIC_PARTITIONS"]), spec.name
        assert topic["config"]["min.insync.replicas"] == 2, spec.name
        expected_policy = "compact" if spec.compacted else "delete"
        assert topic["config"]["cleanup.policy"] == expected_policy, spec.name


def test_every_deployment_has_readiness_probes_and_limits(k8s_docs: Docs) -> None:
    deployments = of_kind(k8s_docs, "Deployment") + of_kind(k8s_docs, "StatefulSet")
    assert len(deployments) >= 5
    for doc in deployments:
        for container in doc["spec"]["template"]["spec"]["containers"]:
            where = f"{doc['metadata']['name']}/{container['name']}"
            assert "readinessProbe" in container, f"{where} has no readiness probe"
            limits = container.get("resources", {}).get("limits", {})
            assert limits.get("cpu") and limits.get("memory"), f"{where} has no limits"


def probe_path(docs: Docs, name: str) -> tuple[str, dict[str, Any]]:
    (doc,) = [d for d in of_kind(docs, "Deployment") if d["metadata"]["name"] == name]
    (container,) = doc["spec"]["template"]["spec"]["containers"]
    probe = container["readinessProbe"]["httpGet"]
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    return f"{probe['path']}:{ports[probe['port']]}", container


def test_workers_are_ready_on_their_metrics_health_and_the_console_on_api_health(
    k8s_docs: Docs,
) -> None:
    probe, worker = probe_path(k8s_docs, "goldentime-dispatch")
    env = {e["name"]: e.get("value") for e in worker["env"]}
    assert probe == f"/healthz:{env['GOLDENTIME_METRICS_PORT']}"
    assert worker["command"] == ["goldentime", "worker", "dispatch"]
    probe, console = probe_path(k8s_docs, "goldentime-console")
    env = {e["name"]: e.get("value") for e in console["env"]}
    assert probe == f"/api/health:{env['GOLDENTIME_CONSOLE_PORT']}"
    assert probe_path(k8s_docs, "goldentime-video")[0] == "/healthz:8554"


def test_goldentime_containers_read_only_real_settings(
    k8s_docs: Docs, settings_env_vars: set[str]
) -> None:
    settings = settings_config(k8s_docs)
    assert set(settings) <= settings_env_vars, sorted(set(settings) - settings_env_vars)
    secrets = {d["metadata"]["name"]: d for d in of_kind(k8s_docs, "Secret")}
    containers = goldentime_containers(k8s_docs)
    assert len(containers) >= 6
    for where, container in containers:
        names = {e["name"] for e in container.get("env", [])}
        for source in container.get("envFrom", []):
            if "configMapRef" in source:
                assert source["configMapRef"]["name"] == "goldentime-settings", where
                names |= set(settings)
            else:
                secret = secrets[source["secretRef"]["name"]]
                names |= set(secret["stringData"])
        unknown = names - settings_env_vars
        assert not unknown, f"{where}: {sorted(unknown)} are not settings env vars"
        assert "KAFKA_BOOTSTRAP_SERVERS" in names, where
    assert secrets["goldentime-db"]["stringData"]["DATABASE_URL"].startswith(
        "postgresql+psycopg://"
    )


def test_kustomization_applies_every_manifest_but_the_secret_example() -> None:
    kustomization = yaml.safe_load((K8S / "kustomization.yaml").read_text(encoding="utf-8"))
    listed = set(kustomization["resources"])
    on_disk = {p.name for p in K8S.glob("*.yaml")} - {"kustomization.yaml"}
    assert listed == on_disk - {"secret.example.yaml"}


def test_yamllint_passes_on_every_deploy_file() -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "yamllint",
            "-c",
            str(REPO / "deploy" / ".yamllint.yaml"),
            "--strict",
            str(REPO / "deploy"),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
