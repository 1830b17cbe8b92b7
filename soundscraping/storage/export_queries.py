"""The named queries of ``soundscraping export``: each table's rows in key
order with values in one shape on both engines (timestamps as microseconds
since the epoch on PostgreSQL, as ISO text on SQLite, which the exporter
parses), the interaction graph aggregated per pair of accounts, the crawl
runs, and the documented JOINs between the owner tables and ``media_files``.
``%s`` placeholders on both engines."""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import AbstractContextManager
from typing import Any

from soundscraping.storage.database import Database, PostgresDatabase
from soundscraping.storage.graph_queries import KINDS
from soundscraping.storage.schema import CRAWL_RUN_ID, TABLES, Column, Table

# The documented way from an owner row to its stored files (README, data
# card): every media_files row is returned by one of them
# (tests/test_export_media_joins_e2e.py).  By owner id and role, or by the URL
# as the row holds it (``m.owner_url = u.avatar_url``).
MEDIA_JOINS: dict[str, str] = {
    "soundcloud_users": "SELECT u.id, m.role, m.url, m.path FROM soundcloud_users u JOIN media_files m "
                        "ON m.owner_table = 'soundcloud_users' AND m.owner_id = u.id",
    "soundcloud_tracks": "SELECT t.id, m.role, m.url, m.path FROM soundcloud_tracks t JOIN media_files m "
                         "ON m.owner_table = 'soundcloud_tracks' AND m.owner_id = t.id",
    "beatport_tracks": "SELECT b.id, m.role, m.url, m.path FROM beatport_tracks b JOIN media_files m "
                       "ON m.owner_table = 'beatport_tracks' AND m.owner_id = b.id",
    "cmt_songs": "SELECT s.artist, s.title, m.role, m.url, m.path FROM cmt_songs s JOIN media_files m "
                 "ON m.owner_table = 'cmt_songs' AND m.owner_key = s.artist || ' / ' || s.title",
    "cmt_mixes": "SELECT x.url, x.pid, m.role, m.url, m.path FROM cmt_mixes x JOIN media_files m "
                 "ON m.owner_table = 'cmt_mixes' AND m.owner_key = x.url || ' / ' || CAST(x.pid AS TEXT)",
}
# The same files by the URL the owner row stores (one example per URL column).
MEDIA_URL_JOINS: dict[str, str] = {
    "avatar": "SELECT u.id, m.url, m.path FROM soundcloud_users u JOIN media_files m ON m.owner_url = u.avatar_url",
    "banner": "SELECT u.id, m.url, m.path FROM soundcloud_users u JOIN media_files m ON m.owner_url = u.banner_url",
    "artwork": "SELECT t.id, m.url, m.path FROM soundcloud_tracks t JOIN media_files m "
               "ON m.owner_url = t.artwork_url",
    "waveform": "SELECT t.id, m.url, m.path FROM soundcloud_tracks t JOIN media_files m "
                "ON m.owner_url = t.waveform_url",
}


def _pg_column(column: Column, lists_as_json: bool = False) -> str:
    if column.kind == "timestamp":
        return f"CAST(EXTRACT(EPOCH FROM {column.name}) * 1000000 AS BIGINT)"
    if column.kind == "date":
        return f"{column.name} - DATE '1970-01-01'"
    if column.kind == "text[]" and lists_as_json:
        return f"CAST(array_to_json({column.name}) AS TEXT)"
    return column.name


def _order(table: Table, dialect: str) -> str:
    """The key, compared as bytes on both engines (PostgreSQL's collation
    would order text keys differently from SQLite's)."""
    parts = []
    for name in table.key:
        kind = table.columns[table.column_names.index(name)].kind
        expr = f"COALESCE({name}, -1)" if name in table.nullable_key else name
        parts.append(f'{expr} COLLATE "C"' if kind == "text" and dialect == "postgresql" else expr)
    return ", ".join(parts)


def since_filter(table: Table) -> str | None:
    """The WHERE clause of ``--since`` (one ``%s``), or None for a table that
    has no time of writing: rows of a crawled table last written by a run
    still going or finished since then; other tables by their own last
    timestamp column (scored_at, processed_at...)."""
    if table.crawled:
        return (f"{CRAWL_RUN_ID.name} IN (SELECT id FROM crawl_runs WHERE finished_at IS NULL "
                "OR finished_at >= %s)")
    if table.name == "crawl_runs":
        return "(finished_at IS NULL OR finished_at >= %s)"
    stamps = [c.name for c in table.columns if c.kind == "timestamp"]
    return f"{stamps[-1]} >= %s" if stamps else None


def _select(table: Table, dialect: str, since: str | None, lists_as_json: bool = False
            ) -> tuple[str, tuple[Any, ...]]:
    select = ", ".join(_pg_column(c, lists_as_json) for c in table.columns) if dialect == "postgresql" else \
        ", ".join(table.column_names)
    where: str = ""
    params: tuple[Any, ...] = ()
    if since is not None and (clause := since_filter(table)) is not None:
        where, params = f" WHERE {clause}", (since,)
    return f"SELECT {select} FROM {table.name}{where} ORDER BY {_order(table, dialect)}", params


def table_rows(db: Database, table: Table, since: str | None = None, chunk: int = 100_000
               ) -> Iterator[list[tuple[Any, ...]]]:
    """``table``'s rows (every column, in order), in key order, streamed in
    lists of ``chunk``."""
    yield from db.stream(*_select(table, db.dialect, since), chunk)


def table_csv(db: PostgresDatabase, table: Table, since: str | None = None
              ) -> AbstractContextManager[io.BufferedReader]:
    """``table_rows`` as PostgreSQL's CSV (lists as JSON arrays), read while
    the server writes it: no Python object per value."""
    return db.copy_csv(*_select(table, db.dialect, since, lists_as_json=True))


def crawl_runs(db: Database, ids: list[int]) -> list[dict[str, Any]]:
    """The crawl_runs rows of ``ids`` (oldest first), as dicts."""
    if not ids:
        return []
    names = TABLES["crawl_runs"].column_names
    found = []
    for start in range(0, len(ids), 500):
        part = ids[start:start + 500]
        marks = ", ".join("%s" for _ in part)
        found += db.query(f"SELECT {', '.join(names)} FROM crawl_runs WHERE id IN ({marks}) ORDER BY id",
                          tuple(part))
    return [dict(zip(names, row, strict=True)) for row in found]


def _interactions_where(since: str | None) -> tuple[str, tuple[Any, ...]]:
    if since is None:
        return "", ()
    return f" WHERE {since_filter(TABLES['soundcloud_interactions'])}", (since,)


def graph_edges(db: Database, since: str | None = None, chunk: int = 100_000
                ) -> Iterator[list[tuple[Any, ...]]]:
    """(source, target, count per kind in ``KINDS`` order) for every pair of
    accounts with an interaction, in (source, target) order."""
    counts = ", ".join(f"SUM(CASE WHEN kind = '{k}' THEN 1 ELSE 0 END)" for k in KINDS)
    where, params = _interactions_where(since)
    yield from db.stream(f"SELECT source_user_id, target_user_id, {counts} FROM soundcloud_interactions{where} "
                         "GROUP BY source_user_id, target_user_id ORDER BY source_user_id, target_user_id",
                         params, chunk)


def graph_run_ids(db: Database, since: str | None = None) -> list[int]:
    """The crawl runs that wrote the graph's interactions."""
    where, params = _interactions_where(since)
    return sorted(r[0] for r in db.query(f"SELECT DISTINCT crawl_run_id FROM soundcloud_interactions{where}", params)
                  if r[0] is not None)


def graph_nodes(db: Database, since: str | None = None, chunk: int = 100_000
                ) -> Iterator[list[tuple[Any, ...]]]:
    """(id, permalink, username, followers_count) of every account in an
    interaction (NULLs for accounts never stored), in id order."""
    where, params = _interactions_where(since)
    yield from db.stream(
        f"SELECT n.id, u.permalink, u.username, u.followers_count FROM (SELECT source_user_id AS id FROM "
        f"soundcloud_interactions{where} UNION SELECT target_user_id FROM soundcloud_interactions{where}) n "
        "LEFT JOIN soundcloud_users u ON u.id = n.id ORDER BY n.id", params * 2, chunk)

