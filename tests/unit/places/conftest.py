"""The gazetteer built once from the shipped Seoul data, for every places test."""

from __future__ import annotations

import pytest

import places
from goldentime.settings import PROJECT_ROOT

SEOUL = PROJECT_ROOT / "data" / "seoul"


@pytest.fixture(scope="session")
def atlas() -> places.Atlas:
    return places.atlas(SEOUL)
