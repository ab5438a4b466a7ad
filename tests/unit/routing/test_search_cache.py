"""The caches behind cheap repeated queries: search trees, twin classes, arc pieces, paths."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import networkx as nx
import numpy as np
import pytest

from routing import RoadNetwork, UnitPosition, load_network
from routing.paths import _without_repeats

from .conftest import GWANGHWAMUN, SEOUL_STATION


def _answers(net: RoadNetwork, units: list[UnitPosition], **options: Any) -> list[Any]:
    return [
        (e.unit_id, e.rank, e.eta_s, e.note, e.distance_m, e.route.geometry if e.route else None)
        for e in net.etas(GWANGHWAMUN, units, **options)
    ]


def test_repeated_queries_answer_like_a_fresh_network(
    central: RoadNetwork, central_units: list[UnitPosition]
) -> None:
    first = _answers(central, central_units, top_n_routes=4, reuse=True)
    again = _answers(central, central_units, top_n_routes=4, reuse=True)  # searches kept
    fresh = _answers(load_network(network="central"), central_units, top_n_routes=4)
    assert first == again == fresh


def test_searches_are_kept_only_for_queries_that_ask_to_reuse_them(
    fresh_central: RoadNetwork, central_units: list[UnitPosition], monkeypatch: pytest.MonkeyPatch
) -> None:
    net = fresh_central
    engines = [replace(u, vehicle="engine") for u in central_units]
    rescues = [replace(u, unit_id=f"r-{u.unit_id}", vehicle="rescue") for u in central_units]
    units = engines + rescues
    limits: list[float] = []
    search = net.compiled.search

    def counted(*args: Any, **kwargs: Any) -> Any:
        limits.append(kwargs["limit"])
        return search(*args, **kwargs)

    monkeypatch.setattr(net.compiled, "search", counted)
    plain = _answers(net, units, cutoff_s=600)
    assert limits == [600.0]  # engines and rescue trucks (equal weights) share one search
    assert _answers(net, units, cutoff_s=600) == plain
    assert limits == [600.0] * 2 and not net.cache.tree_keys()  # nothing kept: searched again
    assert _answers(net, units, cutoff_s=600, reuse=True) == plain
    assert limits == [600.0] * 3 and len(net.cache.tree_keys()) == 1
    assert _answers(net, units, cutoff_s=600, reuse=True) == plain
    assert limits == [600.0] * 3  # from the cache
    _answers(net, units, cutoff_s=900, reuse=True)
    assert limits == [600.0] * 3 + [900.0] and len(net.cache.tree_keys()) == 2
    net.search_cache_bytes = 0  # the latest search is still kept
    _answers(net, units, cutoff_s=1200, reuse=True)
    assert net.cache.tree_keys() == [(*GWANGHWAMUN, "engine", True, 1200.0)]


def test_the_cutoff_is_part_of_a_cached_search(
    central: RoadNetwork, central_units: list[UnitPosition]
) -> None:
    short = central.etas(GWANGHWAMUN, central_units, cutoff_s=120)
    full = central.etas(GWANGHWAMUN, central_units, cutoff_s=1800)
    assert any(e.eta_s is None for e in short)
    assert all(e.eta_s is not None for e in full)
    reached = {e.unit_id: e.eta_s for e in short if e.eta_s is not None}
    assert reached == {e.unit_id: e.eta_s for e in full if e.unit_id in reached}


def test_classes_with_equal_weights_share_searches_until_a_restriction_splits_them(
    fresh_central: RoadNetwork, central_units: list[UnitPosition]
) -> None:
    net = fresh_central
    engines = [replace(u, vehicle="engine") for u in central_units]
    rescues = [replace(u, unit_id=f"r-{u.unit_id}", vehicle="rescue") for u in central_units]
    together = net.etas(GWANGHWAMUN, engines + rescues, cutoff_s=1800)
    eta = {e.unit_id: e.eta_s for e in together}
    assert net.cache.twin("rescue") == "engine"
    assert all(eta[f"r-{u.unit_id}"] == eta[u.unit_id] for u in central_units)
    # Rescue trucks may no longer use the incident's own road: their searches split off.
    segment = net.snap(GWANGHWAMUN, vehicle="rescue").segment
    road = [net.compiled.edges[a] for a in net.index.arcs_of_segment(segment)]
    net.set_vehicle_restrictions("rescue", road, reason="too narrow")
    assert net.cache.twin("rescue") == "rescue"
    split = {e.unit_id: e.eta_s for e in net.etas(GWANGHWAMUN, engines + rescues)}
    fresh = load_network(network="central")
    fresh.set_vehicle_restrictions("rescue", road, reason="too narrow")
    assert split == {e.unit_id: e.eta_s for e in fresh.etas(GWANGHWAMUN, engines + rescues)}
    assert all(split[u.unit_id] == eta[u.unit_id] for u in central_units)  # engines unchanged
    assert any(split[f"r-{u.unit_id}"] != eta[u.unit_id] for u in central_units)


def test_cached_arc_pieces_are_read_only_and_equal_to_fresh_ones(central: RoadNetwork) -> None:
    route = central.route(SEOUL_STATION, GWANGHWAMUN)
    fresh = load_network(network="central").index
    for arc in [central.compiled.edge_arc[e] for e in route.edges]:
        for start, end in [(0.0, 1.0), (0.25, 1.0), (0.0, 0.6), (0.3, 0.3)]:
            piece = central.index.arc_coords(arc, start, end)
            assert piece is central.index.arc_coords(arc, start, end)
            assert not piece.flags.writeable
            np.testing.assert_array_equal(piece, fresh.arc_coords(arc, start, end))
    with pytest.raises(ValueError, match="read-only"):
        piece[0, 0] = 0.0


def test_route_points_drop_only_repeats_of_the_point_before() -> None:
    rng = np.random.default_rng(5)
    for _ in range(200):
        pieces = [rng.integers(0, 3, size=(int(rng.integers(1, 5)), 2)) * 1.0 for _ in range(4)]
        expected: list[list[float]] = []
        for piece in pieces:  # the plain rule, point by point
            for xy in piece.tolist():
                if not expected or expected[-1] != xy:
                    expected.append(xy)
        assert _without_repeats(pieces) == expected
    assert _without_repeats([]) == []


def test_best_arc_takes_the_cheapest_open_parallel_arc() -> None:
    graph = nx.MultiDiGraph()
    corners = [(37.56, 126.98), (37.56, 126.99), (37.57, 126.99), (37.57, 126.98)]
    for i, (lat, lon) in enumerate(corners):
        graph.add_node(i, y=lat, x=lon)
    for u, v in [(0, 1), (1, 2), (2, 3), (3, 0)]:  # a two-way ring
        graph.add_edge(u, v, length=900.0, highway="residential")
        graph.add_edge(v, u, length=900.0, highway="residential")
    graph.add_edge(0, 1, length=950.0, highway="primary")  # parallel, faster
    net = RoadNetwork(graph)
    assert list(net.compiled.node_ids) == [0, 1, 2, 3]  # node index == node id below
    ws = net.compiled.weights("engine")
    fast, slow = net.compiled.edge_arc[(0, 1, 1)], net.compiled.edge_arc[(0, 1, 0)]
    assert net.compiled.best_arc(ws, 0, 1) == fast
    closure = net.close_edges([(0, 1, 1)], reason="crash")
    assert net.compiled.best_arc(ws, 0, 1) == slow
    net.close_edges([(0, 1, 0)], reason="crash")
    assert net.compiled.best_arc(ws, 0, 1) == -1
    net.reopen(closure)
    assert net.compiled.best_arc(ws, 0, 1) == fast
    assert net.compiled.best_arc(ws, 0, 2) == -1  # no road between opposite corners
