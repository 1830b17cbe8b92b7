"""The interaction graph for networkx or Gephi: one directed edge per pair of
accounts, with the count of each interaction kind and their weighted sum
(``GRAPH_WEIGHTS``, the weights of the graph crawl and the community map).

GraphML is written here with the standard library's XML escaping rather than
through networkx: networkx is not a crawler or export dependency, and it
would hold the whole graph in memory (millions of edges) before writing;
this writes nodes, then edges, as the database streams them.  The edge list
is whitespace-separated text with a ``#`` header, which
``networkx.read_edgelist(..., data=[("weight", float), ("like", int), ...])``
reads."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any
from xml.sax.saxutils import escape

from soundscraping.storage import KINDS, Database
from soundscraping.storage.export_queries import graph_edges, graph_nodes

GRAPH_FORMATS = ("graphml", "edgelist")
_NODE_KEYS = (("permalink", "string"), ("username", "string"), ("followers_count", "long"))


@dataclass
class GraphExport:
    file: str
    nodes: int = 0
    edges: int = 0


def _weight(counts: tuple[int, ...], weights: Mapping[str, float]) -> float:
    return float(sum(int(n) * weights[k] for k, n in zip(KINDS, counts, strict=True)))


def _graphml(db: Database, out: IO[str], weights: Mapping[str, float], since: str | None,
             result: GraphExport) -> None:
    out.write('<?xml version="1.0" encoding="UTF-8"?>\n'
              '<graphml xmlns="http://graphml.graphdrawing.org/xmlns">\n')
    for name, kind in _NODE_KEYS:
        out.write(f'  <key id="{name}" for="node" attr.name="{name}" attr.type="{kind}"/>\n')
    out.write('  <key id="weight" for="edge" attr.name="weight" attr.type="double"/>\n')
    for kind in KINDS:
        out.write(f'  <key id="{kind}" for="edge" attr.name="{kind}" attr.type="long"/>\n')
    out.write('  <graph id="soundcloud_interactions" edgedefault="directed">\n')
    for rows in graph_nodes(db, since):
        parts = []
        for user_id, *values in rows:
            data = "".join(f'<data key="{name}">{escape(str(v))}</data>'
                           for (name, _), v in zip(_NODE_KEYS, values, strict=True) if v is not None)
            parts.append(f'    <node id="{user_id}">{data}</node>\n')
        out.write("".join(parts))
        result.nodes += len(rows)
    for rows in graph_edges(db, since):
        parts = []
        for source, target, *counts in rows:
            data = "".join(f'<data key="{k}">{int(n)}</data>' for k, n in zip(KINDS, counts, strict=True) if n)
            parts.append(f'    <edge source="{source}" target="{target}"><data key="weight">'
                         f'{_weight(tuple(counts), weights)!r}</data>{data}</edge>\n')
        out.write("".join(parts))
        result.edges += len(rows)
    out.write("  </graph>\n</graphml>\n")


def _edgelist(db: Database, out: IO[str], weights: Mapping[str, float], since: str | None,
              result: GraphExport) -> None:
    out.write(f"# source target weight {' '.join(KINDS)}  (weight = "
              + " + ".join(f"{weights[k]:g} x {k}" for k in KINDS) + ")\n")
    for rows in graph_edges(db, since):
        out.write("".join(f"{s} {t} {_weight(tuple(c), weights)!r} {' '.join(str(int(n)) for n in c)}\n"
                          for s, t, *c in rows))
        result.edges += len(rows)


def export_graph(db: Database, out: Path, fmt: str, weights: Mapping[str, float],
                 since: str | None = None) -> GraphExport:
    """Write ``out/soundcloud_graph.<graphml|edgelist>``."""
    path = out / f"soundcloud_graph.{fmt}"
    result = GraphExport(path.name)
    with path.open("w", encoding="utf-8") as handle:
        (_graphml if fmt == "graphml" else _edgelist)(db, handle, weights, since, result)
    return result


def describe_graph(result: GraphExport, weights: Mapping[str, float]) -> dict[str, Any]:
    return {"file": result.file, "nodes": result.nodes, "edges": result.edges, "directed": True,
            "edge_attributes": {"weight": "sum of the kinds' counts x GRAPH_WEIGHTS", **{k: f"number of {k} "
                                "interactions from source to target" for k in KINDS}},
            "weights": dict(weights), "node_attributes": [n for n, _ in _NODE_KEYS]}

