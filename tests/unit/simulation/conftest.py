"""Shared fixtures: the configured (Seoul-wide) world: network, fleet, statistics, loaded once."""

from __future__ import annotations

import pytest

from goldentime.settings import load_settings
from simulation.world import World, load_world


@pytest.fixture(scope="session")
def world() -> World:
    return load_world(load_settings())
