"""The machine-readable EIDO commands against a running system: `eido import FILE --url URL
--json` -> incident_id, created (a re-sent EIDO changes nothing); `eido export INCIDENT_ID`
prints one EIDO, from the console (--url) or from the database, keeping the sender's ids."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

import pytest

from ops.up import LocalSystem
from tests.support.eido import SAMPLE

pytestmark = pytest.mark.integration


def goldentime(system: LocalSystem, *args: str) -> Any:
    env = {**os.environ, "DATABASE_URL": system.settings.effective_database_url}
    done = subprocess.run(
        [sys.executable, "-m", "goldentime", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_import_then_export_keeps_the_senders_ids(system: LocalSystem) -> None:
    sample = json.loads(SAMPLE.read_text(encoding="utf-8"))
    first = goldentime(system, "eido", "import", str(SAMPLE), "--url", system.url, "--json")
    assert set(first) == {"incident_id", "created"} and first["created"] is True
    again = goldentime(system, "eido", "import", str(SAMPLE), "--url", system.url, "--json")
    assert again == {"incident_id": first["incident_id"], "created": False}
    for via in (["--url", system.url], []):
        exported = goldentime(system, "eido", "export", first["incident_id"], *via)
        assert exported["$id"] == sample["$id"]
        calls = {c["$id"] for c in exported["callComponent"]}
        assert calls == {c["$id"] for c in sample["callComponent"]}
        agencies = {a["$id"] for a in exported["agencyComponent"]}
        assert {a["$id"] for a in sample["agencyComponent"]} <= agencies
        locations = {loc["$id"] for loc in exported["locationComponent"]}
        assert {loc["$id"] for loc in sample["locationComponent"]} <= locations
