"""routing's modules share state through public members only (issue 17).

The helper modules read a network through `routing.network_parts.NetworkParts` and its
`QueryCache`; no module reaches into another object's underscore members. The one exception is
networkx's own adjacency dicts, filled directly when a compiled directory is loaded.
"""

from __future__ import annotations

import ast
from pathlib import Path

from routing import RoadNetwork
from routing.query_cache import QueryCache

ROUTING = Path(__file__).resolve().parents[3] / "routing"
# networkx documents ``G._succ``/``G._pred`` as its MultiDiGraph layout; filling them directly
# is how compiled_files.py builds a 100k-node graph fast.
ALLOWED = {("compiled_files.py", "graph._succ"), ("compiled_files.py", "graph._pred"),
           ("compiled_files.py", "nx._clear_cache")}  # fmt: skip


def _foreign_private_uses(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not isinstance(node, ast.Attribute) or not node.attr.startswith("_"):
            continue
        if node.attr.startswith("__") or (
            isinstance(node.value, ast.Name) and node.value.id in {"self", "cls"}
        ):
            continue
        use = ast.unparse(node)
        if (path.name, use) not in ALLOWED:
            found.append(f"{path.name}:{node.lineno}: {use}")
    return found


def test_no_routing_module_uses_another_objects_private_members() -> None:
    modules = sorted(ROUTING.glob("*.py"))
    assert len(modules) > 20  # the package was found
    assert [use for path in modules for use in _foreign_private_uses(path)] == []


def test_the_check_sees_a_private_member_of_another_object(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text("def f(net):\n    return net._endpoint(1.0, 2.0, 'engine'), self._ok\n")
    assert _foreign_private_uses(sample) == ["sample.py:2: net._endpoint"]


def test_the_network_hands_its_helpers_one_cache_per_compilation(
    fresh_central: RoadNetwork,
) -> None:
    net = fresh_central
    cache = net.cache
    assert isinstance(cache, QueryCache) and cache.compiled is net.compiled
    net.search_cache_bytes = 1234
    net.recompile()  # a new compiled graph: a new cache, the same tree budget
    assert net.cache is not cache and net.cache.compiled is net.compiled
    assert net.search_cache_bytes == 1234
