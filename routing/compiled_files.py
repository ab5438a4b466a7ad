"""The compiled network directory: a typed road graph as numpy arrays + a JSON manifest.

`goldentime network build SOURCE... -o DIR` reads the sources once (CSV, shapefiles, GraphML,
OSM), keeps the largest strongly connected component, and writes:

- ``DIR/network.json``: the manifest (``format`` = ``goldentime-network``, ``version``, the
  sources, node/edge counts, the graph's metadata and the column kinds);
- ``DIR/network.npz``: one array per node/edge attribute column (no pickle: strings are
  categorical codes into a unicode vocabulary, optional numbers NaN or a mask, geometries one
  coordinate array with offsets).

`read_compiled(DIR)` rebuilds the same typed MultiDiGraph (ids, every attribute, shapely
geometries) with no parsing, so a process loads a whole city in a fraction of a second.

A compiled directory named ``<source>.compiled`` next to a source (e.g.
``data/seoul/roads/seoul_stdnodelink_2018.compiled``) is used automatically by `load_network`
for that source when its manifest's ``fingerprint`` (SHA-256 of the source files) matches.
"""

from __future__ import annotations

import hashlib
import json
import zipfile
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np
import numpy.typing as npt
import shapely
from shapely.geometry import LineString

from routing.errors import GraphLoadError

FORMAT = "goldentime-network"
VERSION = 1
MANIFEST = "network.json"
ARRAYS = "network.npz"
SIDECAR_SUFFIX = ".compiled"
_SEP = "\x1f"  # joins the items of a string-list attribute (never in a road name)


def source_fingerprint(paths: Iterable[Path]) -> str:
    """SHA-256 over the source files (a directory: its files), names and bytes, in order."""
    digest = hashlib.sha256()
    files: list[Path] = []
    for path in paths:
        files.extend(sorted(p for p in path.iterdir() if p.is_file()) if path.is_dir() else [path])
    for file in files:
        digest.update(file.name.encode())
        digest.update(file.read_bytes())
    return digest.hexdigest()


def sidecar(source: Path) -> Path:
    """Where the compiled copy of ``source`` is picked up automatically: ``<source>.compiled``."""
    return source.with_name(source.name + SIDECAR_SUFFIX)


def fresh_sidecar(source: Path) -> Path | None:
    """The compiled copy of ``source`` if one exists and was built from these exact bytes."""
    found = sidecar(source)
    if not is_compiled_dir(found):
        return None
    try:
        manifest = read_manifest(found)
        wanted = manifest.get("fingerprint")
        return found if wanted and wanted == source_fingerprint([source]) else None
    except (GraphLoadError, OSError):
        return None


def is_compiled_dir(path: Path) -> bool:
    """True when ``path`` is a directory with a compiled-network manifest."""
    return path.is_dir() and (path / MANIFEST).is_file()


def _kind(values: Sequence[Any]) -> str:
    present = [v for v in values if v is not None]
    if not present:
        return "none"
    if all(isinstance(v, LineString) for v in present):
        return "geometry"
    if all(isinstance(v, bool | np.bool_) for v in present):
        return "bool"
    if all(isinstance(v, int | np.integer) and not isinstance(v, bool) for v in present):
        return "int"
    if all(isinstance(v, int | float | np.integer | np.floating) for v in present):
        return "float"
    if all(isinstance(v, str) for v in present):
        return "str"
    if all(isinstance(v, list) and all(isinstance(x, str) for x in v) for v in present):
        return "strlist"
    return "text"  # mixed values (e.g. an OSM id or a list of them): kept as their text


def _encode(name: str, values: Sequence[Any], arrays: dict[str, npt.NDArray[Any]]) -> str:
    kind = _kind(values)
    if kind == "none":
        return kind
    missing = np.fromiter((v is None for v in values), dtype=bool, count=len(values))
    if kind in ("bool", "int"):
        arrays[f"{name}.values"] = np.array(
            [0 if v is None else int(v) for v in values], dtype=np.int64
        )
        arrays[f"{name}.missing"] = missing
    elif kind == "float":
        arrays[f"{name}.values"] = np.array(
            [np.nan if v is None else float(v) for v in values], dtype=np.float64
        )
    elif kind == "geometry":
        coords = [np.asarray(v.coords, dtype=np.float64)[:, :2] for v in values if v is not None]
        counts = np.array([0 if v is None else len(v.coords) for v in values], dtype=np.int64)
        arrays[f"{name}.coords"] = (
            np.concatenate(coords) if coords else np.zeros((0, 2), dtype=np.float64)
        )
        arrays[f"{name}.counts"] = counts
    else:
        texts = [
            None if v is None else (_SEP.join(v) if kind == "strlist" else str(v)) for v in values
        ]
        vocab = sorted({t for t in texts if t is not None})
        code = {t: i for i, t in enumerate(vocab)}
        arrays[f"{name}.codes"] = np.array(
            [-1 if t is None else code[t] for t in texts], dtype=np.int32
        )
        arrays[f"{name}.vocab"] = np.array(vocab, dtype=np.str_)
    return kind


def _decode(name: str, kind: str, arrays: Any, count: int) -> list[Any]:
    if kind == "none":
        return [None] * count
    if kind in ("bool", "int"):
        raw = arrays[f"{name}.values"].tolist()
        missing = arrays[f"{name}.missing"].tolist()
        cast: Callable[[int], Any] = bool if kind == "bool" else int
        return [None if m else cast(v) for v, m in zip(raw, missing, strict=True)]
    if kind == "float":
        values = arrays[f"{name}.values"]
        return [None if v != v else v for v in values.tolist()]  # NaN -> None
    if kind == "geometry":
        counts = arrays[f"{name}.counts"]
        coords = arrays[f"{name}.coords"]
        present = counts > 0
        out: list[Any] = [None] * count
        if present.any():
            index = np.repeat(np.arange(int(present.sum())), counts[present])
            lines = shapely.linestrings(coords, indices=index)
            for slot, line in zip(np.flatnonzero(present).tolist(), lines, strict=True):
                out[slot] = line
        return out
    vocab = arrays[f"{name}.vocab"].tolist()
    if kind == "strlist":
        vocab = [v.split(_SEP) if v else [] for v in vocab]
    return [None if c < 0 else vocab[c] for c in arrays[f"{name}.codes"].tolist()]


def write_compiled(
    graph: nx.MultiDiGraph,
    directory: Path,
    *,
    sources: Iterable[str],
    fingerprint: str | None = None,
    progress: Callable[[str], None] = lambda _msg: None,
) -> dict[str, Any]:
    """Write ``graph`` (typed, as the loaders give it) to ``directory``; returns the manifest."""
    directory.mkdir(parents=True, exist_ok=True)
    nodes = list(graph.nodes(data=True))
    edges = list(graph.edges(keys=True, data=True))
    arrays: dict[str, npt.NDArray[Any]] = {
        "node.id": np.array([int(n) for n, _ in nodes], dtype=np.int64),
        "edge.u": np.array([int(e[0]) for e in edges], dtype=np.int64),
        "edge.v": np.array([int(e[1]) for e in edges], dtype=np.int64),
        "edge.key": np.array([int(e[2]) for e in edges], dtype=np.int64),
    }
    node_names = sorted({k for _, d in nodes for k in d})
    edge_names = sorted({k for *_, d in edges for k in d})
    progress(f"encoding {len(nodes):,} nodes and {len(edges):,} links")
    node_kinds = {k: _encode(f"node:{k}", [d.get(k) for _, d in nodes], arrays) for k in node_names}
    edge_kinds = {k: _encode(f"edge:{k}", [e[3].get(k) for e in edges], arrays) for k in edge_names}
    meta = {k: v for k, v in graph.graph.items() if isinstance(v, str | int | float | bool)}
    manifest = {
        "format": FORMAT,
        "version": VERSION,
        "sources": list(sources),
        "fingerprint": fingerprint,
        "nodes": len(nodes),
        "links": len(edges),
        "graph": meta,
        "node_columns": node_kinds,
        "edge_columns": edge_kinds,
    }
    progress(f"writing {directory / ARRAYS}")
    np.savez(directory / ARRAYS, allow_pickle=False, **arrays)
    (directory / MANIFEST).write_text(
        json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8"
    )
    return manifest


def read_manifest(directory: Path) -> dict[str, Any]:
    """The manifest of a compiled directory (GraphLoadError if missing or of another format)."""
    path = directory / MANIFEST
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise GraphLoadError(
            f"compiled network {directory}: cannot read {MANIFEST}: {err}"
        ) from err
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise GraphLoadError(f"compiled network {directory}: {MANIFEST} is not a {FORMAT} file")
    if manifest.get("version") != VERSION:
        raise GraphLoadError(
            f"compiled network {directory}: version {manifest.get('version')} (this build "
            f"reads {VERSION}); rebuild it with `goldentime network build`"
        )
    return manifest


def read_compiled(directory: Path) -> nx.MultiDiGraph:
    """Rebuild the typed MultiDiGraph of a compiled directory (GraphLoadError naming it)."""
    manifest = read_manifest(directory)
    try:
        with np.load(directory / ARRAYS, allow_pickle=False) as arrays:
            return _graph(manifest, arrays)
    except (OSError, KeyError, ValueError, EOFError, zipfile.BadZipFile) as err:
        raise GraphLoadError(
            f"compiled network {directory}: unreadable {ARRAYS} ({err}); rebuild it with "
            "`goldentime network build`"
        ) from err


def _graph(manifest: dict[str, Any], arrays: Any) -> nx.MultiDiGraph:
    ids = arrays["node.id"].tolist()
    u, v, keys = (arrays[f"edge.{c}"].tolist() for c in ("u", "v", "key"))
    node_cols = {
        k: _decode(f"node:{k}", kind, arrays, len(ids))
        for k, kind in manifest["node_columns"].items()
    }
    edge_cols = {
        k: _decode(f"edge:{k}", kind, arrays, len(u))
        for k, kind in manifest["edge_columns"].items()
    }
    graph = nx.MultiDiGraph()
    graph.graph.update(manifest.get("graph", {}))
    node_keys = list(node_cols)
    node_rows = zip(*node_cols.values(), strict=True) if node_keys else ([()] * len(ids))
    graph.add_nodes_from(
        (n, dict(zip(node_keys, row, strict=True))) for n, row in zip(ids, node_rows, strict=True)
    )
    geometry = edge_cols.pop("geometry", None)  # only on the edges that have one
    edge_keys = list(edge_cols)
    attrs = [
        dict(zip(edge_keys, row, strict=True)) for row in zip(*edge_cols.values(), strict=True)
    ]
    if not edge_keys:
        attrs = [{} for _ in u]
    if geometry is not None:
        for item, line in zip(attrs, geometry, strict=True):
            if line is not None:
                item["geometry"] = line
    _add_edges(graph, zip(u, v, keys, attrs, strict=True))
    return graph


def _add_edges(
    graph: nx.MultiDiGraph, edges: Iterable[tuple[int, int, int, dict[str, Any]]]
) -> None:
    """`add_edges_from` for a fresh graph whose nodes all exist, writing its adjacency directly.

    networkx's own method re-checks every node and key per edge (two thirds of the load time of
    a city); this writes the same structure (successor and predecessor dicts sharing one
    key dict per node pair) and is checked against networkx's result in the tests.
    """
    succ, pred = graph._succ, graph._pred  # the MultiDiGraph layout networkx documents
    for u, v, key, attrs in edges:
        keydict = succ[u].get(v)
        if keydict is None:
            keydict = succ[u][v] = graph.edge_key_dict_factory()
            pred[v][u] = keydict
        keydict[key] = attrs
    nx._clear_cache(graph)
