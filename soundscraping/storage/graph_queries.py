"""Named queries over the interaction graph (``soundcloud_interactions``,
``soundcloud_graph_visits``, ``soundcloud_users``), for the graph crawl's
frontier and the community map.

Plain functions taking a ``Database``; ``%s`` placeholders work on both
engines.  The interaction weights have one definition, the ``GRAPH_WEIGHTS``
setting (default ``sites.soundcloud.frontier.INTERACTION_WEIGHTS``):
``interaction_weights`` reads and checks it for the crawl and the map alike.
"""

from __future__ import annotations

import sys
from array import array
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from soundscraping.storage.database import Database

# The interaction kinds, in the order the map codes them (0..3).
KINDS = ("like", "repost", "follow", "comment")


def interaction_weights(mapping: Mapping[str, Any] | None = None) -> dict[str, float]:
    """Weight of every kind, from ``mapping`` (default: the GRAPH_WEIGHTS
    setting); a missing kind is an error, not a silent default."""
    if mapping is None:
        from soundscraping import settings

        mapping = settings.GRAPH_WEIGHTS
    missing = [k for k in KINDS if k not in mapping]
    if missing:
        raise ValueError(f"GRAPH_WEIGHTS has no weight for {', '.join(missing)} (kinds: {', '.join(KINDS)})")
    return {k: float(mapping[k]) for k in KINDS}


def kind_case(column: str, values: Mapping[str, Any], default: Any) -> str:
    """``CASE column WHEN 'like' THEN v ... ELSE default END`` for the kinds
    in ``values`` (numbers only: they are written into the SQL)."""
    whens = " ".join(f"WHEN '{kind}' THEN {float(v) if isinstance(v, float) else int(v)}"
                     for kind, v in values.items())
    return f"CASE {column} {whens} ELSE {default} END"


def visited_accounts(db: Database) -> list[tuple[int, int | None]]:
    """(user_id, followers_count) of every account the graph crawl visited."""
    return db.query("SELECT user_id, followers_count FROM soundcloud_graph_visits WHERE user_id IS NOT NULL")


def graph_visits(db: Database, finished_after: str | None = None) -> list[tuple[Any, ...]]:
    """(user_id, position) of every account the graph crawl has visited (with
    ``finished_after``, a timestamp: only visits finished later than that)."""
    if finished_after is None:
        return db.query("SELECT user_id, position FROM soundcloud_graph_visits")
    return db.query("SELECT user_id, position FROM soundcloud_graph_visits WHERE finished_at > %s", (finished_after,))


def graph_scores(db: Database, weights: Mapping[str, float]) -> list[tuple[Any, ...]]:
    """(account, score, followers, permalink) of every account that received
    interactions from visited accounts; score = the sum of their ``weights``
    (an interaction kind without a weight counts 0)."""
    case = " ".join("WHEN %s THEN %s" for _ in weights)
    params = tuple(v for kind, weight in weights.items() for v in (kind, float(weight)))
    score = f"SUM(CASE i.kind {case} ELSE 0 END)" if weights else "0"
    return db.query(
        f"SELECT i.target_user_id, {score}, MAX(u.followers_count), MAX(u.permalink) "
        "FROM soundcloud_interactions i "
        "JOIN soundcloud_graph_visits v ON v.user_id = i.source_user_id "
        "LEFT JOIN soundcloud_users u ON u.id = i.target_user_id GROUP BY i.target_user_id", params)


@dataclass
class InteractionBlock:
    """A block of interactions as typed columns (native byte order, ready for
    ``numpy.frombuffer``): source and target ids ('q'), kind codes ('h': the
    index in ``KINDS``, -1 for any other kind) and counts ('i'; None: one
    interaction per entry)."""

    sources: array
    targets: array
    kinds: array
    counts: array | None = None


def _native(big_endian: bytes, typecode: str) -> array:
    values = array(typecode)
    values.frombytes(big_endian)
    if sys.byteorder == "little":
        values.byteswap()
    return values


def interaction_blocks(db: Database, only_visited: bool) -> Iterator[InteractionBlock]:
    """Every interaction with both ends known, streamed in blocks.
    ``only_visited``: sources restricted to soundcloud_graph_visits.

    PostgreSQL packs each source's targets and kinds into two binary strings
    (int8send/int2send), so a few thousand rows carry millions of
    interactions and no Python object is made per interaction.  SQLite
    aggregates (source, target, kind) groups, streamed as plain rows."""
    where = "source_user_id IS NOT NULL AND target_user_id IS NOT NULL"
    if only_visited:
        where += " AND source_user_id IN (SELECT user_id FROM soundcloud_graph_visits)"
    codes = kind_case("kind", {k: i for i, k in enumerate(KINDS)}, -1)
    if db.dialect == "postgresql":
        # Both aggregates see the group's rows in the same order (one pass).
        sql = (f"SELECT source_user_id, COUNT(*), string_agg(int8send(target_user_id), ''), "
               f"string_agg(int2send(CAST({codes} AS SMALLINT)), '') FROM soundcloud_interactions "
               f"WHERE {where} GROUP BY source_user_id")
        for rows in db.stream(sql, chunk=200):  # ~200 accounts (a few MB) per round trip
            block = InteractionBlock(array("q"), array("q"), array("h"))
            for source, n, targets, kinds in rows:
                block.sources.extend(array("q", [source]) * n)
                block.targets.extend(_native(bytes(targets), "q"))
                block.kinds.extend(_native(bytes(kinds), "h"))
            yield block
        return
    sql = (f"SELECT source_user_id, target_user_id, {codes}, COUNT(*) FROM soundcloud_interactions "
           f"WHERE {where} GROUP BY source_user_id, target_user_id, kind")
    for rows in db.stream(sql):
        sources, targets, kinds, counts = zip(*rows, strict=True)
        yield InteractionBlock(array("q", sources), array("q", targets), array("h", kinds), array("i", counts))


def user_names(db: Database, ids: Sequence[int]) -> Iterator[tuple[int, str | None, str | None, int | None]]:
    """(id, permalink, username, followers_count) of the ``ids`` present in
    soundcloud_users (absent ones are simply missing)."""
    if not ids or "soundcloud_users" not in db.table_names():
        return
    unique = sorted({int(i) for i in ids})
    for start in range(0, len(unique), 500):  # stays under SQLite's parameter limit
        part = unique[start:start + 500]
        marks = ", ".join(["%s"] * len(part))
        yield from db.query(
            f"SELECT id, permalink, username, followers_count FROM soundcloud_users WHERE id IN ({marks})",
            tuple(part))
