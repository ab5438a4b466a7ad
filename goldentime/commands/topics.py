"""`goldentime topics`: list the declared topics and create them on a broker.

Deployments run `goldentime topics create` once before the workers (a compose one-shot service,
a Kubernetes Job), so partitions and replication come from the same settings as everything
else. With Strimzi, KafkaTopic resources may own the topics instead; both agree on names.
"""

from __future__ import annotations

import json

import click

from goldentime.settings import load_settings
from goldentime.topics import ALL_TOPICS


@click.group()
def topics() -> None:
    """Kafka topics of Golden Time."""


@topics.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON array.")
def list_topics(as_json: bool) -> None:
    """Print every declared topic: name, compaction, description."""
    rows = [
        {"name": spec.name, "compacted": spec.compacted, "description": spec.description}
        for spec in ALL_TOPICS
    ]
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    for row in rows:
        policy = "compact" if row["compacted"] else "delete"
        click.echo(f"{row['name']:<20} {policy:<8} {row['description']}")


@topics.command("create")
@click.option(
    "--partitions",
    type=click.IntRange(1, 256),
    default=None,
    help="Partitions per topic (default: GOLDENTIME_TOPIC_PARTITIONS).",
)
@click.option(
    "--replication-factor",
    type=click.IntRange(1, 7),
    default=None,
    help="Replicas per partition (default: GOLDENTIME_TOPIC_REPLICATION_FACTOR).",
)
@click.option(
    "--wait",
    "wait_s",
    type=click.FloatRange(0, 3600),
    default=60.0,
    show_default=True,
    help="Seconds to wait for the broker to answer before giving up.",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def create(
    partitions: int | None, replication_factor: int | None, wait_s: float, as_json: bool
) -> None:
    """Create every declared topic missing on KAFKA_BOOTSTRAP_SERVERS (existing ones are kept)."""
    from goldentime.broker import ensure_topics, wait_until_ready

    settings = load_settings()
    bootstrap = settings.broker.bootstrap()
    chosen_partitions = partitions or settings.broker.partitions
    chosen_replication = replication_factor or settings.broker.replication_factor
    wait_until_ready(bootstrap, timeout_s=wait_s)
    created = ensure_topics(
        bootstrap, partitions=chosen_partitions, replication_factor=chosen_replication
    )
    existing = [spec.name for spec in ALL_TOPICS if spec.name not in created]
    if as_json:
        click.echo(
            json.dumps(
                {
                    "bootstrap": bootstrap,
                    "partitions": chosen_partitions,
                    "replication_factor": chosen_replication,
                    "created": created,
                    "existing": existing,
                }
            )
        )
        return
    click.echo(
        f"{len(created)} topic(s) created, {len(existing)} already existed on {bootstrap} "
        f"({chosen_partitions} partitions, replication factor {chosen_replication})"
    )
    for name in created:
        click.echo(f"  created {name}")
