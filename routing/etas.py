"""Ranking unit ETAs; distances and top-N routes are built lazily from the search tree."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from routing.model import UnitEta, UnitPosition
from routing.paths import assemble_route, path_length

if TYPE_CHECKING:
    from routing.network import RoadNetwork

EtaRow = tuple[UnitPosition, float | None, str | None, Any]


def rank_etas(
    net: RoadNetwork, rows: list[EtaRow], *, top_n_routes: int, incident: tuple[float, float]
) -> list[UnitEta]:
    """Sort by ETA (unreachable last, then by unit id) and attach lazy distance/route."""
    rows = sorted(rows, key=lambda r: (r[1] is None, r[1] or 0.0, r[0].unit_id))
    result: list[UnitEta] = []
    for rank, (unit, eta, note, payload) in enumerate(rows, start=1):
        item = UnitEta(unit_id=unit.unit_id, eta_s=eta, vehicle=unit.vehicle, rank=rank, note=note)
        if payload is not None:
            start, target, plan = payload

            def parts(start: Any = start, target: Any = target, plan: Any = plan) -> Any:
                return net.path_parts(start, target, plan)

            item._path_length = lambda parts=parts: path_length(net, parts())
            if rank <= top_n_routes:
                item._route = lambda parts=parts, unit=unit, start=start, target=target: (
                    assemble_route(
                        net, parts(), vehicle=unit.vehicle, metric="time",
                        origin=(unit.lat, unit.lon), destination=incident,
                        snaps=(start.snap, target.snap),
                    )
                )  # fmt: skip
        result.append(item)
    return result
