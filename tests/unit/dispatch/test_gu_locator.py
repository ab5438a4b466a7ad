"""The gu of a point: the per-cell cache answers exactly what the polygons answer."""

from __future__ import annotations

import random

from dispatch.context import gu_locator
from goldentime.boundaries import GU, BoundaryLayer
from goldentime.settings import load_settings


def test_cached_cells_answer_like_the_polygons_everywhere() -> None:
    data_dir = load_settings().data.seoul_dir
    locate = gu_locator(data_dir)
    layer = BoundaryLayer(GU, data_dir / GU.filename)
    rng = random.Random(119)
    points = [(rng.uniform(37.42, 37.70), rng.uniform(126.76, 127.18)) for _ in range(4000)]
    # and points a few metres either side of gu borders, where cells are not cached
    for geom in layer.geoms[:25]:
        for x, y in list(geom.exterior.coords)[::40]:
            points += [(y + 0.00003, x), (y - 0.00003, x), (y, x + 0.00004), (y, x - 0.00004)]
    twice = points + points  # the second pass answers from the cache
    expected = [None if (a := layer.locate(lat, lon)) is None else a.name for lat, lon in twice]
    assert [locate(lat, lon) for lat, lon in twice] == expected
    warmed = gu_locator(data_dir, warm=(37.50, 126.90, 37.62, 127.05))  # filled at once
    assert [warmed(lat, lon) for lat, lon in points] == expected[: len(points)]
    assert {"종로구", "중구", "강남구"} <= set(expected)
