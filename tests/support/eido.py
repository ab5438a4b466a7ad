"""Where tests find NENA's EIDO schema and sample: the shared folder beside the checkout.

The schema is not part of the project (its repository carries no licence); tests and CI read it
from ``../shared/standards/eido`` relative to the repository root.
"""

from __future__ import annotations

from goldentime.settings import PROJECT_ROOT

EIDO_DIR = PROJECT_ROOT.parent / "shared" / "standards" / "eido"
SCHEMA_DIR = EIDO_DIR / "Schema"
SAMPLE = EIDO_DIR / "Samples" / "sample_call_transfer.json"
