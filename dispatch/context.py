"""What the dispatch agents need from outside, built once per worker process."""

from __future__ import annotations

import logging
import math
import os
import socket
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
from dispatch.units import seed_units
from goldentime.broker.clients import batch_publisher
from goldentime.broker.publisher import BatchPublisher
from goldentime.clock import Clock, SystemClock
from goldentime.db import create_schema, engine_for, session_factory, writer
from goldentime.settings import Settings
from routing import RoadNetwork, load_network
from routing.approach import DEFAULT_APPROACH_M
from routing.units import load_fire_units

log = logging.getLogger(__name__)

APPROACH_M = DEFAULT_APPROACH_M  # stations this far off the graph's roads still answer


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
    publisher: BatchPublisher  # every record the agents publish


FINE_CELLS = 8  # a border cell is split into 8 x 8 parts (~70 m), cached the same way


def gu_locator(
    seoul_data_dir: Path, *, warm: tuple[float, float, float, float] | None = None
) -> GuLocator:
    """Point -> gu name, from the shipped boundaries (firemap).

    A correlation cell (~550 m) that lies wholly inside one gu answers from a cache: the
    answer is exact and costs a dict lookup instead of a polygon query. A cell on a border is
    split into ~70 m parts cached the same way; only parts on a border are asked point by point.
    ``warm`` (south, west, north, east) fills the cache for that area at once (at start-up).
    """
    import shapely

    from firemap.boundaries import GU, BoundaryLayer

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

    if warm is not None:
        south, west, north, east = warm
        (r0, c0), (r1, c1) = cell_index(south, west), cell_index(north, east)
        border = [
            (row, col)
            for row, col in product(range(r0, r1 + 1), range(c0, c1 + 1))
            if inside(1, row, col) is None
        ]
        for (row, col), (i, j) in product(border, product(range(FINE_CELLS), repeat=2)):
            inside(FINE_CELLS, row * FINE_CELLS + i, col * FINE_CELLS + j)
    return locate


def network_bounds(network: RoadNetwork) -> tuple[float, float, float, float]:
    """(south, west, north, east) of the road graph's nodes."""
    lats = [float(y) for _node, y in network.graph.nodes(data="y")]
    lons = [float(x) for _node, x in network.graph.nodes(data="x")]
    return min(lats), min(lons), max(lats), max(lons)


def road_network(settings: Settings) -> RoadNetwork:
    """The central-Seoul road graph with firemap's per-vehicle restrictions applied."""
    from firemap.access import apply_to

    network = load_network(settings.seoul_data_dir / "roads" / "seoul_central_drive.graphml")
    apply_to(network)
    return network


def fleet_for(network: RoadNetwork, units_csv: Path) -> list[Vehicle]:
    """The vehicles of every station the network's incidents can be answered from.

    The stations inside the graph's area and the real stations just outside it, within
    `APPROACH_M` of its roads (their units reach it by an estimated approach leg, see
    routing.approach): they are the first-due units near the graph's edge and its mutual aid.
    """
    stations = {
        u.unit_id for u in load_fire_units(units_csv, inside=network, approach_m=APPROACH_M)
    }
    return load_fleet(units_csv, station_ids=stations)


def build_context(settings: Settings, *, clock: Clock | None = None) -> DispatchContext:
    engine = engine_for(settings)
    create_schema(engine)
    clock = clock or SystemClock()
    network = road_network(settings)
    fleet = fleet_for(network, settings.seoul_data_dir / "units" / "fire_units.csv")
    stations = {v.station_id for v in fleet}
    writers = session_factory(writer(engine))
    try:
        with writers.begin() as session:
            added = seed_units(session, fleet, now=clock.now())
        log.info("fleet: %d vehicles at %d stations (%d new)", len(fleet), len(stations), added)
    except IntegrityError:
        log.info("fleet seeded concurrently by another worker")
    consumer_name = f"dispatch@{socket.gethostname()}:{os.getpid()}"
    return DispatchContext(
        sessions=session_factory(engine),
        writers=writers,
        clock=clock,
        consumer_name=consumer_name,
        executor=ThreadPoolExecutor(max_workers=1, thread_name_prefix="dispatch"),
        catalog=load_catalog(settings.run_cards_file),
        network=network,
        fleet=fleet,
        hospitals=load_hospitals(settings.seoul_data_dir / "hospitals" / "emergency_rooms.csv"),
        locate_gu=gu_locator(settings.seoul_data_dir, warm=network_bounds(network)),
        calls_consumer=batch_consumer_options(settings, client_id=consumer_name),
        publisher=batch_publisher(settings, client_id=consumer_name),
    )
