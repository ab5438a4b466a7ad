"""What the dispatch agents need from outside, built once per worker process."""

from __future__ import annotations

import logging
import math
import os
import socket
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from itertools import product
from pathlib import Path

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from dispatch.batch_consumer import BatchConsumerOptions, batch_consumer_options
from dispatch.catalog import Catalog, load_catalog
from dispatch.cells import CELL_LAT_DEG, CELL_LON_DEG, cell_index
from dispatch.fleet import Vehicle, load_fleet
from dispatch.hospitals import Hospital, load_hospitals
from dispatch.intake import GuLocator
from dispatch.runcard_fill import AvailableUnit, warm_up
from dispatch.unit_store import seed_units
from goldentime.broker.clients import kafka_publisher
from goldentime.broker.publisher import Publisher
from goldentime.clock import Clock, SystemClock
from goldentime.db import create_schema, engine_for, session_factory, writer
from goldentime.settings import Settings
from routing import RoadNetwork, load_network
from routing.fire_units import load_fire_units

log = logging.getLogger(__name__)


@dataclass
class DispatchContext:
    """The database, clock, road network, rules and fleet a dispatch worker works with."""

    sessions: sessionmaker[Session]  # readers
    writers: sessionmaker[Session]  # read-decide-write transactions
    clock: Clock
    consumer_name: str
    executor: ThreadPoolExecutor  # the store and routing run here, off the event loop
    catalog: Catalog
    network: RoadNetwork
    fleet: list[Vehicle]
    hospitals: list[Hospital]
    locate_gu: GuLocator
    calls_consumer: BatchConsumerOptions  # the batch intake of the calls topic
    publisher: Publisher  # every record the agents publish


FINE_CELLS = 8  # a border cell is split into 8 x 8 parts (~70 m), cached the same way


def gu_locator(
    seoul_data_dir: Path, *, warm: tuple[float, float, float, float] | None = None
) -> GuLocator:
    """Point -> gu name, from the shipped boundaries (firemap).

    A correlation cell (~550 m) that lies wholly inside one gu answers from a cache: the
    answer is exact and costs a dict lookup instead of a polygon query. A cell on a border is
    split into ~70 m parts cached the same way; only parts on a border are asked point by point.
    ``warm`` (south, west, north, east) fills the cell cache for that area at once (at start-up,
    one vectorised query: ~0.1 s for the whole city); the ~70 m parts of border cells are
    cached as they are first asked (one polygon query each), which keeps the start-up short.
    """
    import numpy as np
    import shapely

    from goldentime.boundaries import GU, BoundaryLayer

    layer = BoundaryLayer(GU, seoul_data_dir / GU.filename)
    # (level, row, col) -> the gu holding the whole box, or None when it crosses a border
    whole: dict[tuple[int, int, int], str | None] = {}

    def inside(level: int, row: int, col: int) -> str | None:
        key = (level, row, col)
        if key not in whole:
            dlat, dlon = CELL_LAT_DEG / level, CELL_LON_DEG / level
            box = shapely.box(col * dlon, row * dlat, (col + 1) * dlon, (row + 1) * dlat)
            hits = layer.tree.query(box, predicate="within")
            whole[key] = layer.areas[int(hits[0])].name if len(hits) == 1 else None
        return whole[key]

    def locate(lat: float, lon: float) -> str | None:
        row, col = cell_index(lat, lon)
        found = inside(1, row, col)
        if found is None:
            fine_row = math.floor(lat * FINE_CELLS / CELL_LAT_DEG)
            fine_col = math.floor(lon * FINE_CELLS / CELL_LON_DEG)
            found = inside(FINE_CELLS, fine_row, fine_col)
        if found is not None:
            return found
        area = layer.locate(lat, lon)
        return None if area is None else area.name

    if warm is not None:  # what `inside(1, ...)` answers, for every cell at once
        south, west, north, east = warm
        (r0, c0), (r1, c1) = cell_index(south, west), cell_index(north, east)
        cells = list(product(range(r0, r1 + 1), range(c0, c1 + 1)))
        rows = np.array([r for r, _ in cells], dtype=np.float64)
        cols = np.array([c for _, c in cells], dtype=np.float64)
        boxes = shapely.box(
            cols * CELL_LON_DEG, rows * CELL_LAT_DEG, (cols + 1) * CELL_LON_DEG,
            (rows + 1) * CELL_LAT_DEG,
        )  # fmt: skip
        box_idx, area_idx = layer.tree.query(boxes, predicate="within")
        hits = np.bincount(box_idx, minlength=len(cells))
        holder = dict(zip(box_idx.tolist(), area_idx.tolist(), strict=True))
        for n, (row, col) in enumerate(cells):
            whole[(1, row, col)] = layer.areas[holder[n]].name if hits[n] == 1 else None
    return locate


def network_bounds(network: RoadNetwork) -> tuple[float, float, float, float]:
    """(south, west, north, east) of the road graph's nodes."""
    lats = [float(y) for _node, y in network.graph.nodes(data="y")]
    lons = [float(x) for _node, x in network.graph.nodes(data="x")]
    return min(lats), min(lons), max(lats), max(lons)


def road_network(settings: Settings) -> RoadNetwork:
    """The configured road network (settings ``routing.network`` / ``routing.graph_path``;
    Seoul-wide by default) with firemap's per-vehicle access restrictions applied."""
    from firemap.access import apply_to

    network = load_network(settings=settings)
    apply_to(network)
    return network


def fleet_for(network: RoadNetwork, units_csv: Path) -> list[Vehicle]:
    """The vehicles of every station the network's incidents can be answered from.

    The stations on the network and those off it within the network's approach radius
    (``network.approach_rules.approach_m``): they reach it by an estimated approach leg
    (routing.approach_legs). On the Seoul network that is every station and safety centre of the
    city, 강동구's included (its roads are not in the network); on the central graph it is the
    stations of its area and the first-due and mutual-aid stations just outside it.
    """
    stations = {
        u.unit_id
        for u in load_fire_units(
            units_csv, inside=network, approach_m=network.approach_rules.approach_m
        )
    }
    return load_fleet(units_csv, station_ids=stations)


def build_context(settings: Settings, *, clock: Clock | None = None) -> DispatchContext:
    engine = engine_for(settings)
    create_schema(engine)
    clock = clock or SystemClock()
    network = road_network(settings)
    fleet = fleet_for(network, settings.data.seoul_dir / "units" / "fire_units.csv")
    stations = {v.station_id for v in fleet}
    writers = session_factory(writer(engine))
    try:
        with writers.begin() as session:
            added = seed_units(session, fleet, now=clock.now())
        log.info("fleet: %d vehicles at %d stations (%d new)", len(fleet), len(stations), added)
    except IntegrityError:
        log.info("fleet seeded concurrently by another worker")
    catalog = load_catalog(settings.dispatch.run_cards_file)
    hospitals = load_hospitals(settings.data.seoul_dir / "hospitals" / "emergency_rooms.csv")
    started = time.perf_counter()
    warm_up(
        (AvailableUnit(v.unit_id, v.name, v.kind, v.station_name, v.lat, v.lon) for v in fleet),
        network=network,
        catalog=catalog,
        hospitals=hospitals,
        now=clock.now(),
    )
    log.info("recommender warmed up in %.0f ms", (time.perf_counter() - started) * 1000)
    consumer_name = f"dispatch@{socket.gethostname()}:{os.getpid()}"
    return DispatchContext(
        sessions=session_factory(engine),
        writers=writers,
        clock=clock,
        consumer_name=consumer_name,
        executor=ThreadPoolExecutor(max_workers=1, thread_name_prefix="dispatch"),
        catalog=catalog,
        network=network,
        fleet=fleet,
        hospitals=hospitals,
        locate_gu=gu_locator(settings.data.seoul_dir, warm=network_bounds(network)),
        calls_consumer=batch_consumer_options(settings, client_id=consumer_name),
        publisher=kafka_publisher(settings, client_id=consumer_name),
    )
