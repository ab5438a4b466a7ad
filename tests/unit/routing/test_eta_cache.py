"""The cached unit anchors behind `RoadNetwork.etas` must follow closures and restrictions."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from routing import RoadNetwork, UnitPosition, load_network

from .conftest import GWANGHWAMUN


def _answers(net: RoadNetwork, units: list[UnitPosition]) -> list[tuple[Any, ...]]:
    return [(e.unit_id, e.rank, e.eta_s, e.note) for e in net.etas(GWANGHWAMUN, units)]


def _segment_edges(net: RoadNetwork, unit: UnitPosition) -> list[tuple[int, int, int]]:
    segment = net.snap((unit.lat, unit.lon), vehicle=unit.vehicle).segment
    return [net.compiled.edges[a] for a in net.index.arcs_of_segment(segment)]


def test_closing_a_units_road_moves_its_cached_anchor(
    fresh_central: RoadNetwork, central_units: list[UnitPosition]
) -> None:
    net, unit = fresh_central, central_units[0]
    before = _answers(net, central_units)  # caches every unit's anchor
    segment = net.snap((unit.lat, unit.lon)).segment
    cid = net.close_edges(_segment_edges(net, unit), reason="collapse")
    during = _answers(net, central_units)
    # no cache: snaps every unit anew under the same closure
    uncached = load_network(network="central")
    uncached.close_edges(_segment_edges(uncached, unit), reason="collapse")
    assert net.snap((unit.lat, unit.lon)).segment != segment
    assert during == _answers(uncached, central_units)
    assert during != before
    net.reopen(cid)
    assert _answers(net, central_units) == before


def test_restricting_a_units_road_moves_its_cached_anchor(
    fresh_central: RoadNetwork, central_units: list[UnitPosition]
) -> None:
    net, unit = fresh_central, central_units[0]
    before = _answers(net, central_units)
    edges = _segment_edges(net, unit)
    net.set_vehicle_restrictions(unit.vehicle, edges, reason="too narrow")
    during = _answers(net, central_units)
    uncached = load_network(network="central")
    uncached.set_vehicle_restrictions(unit.vehicle, edges, reason="too narrow")
    assert during == _answers(uncached, central_units)
    assert during != before
    net.set_vehicle_restrictions(unit.vehicle, [], reason="lifted")
    assert _answers(net, central_units) == before


def test_same_positions_under_other_ids_or_classes_are_not_confused(
    central: RoadNetwork, central_units: list[UnitPosition]
) -> None:
    first = _answers(central, central_units)
    renamed = [replace(u, unit_id=f"x-{u.unit_id}") for u in central_units]
    assert [a[0] for a in _answers(central, renamed)] == [f"x-{a[0]}" for a in first]
    ladders = [replace(u, vehicle="ladder") for u in central_units]
    slower = {e.unit_id: e.eta_s for e in central.etas(GWANGHWAMUN, ladders)}
    for unit_id, _rank, eta, _note in first:
        if eta is not None and slower[unit_id] is not None:
            assert slower[unit_id] > eta  # ladders are slower: a fresh search, not engine's
