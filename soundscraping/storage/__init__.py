"""Storage: the dataset's schema (``schema``), rendered for PostgreSQL and
SQLite (``sql``), the connection that writes batched idempotent upserts
(``database``), the named queries spiders and commands run (``queries``;
the interaction graph's, for the graph crawl and the community map, in
``graph_queries``; ``analysis_queries`` for ``soundscraping sentiment``/``moments``;
``audio_queries`` for the audio commands) and the
ordered schema migrations (``migrations``).

The names other modules use are importable from here as before
(``from soundscraping.storage import Database, StorageError, TABLES, ...``)."""

from soundscraping.storage.database import (
    Database,
    PostgresDatabase,
    RowsRejected,
    SchemaMismatch,
    SchemaOutdated,
    SchemaTooNew,
    SqliteDatabase,
    StorageError,
    WriteConflict,
    connected,
    default_database_url,
    error_line,
    in_lock_order,
    mask_url,
)
from soundscraping.storage.graph_queries import (
    KINDS,
    InteractionBlock,
    graph_scores,
    graph_visits,
    interaction_blocks,
    interaction_weights,
    user_names,
    visited_accounts,
)
from soundscraping.storage.queries import finished_units, track_baselines, tracks_by_id, tracks_to_match
from soundscraping.storage.schema import (
    CRAWL_RUN_ID,
    HISTORY,
    TABLES,
    Column,
    Row,
    Table,
    Values,
    cols,
    crawled,
    history_row,
    merge_rows,
    merge_values,
)
from soundscraping.storage.sql import add_columns_sql, column_type, create_sql, upsert_sql

__all__ = [
    "CRAWL_RUN_ID",
    "HISTORY",
    "KINDS",
    "TABLES",
    "Column",
    "Database",
    "InteractionBlock",
    "PostgresDatabase",
    "Row",
    "RowsRejected",
    "SchemaMismatch",
    "SchemaOutdated",
    "SchemaTooNew",
    "SqliteDatabase",
    "StorageError",
    "Table",
    "Values",
    "WriteConflict",
    "add_columns_sql",
    "cols",
    "column_type",
    "connected",
    "crawled",
    "create_sql",
    "default_database_url",
    "error_line",
    "finished_units",
    "graph_scores",
    "graph_visits",
    "history_row",
    "in_lock_order",
    "interaction_blocks",
    "interaction_weights",
    "mask_url",
    "merge_rows",
    "merge_values",
    "track_baselines",
    "tracks_by_id",
    "tracks_to_match",
    "upsert_sql",
    "user_names",
    "visited_accounts"
]
