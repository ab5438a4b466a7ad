"""`goldentime network build SOURCE... -o DIR` and `goldentime network info`.

``build`` reads the sources once (any supported form, see routing.loading), joins them by node
id (sources of one id space, e.g. two regional cuts of the standard node-link network), keeps
the largest strongly connected component and writes the compiled directory
(routing.compiled_files); progress goes to stderr. Written to ``<source>.compiled`` (e.g.
``-o data/seoul/roads/seoul_stdnodelink_2018.compiled``), it is picked up automatically by every
process that loads that source, as long as the source files are unchanged. ``info`` prints what
a network covers.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import click
import networkx as nx

from routing.compiled_files import source_fingerprint, write_compiled
from routing.components import largest_component
from routing.errors import RoutingError
from routing.loading import NETWORK_NAMES, load_network, network_source, read_network_graph
from routing.moct_shapefile import find_pair, is_moct_shapefile
from routing.network_info import network_info


def _progress(message: str) -> None:
    click.echo(f"network build: {message}", err=True)


def _distinct_sources(sources: tuple[Path, ...]) -> list[Path]:
    """The sources, with MOCT_NODE.shp + MOCT_LINK.shp given separately read once."""
    seen: set[Path] = set()
    result = []
    for path in sources:
        key = path.resolve()
        if path.is_file() and is_moct_shapefile(path):
            key = find_pair(path)[1].resolve().parent
        if key not in seen:
            seen.add(key)
            result.append(path)
    return result


@click.group()
def network() -> None:
    """Build and inspect road networks."""


@network.command()
@click.argument("sources", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("-o", "--output", "output", required=True, type=click.Path(path_type=Path),
              help="Directory to write the compiled network to.")  # fmt: skip
@click.option("--json", "as_json", is_flag=True, help="Print the manifest as JSON.")
def build(sources: tuple[Path, ...], output: Path, as_json: bool) -> None:
    """Compile road network SOURCE(s) into a directory every process loads fast."""
    started = time.perf_counter()
    graphs = []
    distinct = _distinct_sources(sources)
    for path in distinct:
        _progress(f"reading {path}")
        graph = read_network_graph(path)
        _progress(f"  {graph.number_of_nodes():,} nodes, {graph.number_of_edges():,} links")
        graphs.append(graph)
    merged = graphs[0] if len(graphs) == 1 else nx.compose_all(graphs)
    names = ", ".join(str(p) for p in sources)
    _progress("keeping the largest strongly connected component")
    kept, info = largest_component(merged, source=names)
    _progress(f"  {info.nodes_kept:,} nodes kept, {info.nodes_dropped:,} dropped in "
              f"{info.components_dropped:,} small components")  # fmt: skip
    kept.graph.update(
        {
            "source_nodes": info.nodes_total,
            "source_links": info.edges_kept + info.edges_dropped,
            "format": merged.graph.get("format", "graphml"),
        }
    )
    manifest = write_compiled(
        kept, output, sources=[str(p) for p in sources], progress=_progress,
        fingerprint=source_fingerprint(distinct) if len(distinct) == 1 else None,
    )  # fmt: skip
    _progress(f"done in {time.perf_counter() - started:.1f} s: {output}")
    if as_json:
        click.echo(json.dumps(manifest, ensure_ascii=False))
    else:
        click.echo(f"{output}: {manifest['nodes']:,} nodes, {manifest['links']:,} links")


@network.command()
@click.option("--network", "name", type=click.Choice(NETWORK_NAMES), default=None,
              help="Named network (default: the configured one).")  # fmt: skip
@click.option("--graph", "graph_path", type=click.Path(path_type=Path), default=None,
              help="Any supported road network file or directory.")  # fmt: skip
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def info(name: str | None, graph_path: Path | None, as_json: bool) -> None:
    """Nodes, links, largest component and the gu a network covers."""
    if name is not None and graph_path is not None:
        raise RoutingError("give --network or --graph, not both")
    source = network_source(network=name, graph_path=graph_path)
    net = load_network(source)
    data = network_info(net, source=str(source))
    if as_json:
        click.echo(json.dumps(data, ensure_ascii=False))
        return
    click.echo(f"{source}: {data['nodes']:,} nodes, {data['links']:,} links, largest component "
               f"{data['largest_component_nodes']:,} nodes")  # fmt: skip
    click.echo(f"gu covered ({len(data['gu_covered'])}): {', '.join(data['gu_covered'])}")
    if data["gu_missing"]:
        click.echo(f"gu missing: {', '.join(data['gu_missing'])} (served by approach legs of "
                   f"up to {data['approach_m']:,.0f} m)")  # fmt: skip
