"""The files and codes of the Korean standard node-link network (표준노드링크), read as data.

The national ITS centre's network ships as a ``*node*.csv`` + ``*link*.csv`` pair. Two packages
read it: `routing` builds its road graph from it (``routing.stdnodelink``) and `places` its
gazetteer of road and node names (``places.sources``). What both need of the format lives
here, on the ground floor, so neither imports the other: finding the pair, decoding ROAD_NAME
and the bridge/tunnel flags of ROAD_TYPE. No domain rules: only the file layout and its codes.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

from goldentime.errors import DataError

ROAD_TYPE_FLAGS: dict[str, tuple[str | None, str | None]] = {  # code -> (bridge, tunnel)
    "000": (None, None),
    "001": ("yes", None),  # 교량
    # In this cut the two codes are the other way round from the MOCT_LINK specification
    # (002 터널, 004 지하도로): 002 links are the 지하차도 (서빙고, 이태원, 왕십리 ...) and
    # 004 links the mountain tunnels (사직터널, 남산2/3호터널, 구기터널 ...): checked against the
    # node names at their portals.
    "002": (None, "underpass"),  # 지하차도
    "003": ("viaduct", None),  # 고가도로
    "004": (None, "yes"),  # 터널
}


class NodeLinkFilesError(DataError):
    """A directory does not hold exactly one node-link CSV pair."""


@dataclass(frozen=True)
class NodeLinkFiles:
    """The node and link files of one standard node-link network."""

    nodes: Path
    links: Path


def find_files(directory: Path) -> NodeLinkFiles:
    """The ``*node*.csv`` and ``*link*.csv`` pair in ``directory`` (NodeLinkFilesError if not
    exactly one of each)."""
    if not directory.is_dir():
        raise NodeLinkFilesError(f"standard node-link network: {directory} is not a directory")
    nodes = sorted(p for p in directory.glob("*.csv") if "node" in p.name.lower())
    links = sorted(p for p in directory.glob("*.csv") if "link" in p.name.lower())
    if len(nodes) != 1 or len(links) != 1:
        raise NodeLinkFilesError(
            f"standard node-link network {directory}: expected one *node*.csv and one "
            f"*link*.csv, found {[p.name for p in nodes]} and {[p.name for p in links]}"
        )
    return NodeLinkFiles(nodes=nodes[0], links=links[0])


def decode_road_name(raw: str) -> str | None:
    """ROAD_NAME as shipped (the text of a Python bytes literal of CP949 bytes) -> str.

    Plain text is returned as it is; an empty or undecodable name is None.
    """
    text = raw.strip()
    if not text:
        return None
    if text[:2] in ("b'", 'b"'):
        try:
            value = ast.literal_eval(text)
        except (ValueError, SyntaxError):
            return None
        if not isinstance(value, bytes):
            return None
        try:
            text = value.decode("cp949")
        except UnicodeDecodeError:
            text = value.decode("cp949", errors="replace")
    text = text.strip()
    return text or None
