"""Fail on any import cycle between modules of the portal, the simulator or the integration.

Type-checking-only imports count too: a cycle hidden behind ``if TYPE_CHECKING`` still ties
the modules together for a reader and for mypy. Prints one shortest cycle through every
module caught in one (``a -> b -> a``, each step with its line), then exits 1.

Usage: ``python scripts/check_import_cycles.py [package ...]`` (default: all three).
"""

from __future__ import annotations

from collections import deque
import itertools
from pathlib import Path
import sys

import grimp

# The packages are found in the repository, whatever the working directory.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
PACKAGES = ("companion_server", "box_simulator", "custom_components.somfy_pro")


def strongly_connected(graph: grimp.ImportGraph) -> list[set[str]]:
    """The groups of modules that import each other, directly or not (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[set[str]] = []
    counter = 0
    for root in sorted(graph.modules):
        if root in index:
            continue
        work: list[tuple[str, list[str]]] = []
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        work.append((root, sorted(graph.find_modules_directly_imported_by(root))))
        while work:
            node, todo = work[-1]
            if todo:
                nxt = todo.pop()
                if nxt not in index:
                    index[nxt] = low[nxt] = counter
                    counter += 1
                    stack.append(nxt)
                    on_stack.add(nxt)
                    work.append((nxt, sorted(graph.find_modules_directly_imported_by(nxt))))
                elif nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                group: set[str] = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group.add(member)
                    if member == node:
                        break
                if len(group) > 1 or node in graph.find_modules_directly_imported_by(node):
                    groups.append(group)
    return groups


def shortest_cycle(graph: grimp.ImportGraph, start: str, group: set[str]) -> list[str]:
    """The shortest path from ``start`` back to itself inside ``group`` (breadth first)."""
    previous: dict[str, str] = {}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        for nxt in sorted(graph.find_modules_directly_imported_by(node) & group):
            if nxt == start:
                path = [node]
                while path[-1] != start:
                    path.append(previous[path[-1]])
                return [*reversed(path), start]
            if nxt not in previous:
                previous[nxt] = node
                queue.append(nxt)
    return [start]


def describe(graph: grimp.ImportGraph, cycle: list[str]) -> str:
    """``a -> b (line 3) -> a (line 9)``."""
    parts = [cycle[0]]
    for importer, imported in itertools.pairwise(cycle):
        lines = sorted(
            d["line_number"] for d in graph.get_import_details(importer=importer, imported=imported)
        )
        where = f" (line {', '.join(map(str, lines))})" if lines else ""
        parts.append(f"{imported}{where}")
    return " -> ".join(parts)


def main(packages: list[str]) -> int:
    """Print every cycle of ``packages``; 1 if there is one."""
    graph = grimp.build_graph(
        *packages,
        include_external_packages=False,
        exclude_type_checking_imports=False,
        cache_dir=None,
    )
    cycles: dict[tuple[str, ...], list[str]] = {}
    for group in strongly_connected(graph):
        for module in sorted(group):
            cycle = shortest_cycle(graph, module, group)
            # The same cycle seen from each of its modules is printed once.
            body = cycle[:-1]
            turn = body.index(min(body))
            cycles.setdefault(tuple(body[turn:] + body[:turn]), cycle)
    for cycle in sorted(cycles.values(), key=lambda c: (len(c), c)):
        print(f"import cycle: {describe(graph, cycle)}")
    if cycles:
        print(f"{len(cycles)} import cycle(s) in {', '.join(packages)}", file=sys.stderr)
        return 1
    print(f"No import cycle in {', '.join(packages)} ({len(graph.modules)} modules)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:] or list(PACKAGES)))
