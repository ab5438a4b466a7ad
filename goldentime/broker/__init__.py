"""Kafka connection: the embedded Tansu broker, topic administration, client settings.

The embedded broker only changes settings, never code paths: every client is built by
:mod:`goldentime.broker.clients` from the same settings, whether it talks to Tansu or a cluster.
"""

from goldentime.broker.admin import ensure_topics, wait_until_ready
from goldentime.broker.embedded import EmbeddedBroker

__all__ = ["EmbeddedBroker", "ensure_topics", "wait_until_ready"]
