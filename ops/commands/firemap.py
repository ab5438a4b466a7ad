"""``goldentime firemap``: firemap's commands, composed with the configured road network.

firemap does not import routing, so its commands get the safety map from here: every layer,
with per-vehicle access assessed on the configured network (``dispatch.map_roads``).
"""

from __future__ import annotations

from firemap.cli import firemap_group
from firemap.safety_map import SafetyMap


def _configured_map() -> SafetyMap:
    from dispatch.map_roads import safety_map
    from goldentime.settings import load_settings

    return safety_map(load_settings())


firemap = firemap_group(safety_map=_configured_map)
