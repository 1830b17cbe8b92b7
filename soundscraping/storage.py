"""Storage: one schema for PostgreSQL and SQLite, batched idempotent upserts.

The schema is the dataset's public contract (shared/reference/schema.md).  It
is declared once here and rendered for each engine.  Writes are whole batches
in one transaction, so a failed flush leaves no half-written rows.
"""

from __future__ import annotations

import contextlib
import functools
import json
import logging
import sqlite3
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

logger = logging.getLogger(__name__)

Row = dict[str, Any]
# A row as written: the table's column values in declaration order.
Values = tuple[Any, ...]


@dataclass(frozen=True)
class Column:
    name: str
    kind: str  # bigint | int | text | bool | timestamp | float | date | text[]


@dataclass(frozen=True)
class Table:
    name: str
    key: tuple[str, ...]
    columns: tuple[Column, ...]
    # "overwrite": a re-crawl refreshes every column;
    # "profile": rows with full_profile=false only fill gaps of full rows;
    # "ignore": the first row wins (edges, append-only facts).
    merge: str = "overwrite"
    indexes: tuple[tuple[str, ...], ...] = ()
    # Key columns that may be NULL yet must still be unique (a follow has no
    # object): the unique index covers COALESCE(column, -1) instead.
    nullable_key: tuple[str, ...] = ()

    @functools.cached_property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    @functools.cached_property
    def key_positions(self) -> tuple[int, ...]:
        return tuple(self.column_names.index(k) for k in self.key)


def cols(spec: str) -> tuple[Column, ...]:
    """Columns from "name:kind name:kind ..." (how tables are declared)."""
    return tuple(Column(*item.split(":")) for item in spec.split())


TABLES: dict[str, Table] = {
    t.name: t
    for t in (
        Table(
            "soundcloud_users", ("id",),
            cols(
                "id:bigint permalink:text username:text full_name:text description:text city:text "
                "country_code:text followers_count:int followings_count:int track_count:int "
                "avatar_url:text banner_url:text verified:bool created_at:timestamp "
                "full_profile:bool scraped_at:timestamp"
            ),
            merge="profile",
            indexes=(("permalink",),),
        ),
        Table(
            "soundcloud_tracks", ("id",),
            cols(
                "id:bigint user_id:bigint title:text permalink_url:text genre:text tag_list:text "
                "duration_ms:bigint created_at:timestamp likes_count:bigint reposts_count:bigint "
                "playback_count:bigint comment_count:bigint artwork_url:text is_dj_set:bool "
                "scraped_at:timestamp"
            ),
            indexes=(("user_id",),),
        ),
        Table(
            # Popularity over time: one row per track per crawl that saw it
            # (schema migration 2; filled from every stored track row).
            "soundcloud_track_stats", ("track_id", "scraped_at"),
            cols("track_id:bigint scraped_at:timestamp playback_count:bigint likes_count:bigint "
                  "reposts_count:bigint comment_count:bigint"),
            merge="ignore",
        ),
        Table(
            "soundcloud_comments", ("id",),
            cols("id:bigint track_id:bigint user_id:bigint body:text timestamp_ms:bigint created_at:timestamp"),
            indexes=(("track_id",), ("user_id",)),
        ),
        Table(
            # One score per comment, by the model version named in the row;
            # `soundscraping sentiment` rescores rows of older versions
            # (schema migration 3).  NULL compound/label: a language the model
            # does not cover.
            "soundcloud_comment_sentiment", ("comment_id",),
            cols("comment_id:bigint compound:float label:text language:text model_version:text "
                 "scored_at:timestamp"),
        ),
        Table(
            # Peaks of timed-comment density along a track (schema migration
            # 3), rewritten whole per track by `soundscraping moments --all`.
            "soundcloud_track_moments", ("track_id", "start_ms"),
            cols("track_id:bigint start_ms:bigint end_ms:bigint peak_ms:bigint comment_count:int "
                 "mean_sentiment:float scored_comments:int density:float prominence:float "
                 "model_version:text computed_at:timestamp"),
        ),
        Table(
            "soundcloud_interactions", ("source_user_id", "kind", "target_user_id", "object_id"),
            cols("source_user_id:bigint kind:text target_user_id:bigint object_id:bigint created_at:timestamp"),
            merge="ignore",
            indexes=(("target_user_id",),),
            nullable_key=("object_id",),
        ),
        Table(
            # One row per account the graph crawl has fully visited: the
            # frontier is rebuilt from this and the interactions on a re-run.
            "soundcloud_graph_visits", ("user_id",),
            cols("user_id:bigint position:bigint score:float followers_count:int interactions:int "
                  "started_at:timestamp finished_at:timestamp"),
        ),
        Table(
            "beatport_tracks", ("id",),
            cols(
                "id:bigint soundcloud_track_id:bigint url:text name:text mix_name:text bpm:int key_name:text "
                "camelot:text genre:text sub_genre:text publish_date:date label:text catalog_number:text isrc:text "
                "artists:text[] remixers:text[] length_ms:bigint waveform_url:text artwork_url:text "
                "match_score:float scraped_at:timestamp sample_url:text sample_start_ms:bigint sample_end_ms:bigint"
            ),
            indexes=(("soundcloud_track_id",),),
        ),
        Table(
            # One row per searched SoundCloud track: matched or not, so that a
            # track without a Beatport release is not searched every run.
            "beatport_matches", ("soundcloud_track_id",),
            cols("soundcloud_track_id:bigint status:text beatport_track_id:bigint match_score:float query:text "
                  "candidates:int searched_at:timestamp"),
        ),
        Table(
            "cmt_songs", ("artist", "title"),
            cols(
                "artist:text title:text composer:text genre:text sub_genre:text full_tracks:int excerpt_tracks:int "
                "multitrack_urls:text[] excerpt_urls:text[] full_preview_url:text excerpt_preview_url:text "
                "unmastered_wav_url:text forum_fid:int external_download:bool registration_required:bool "
                "scraped_at:timestamp"
            ),
            indexes=(("forum_fid",),),
        ),
        Table(
            "cmt_forum_threads", ("tid",),
            cols("tid:bigint forum_fid:int title:text author:text started_at:timestamp views:int replies:int "
                  "rating:float"),
            indexes=(("forum_fid",),),
        ),
        Table(
            "cmt_forum_posts", ("pid",),
            cols("pid:bigint tid:bigint author:text posted_at:timestamp body_text:text"),
            indexes=(("tid",),),
        ),
        Table(
            "cmt_mixes", ("url", "pid"),
            cols("url:text pid:bigint tid:bigint kind:text host:text filename:text stored_path:text"),
            indexes=(("tid",),),
        ),
        Table(
            "media_files", ("url",),
            # role: what the file is to its owner (preview, waveform, artwork...;
            # schema migration 4), named by the item's FILE_ROLES.
            cols("url:text path:text checksum:text owner_table:text owner_id:text stored_at:timestamp role:text"),
            indexes=(("owner_table", "owner_id"),),
        ),
        Table(
            # Stems read from a Cambridge-MT song's stored multitrack ZIPs
            # (schema migration 5, `soundscraping cmt-postprocess`).
            "cmt_stems", ("artist", "title", "file_name"),
            cols("artist:text title:text file_name:text zip_path:text instrument_group:text channels:int "
                 "sample_rate:int duration_s:float peak_dbfs:float rms_dbfs:float processor_version:text "
                 "processed_at:timestamp"),
        ),
        Table(
            # A forum mix or library preview aligned to its song's summed stems.
            "cmt_mix_alignment", ("mix_url",),
            cols("mix_url:text artist:text title:text source:text path:text offset_ms:float confidence:float "
                 "gain_db:float aligned:bool flag:text processor_version:text processed_at:timestamp"),
            indexes=(("artist", "title"),),
        ),
        Table(
            # Loudness-normalised (-15 LUFS) features of each stem and mix.
            "cmt_audio_features", ("kind", "artist", "title", "name"),
            cols("kind:text artist:text title:text name:text loudness_lufs:float normalise_gain_db:float "
                 "rms_dbfs:float crest_factor_db:float dynamic_range_lu:float spectral_centroid_hz:float "
                 "spectral_rolloff_hz:float spectral_bandwidth_hz:float spectral_flatness:float "
                 "spectral_flux:float mfcc_means:text stereo_width:float imbalance_db:float "
                 "mid_side_ratio_db:float hnr_db:float processor_version:text processed_at:timestamp"),
        ),
        Table(
            # Songs post-processed, by processor version (resumable), or skipped and why.
            "cmt_postprocessed", ("artist", "title"),
            cols("artist:text title:text status:text stems:int mixes:int detail:text processor_version:text "
                 "processed_at:timestamp"),
        ),
        Table(
            # Tempo, key and loudness of a stored audio file (schema migration
            # 4), by `soundscraping audio-features`; re-analysed when the
            # analyser version changes.
            "audio_features", ("source_table", "source_id"),
            cols("source_table:text source_id:text media_url:text path:text bpm:float bpm_confidence:float "
                 "key:text scale:text key_strength:float loudness_lufs:float loudness_range_lu:float "
                 "duration_s:float error:text analyser:text analyser_version:text analysed_at:timestamp"),
        ),
    )
}

# History tables: every row stored into the first table also appends a row
# to the second, made of these columns of it (history column -> column).
HISTORY: dict[str, tuple[str, dict[str, str]]] = {
    "soundcloud_tracks": ("soundcloud_track_stats", {
        "track_id": "id", "scraped_at": "scraped_at", "playback_count": "playback_count",
        "likes_count": "likes_count", "reposts_count": "reposts_count", "comment_count": "comment_count",
    }),
}

@functools.cache
def _history_of(name: str) -> tuple[Table, tuple[int, ...]] | None:
    if name not in HISTORY:
        return None
    target, sources = HISTORY[name]
    history, source = TABLES[target], TABLES[name]
    return history, tuple(source.column_names.index(sources[c]) for c in history.column_names)


def history_row(table: Table, values: Values) -> tuple[Table, Values] | None:
    """The history row a row of ``table`` appends (None: no history, or no
    time to key it by)."""
    found = _history_of(table.name)
    if found is None:
        return None
    history, positions = found
    row = tuple(values[i] for i in positions)
    return None if any(row[i] is None for i in history.key_positions) else (history, row)


_PG_TYPES = {
    "bigint": "BIGINT", "int": "INTEGER", "text": "TEXT", "bool": "BOOLEAN",
    "timestamp": "TIMESTAMPTZ", "float": "DOUBLE PRECISION", "date": "DATE", "text[]": "TEXT[]",
}
_SQLITE_TYPES = {
    "bigint": "INTEGER", "int": "INTEGER", "text": "TEXT", "bool": "INTEGER",
    "timestamp": "TEXT", "float": "REAL", "date": "TEXT", "text[]": "TEXT",
}


class StorageError(RuntimeError):
    """The database cannot be reached (worth retrying)."""


class SchemaMismatch(StorageError):
    """The database's schema is not the one this code writes (older: run
    ``soundscraping db upgrade``; newer: update soundscraping).  Retrying
    cannot help; the message says what to run."""

    reason = "schema_mismatch"


class SchemaOutdated(SchemaMismatch):
    reason = "schema_outdated"


class SchemaTooNew(SchemaMismatch):
    reason = "schema_too_new"


class RowsRejected(StorageError):
    """The database refused the rows themselves (bad value, constraint):
    retrying the same batch cannot help; writing row by row isolates them."""


def default_database_url() -> str:
    """The DATABASE_URL setting (or environment variable), for commands run
    outside a crawl (``soundscraping map``, ``soundscraping db``)."""
    from soundscraping import settings

    return str(settings.DATABASE_URL)


def mask_url(url: str) -> str:
    """The database URL with any password replaced, fit for logs."""
    parsed = urlparse(url)
    if parsed.password:
        netloc = parsed.netloc.replace(f":{parsed.password}@", ":***@")
        return parsed._replace(netloc=netloc).geturl()
    return url


def merge_rows(table: Table, old: Row, new: Row) -> Row:
    """Combine two rows for the same key the way the database upsert would."""
    if table.merge == "ignore":
        return old
    if table.merge == "profile" and not new.get("full_profile"):
        base = old if old.get("full_profile") else new
        other = new if base is old else old
        merged = {k: (base.get(k) if base.get(k) is not None else other.get(k)) for k in table.column_names}
        merged["full_profile"] = bool(old.get("full_profile"))
        return merged
    return dict(new)


def merge_values(table: Table, old: Values, new: Values) -> Values:
    """``merge_rows`` for rows held as value tuples."""
    if table.merge == "overwrite":
        return new
    names = table.column_names
    merged = merge_rows(table, dict(zip(names, old, strict=True)), dict(zip(names, new, strict=True)))
    return tuple(merged[n] for n in names)


def _update_clause(table: Table, excluded: str) -> str:
    keys = set(table.key)
    sets = []
    for name in table.column_names:
        if name in keys:
            continue
        new, cur = f"{excluded}.{name}", f"{table.name}.{name}"
        if table.merge == "profile":
            if name == "full_profile":
                expr = f"({cur} OR {new})"
            else:
                # Full profile in: take it.  Mini in: fill only what is missing,
                # and refresh another mini's values.
                expr = (
                    f"CASE WHEN {excluded}.full_profile THEN {new} "
                    f"WHEN {table.name}.full_profile THEN COALESCE({cur}, {new}) "
                    f"ELSE COALESCE({new}, {cur}) END"
                )
        else:
            expr = new
        sets.append(f"{name} = {expr}")
    return ", ".join(sets)


def upsert_sql(table: Table, dialect: str) -> str:
    cols = ", ".join(table.column_names)
    key = ", ".join(table.key)
    if dialect == "postgresql":
        values, excluded = "%s", "EXCLUDED"
    else:
        values, excluded = "(" + ", ".join("?" for _ in table.columns) + ")", "excluded"
    if table.merge == "ignore":
        # No conflict target: the unique index may be on expressions.
        return f"INSERT INTO {table.name} ({cols}) VALUES {values} ON CONFLICT DO NOTHING"
    action = f"DO UPDATE SET {_update_clause(table, excluded)}"
    return f"INSERT INTO {table.name} ({cols}) VALUES {values} ON CONFLICT ({key}) {action}"


def column_type(column: Column, dialect: str) -> str:
    return (_PG_TYPES if dialect == "postgresql" else _SQLITE_TYPES)[column.kind]


def create_sql(table: Table, dialect: str) -> list[str]:
    cols = [f"{c.name} {column_type(c, dialect)}" for c in table.columns]
    unique_index = None
    if len(table.key) == 1:
        cols[table.key_positions[0]] += " PRIMARY KEY"
    elif table.nullable_key:
        parts = [f"COALESCE({k}, -1)" if k in table.nullable_key else k for k in table.key]
        unique_index = f"CREATE UNIQUE INDEX IF NOT EXISTS {table.name}_key ON {table.name} ({', '.join(parts)})"
    else:
        cols.append(f"UNIQUE ({', '.join(table.key)})")
    statements = [f"CREATE TABLE IF NOT EXISTS {table.name} ({', '.join(cols)})"]
    if unique_index:
        statements.append(unique_index)
    for index in table.indexes:
        name = f"{table.name}_{'_'.join(index)}_idx"
        statements.append(f"CREATE INDEX IF NOT EXISTS {name} ON {table.name} ({', '.join(index)})")
    return statements


class Database:
    """A connection to the dataset: ``ensure_schema()`` once, then ``write()``
    batches.  Not thread-safe by itself; the store pipeline serialises calls.

    The schema is built and changed by ordered migrations
    (soundscraping.migrations); ``ensure_schema()`` creates it in an empty
    database and refuses one at another version."""

    dialect = ""

    def __init__(self, url: str):
        self.url = url

    @staticmethod
    def from_url(url: str) -> Database:
        scheme = urlparse(url).scheme
        if scheme.startswith("postgres"):
            return PostgresDatabase(url)
        if scheme == "sqlite":
            return SqliteDatabase(url)
        raise StorageError(f"unsupported DATABASE_URL scheme {scheme!r} (use postgresql:// or sqlite:///)")

    def connect(self) -> None:
        raise NotImplementedError

    def ensure_schema(self) -> None:
        """Create the schema in an empty database; raise ``SchemaOutdated`` /
        ``SchemaTooNew`` for a database at another schema version."""
        from soundscraping.migrations import ensure_current

        ensure_current(self)

    def create_tables(self, tables: Iterable[Table]) -> None:
        """``CREATE TABLE/INDEX IF NOT EXISTS`` for ``tables``, unversioned
        (migrations and tests that build a database by hand)."""
        self.execute([s for table in tables for s in create_sql(table, self.dialect)])

    def execute(self, statements: Iterable[str | tuple[str, tuple[Any, ...]]]) -> None:
        """Run DDL/DML statements (``%s`` placeholders) in one transaction,
        serialised with other processes doing the same."""
        raise NotImplementedError

    def table_names(self) -> set[str]:
        raise NotImplementedError

    def column_names(self, table: str) -> list[str]:
        """The columns the table has in the database (empty: no such table)."""
        raise NotImplementedError

    def write(self, batch: Mapping[str, list[Values]]) -> None:
        """Upsert every table's rows (value tuples in column order) in one
        transaction."""
        raise NotImplementedError

    def query(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        """Rows of a read-only SELECT (``%s`` placeholders on both engines)."""
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError


class PostgresDatabase(Database):
    dialect = "postgresql"

    def __init__(self, url: str):
        super().__init__(url)
        self.conn: Any = None

    def connect(self) -> None:
        import psycopg2

        try:
            self.conn = psycopg2.connect(self.url, connect_timeout=10, application_name="soundscraping")
        except psycopg2.Error as exc:
            raise StorageError(f"cannot connect to {mask_url(self.url)}: {str(exc).strip().splitlines()[0]}") from exc

    def execute(self, statements: Iterable[str | tuple[str, tuple[Any, ...]]]) -> None:
        if self.conn is None or self.conn.closed:
            self.connect()
        with self.conn, self.conn.cursor() as cur:
            # Several workers may start at once: serialise the DDL.
            cur.execute("SELECT pg_advisory_xact_lock(727274)")
            for statement in statements:
                sql, params = (statement, ()) if isinstance(statement, str) else statement
                cur.execute(sql, params)

    def table_names(self) -> set[str]:
        rows = self.query("SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()")
        return {r[0] for r in rows}

    def column_names(self, table: str) -> list[str]:
        rows = self.query("SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() "
                          "AND table_name = %s ORDER BY ordinal_position", (table,))
        return [r[0] for r in rows]

    def write(self, batch: Mapping[str, list[Values]]) -> None:
        import psycopg2
        from psycopg2.extras import execute_values

        try:
            if self.conn is None or self.conn.closed:
                self.connect()
            with self.conn, self.conn.cursor() as cur:
                for name, rows in batch.items():
                    if rows:
                        # psycopg2 adapts lists to ARRAY and ISO strings to TIMESTAMPTZ.
                        execute_values(cur, upsert_sql(TABLES[name], self.dialect), rows, page_size=1000)
        except (psycopg2.OperationalError, psycopg2.InterfaceError) as exc:
            self.close()
            raise StorageError(f"database write failed: {str(exc).strip().splitlines()[0]}") from exc
        except psycopg2.Error as exc:
            raise RowsRejected(str(exc).strip().splitlines()[0]) from exc

    def query(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        if self.conn is None or self.conn.closed:
            self.connect()
        with self.conn, self.conn.cursor() as cur:
            cur.execute(sql, params)
            return cur.fetchall()

    def close(self) -> None:
        if self.conn is not None:
            with contextlib.suppress(Exception):  # closing a dead connection
                self.conn.close()
            self.conn = None


class SqliteDatabase(Database):
    dialect = "sqlite"

    def __init__(self, url: str):
        super().__init__(url)
        # sqlite:///relative.db → relative.db ; sqlite:////abs.db → /abs.db
        path = unquote(url[len("sqlite:///"):]) if url.startswith("sqlite:///") else ""
        if not path:
            raise StorageError(f"bad SQLite URL {url!r} (use sqlite:///path/to/file.sqlite3)")
        self.path = Path(path)
        self.conn: sqlite3.Connection | None = None
        self._lock = threading.Lock()

    def connect(self) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.conn = sqlite3.connect(self.path, check_same_thread=False, timeout=30)
            self.conn.execute("PRAGMA journal_mode=WAL")
            self.conn.execute("PRAGMA synchronous=NORMAL")
        except (OSError, sqlite3.Error) as exc:
            raise StorageError(f"cannot open SQLite database {self.path}: {exc}") from exc

    def execute(self, statements: Iterable[str | tuple[str, tuple[Any, ...]]]) -> None:
        if self.conn is None:
            self.connect()
        assert self.conn is not None
        with self._lock, self.conn:
            # Take the write lock first: two processes upgrading at once queue.
            self.conn.execute("BEGIN IMMEDIATE")
            for statement in statements:
                sql, params = (statement, ()) if isinstance(statement, str) else statement
                self.conn.execute(sql.replace("%s", "?"), params)

    def table_names(self) -> set[str]:
        return {r[0] for r in self.query("SELECT name FROM sqlite_master WHERE type = 'table'")}

    def column_names(self, table: str) -> list[str]:
        return [r[0] for r in self.query("SELECT name FROM pragma_table_info(%s)", (table,))]

    def write(self, batch: Mapping[str, list[Values]]) -> None:
        if self.conn is None:
            self.connect()
        assert self.conn is not None
        try:
            with self._lock, self.conn:
                for name, rows in batch.items():
                    if rows:
                        table = TABLES[name]
                        self.conn.executemany(upsert_sql(table, self.dialect), self._adapt(table, rows))
        except sqlite3.OperationalError as exc:
            raise StorageError(f"SQLite write failed: {exc}") from exc
        except sqlite3.Error as exc:
            raise RowsRejected(str(exc)) from exc

    def query(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        if self.conn is None:
            self.connect()
        assert self.conn is not None
        with self._lock:
            return self.conn.execute(sql.replace("%s", "?"), params).fetchall()

    @staticmethod
    def _adapt(table: Table, rows: list[Values]) -> Iterable[Values]:
        """SQLite has no arrays (JSON text instead) and stores booleans as 0/1."""
        special = [(i, c.kind) for i, c in enumerate(table.columns) if c.kind in ("text[]", "bool")]
        if not special:
            return rows
        adapted = []
        for row in rows:
            values = list(row)
            for i, kind in special:
                if values[i] is not None:
                    values[i] = json.dumps(list(values[i]), ensure_ascii=False) if kind == "text[]" else int(values[i])
            adapted.append(tuple(values))
        return adapted

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None
