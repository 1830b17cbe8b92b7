"""A connection to the dataset (PostgreSQL or SQLite, from DATABASE_URL):
batched upserts in one transaction each, so a failed flush leaves no
half-written rows; the schema built and checked by the migrations."""

from __future__ import annotations

import contextlib
import io
import json
import logging
import os
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from soundscraping.storage.schema import TABLES, Table, Values
from soundscraping.storage.sql import create_sql, upsert_sql

logger = logging.getLogger(__name__)


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


class WriteConflict(StorageError):
    """Another transaction won (deadlock or serialization failure): the
    batch was rolled back whole and is worth retrying at once."""


class RowsRejected(StorageError):
    """The database refused the rows themselves (bad value, constraint):
    retrying the same batch cannot help; writing row by row isolates them."""


def error_line(exc: BaseException) -> str:
    """The first line of a driver error (psycopg2 messages span several)."""
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


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


def complete_rows(table: Table, rows: list[Values]) -> list[Values]:
    """Rows of a crawled table written outside a crawl (a command, a test) may
    leave out the trailing ``crawl_run_id``: it is NULL then."""
    if table.crawled and rows and len(rows[0]) == len(table.columns) - 1:
        return [(*row, None) for row in rows]
    return rows


class Database:
    """A connection to the dataset: ``ensure_schema()`` once, then ``write()``
    batches.  Not thread-safe by itself; the store pipeline serialises calls.

    The schema is built and changed by ordered migrations
    (soundscraping.storage.migrations); ``ensure_schema()`` creates it in an empty
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
        from soundscraping.storage.migrations import ensure_current

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

    @contextlib.contextmanager
    def schema_lock(self) -> Iterator[None]:
        """Held while a crawl checks and builds the schema: N workers started
        at once on an empty database must not see each other's half-built
        one.  (SQLite: its migrations queue on the file's write lock.)"""
        yield

    def column_names(self, table: str) -> list[str]:
        """The columns the table has in the database (empty: no such table)."""
        raise NotImplementedError

    def write(self, batch: Mapping[str, list[Values]]) -> None:
        """Upsert every table's rows (value tuples in column order; see
        ``complete_rows``) in one transaction."""
        raise NotImplementedError

    def query(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        """Rows of a read-only SELECT (``%s`` placeholders on both engines)."""
        raise NotImplementedError

    def stream(self, sql: str, params: tuple[Any, ...] = (), chunk: int = 100_000) -> Iterator[list[tuple[Any, ...]]]:
        """Rows of a read-only SELECT in lists of at most ``chunk`` rows, never
        the whole result at once (a server-side cursor on PostgreSQL)."""
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

    @contextlib.contextmanager
    def schema_lock(self) -> Iterator[None]:
        if self.conn is None or self.conn.closed:
            self.connect()
        with self.conn, self.conn.cursor() as cur:
            # A session lock: it outlives the migrations' own transactions.
            cur.execute("SELECT pg_advisory_lock(727275)")
        try:
            yield
        finally:
            if not self.conn.closed:
                with self.conn, self.conn.cursor() as cur:
                    cur.execute("SELECT pg_advisory_unlock(727275)")

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
                for name, rows in in_lock_order(batch):
                    # psycopg2 adapts lists to ARRAY and ISO strings to TIMESTAMPTZ.
                    table = TABLES[name]
                    execute_values(cur, upsert_sql(table, self.dialect), complete_rows(table, rows), page_size=1000)
        except psycopg2.extensions.TransactionRollbackError as exc:
            raise WriteConflict(f"database write conflict: {str(exc).strip().splitlines()[0]}") from exc
        except (psycopg2.OperationalError, psycopg2.InterfaceError) as exc:
            self.close()
            # Leaving ``with self.conn`` rolls back, which on a connection the
            # server dropped (a restart) raises "connection already closed"
            # over the error that says what happened.
            cause = exc.__context__ if isinstance(exc, psycopg2.InterfaceError) else None
            reason = cause if isinstance(cause, psycopg2.Error) else exc
            raise StorageError(f"database write failed: {error_line(reason)}") from exc
        except psycopg2.Error as exc:
            raise RowsRejected(str(exc).strip().splitlines()[0]) from exc

    def query(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        if self.conn is None or self.conn.closed:
            self.connect()
        with self.conn, self.conn.cursor() as cur:
            cur.execute(sql, params)
            return cur.fetchall()

    def stream(self, sql: str, params: tuple[Any, ...] = (), chunk: int = 100_000) -> Iterator[list[tuple[Any, ...]]]:
        if self.conn is None or self.conn.closed:
            self.connect()
        with self.conn:  # one transaction: a named cursor lives inside it
            with self.conn.cursor() as cur:
                # Streamed reads are the big aggregations: let a GROUP BY hash
                # in memory instead of spilling to disk.
                cur.execute("SET LOCAL work_mem = '256MB'")
                # ...and they read the whole result: plan for all rows, not
                # for the first 10% (a cursor's default favours index scans
                # that visit the heap in random order).
                cur.execute("SET LOCAL cursor_tuple_fraction = 1.0")
            with self.conn.cursor(name="soundscraping_stream") as cur:
                cur.itersize = chunk
                cur.execute(sql, params)
                while rows := cur.fetchmany(chunk):
                    yield rows

    @contextlib.contextmanager
    def copy_csv(self, sql: str, params: tuple[Any, ...] = ()) -> Iterator[io.BufferedReader]:
        """The rows of a read-only SELECT as CSV (``COPY ... TO STDOUT``: NULL
        unquoted-empty, an empty string ``""``), read from the file this
        yields while the server writes them (a pipe fed by a worker thread:
        memory holds a pipe's worth, whatever the result's size)."""
        if self.conn is None or self.conn.closed:
            self.connect()
        with self.conn.cursor() as cur:
            query = cur.mogrify(sql, params).decode()
        read_fd, write_fd = os.pipe()
        failure: list[BaseException] = []

        def produce() -> None:
            with open(write_fd, "wb") as sink, self.conn.cursor() as cur:
                try:
                    cur.execute("SET LOCAL work_mem = '256MB'")
                    cur.copy_expert(f"COPY ({query}) TO STDOUT WITH (FORMAT csv)", sink, size=1 << 20)
                except BaseException as exc:  # noqa: BLE001 - handed to the reader's thread
                    failure.append(exc)

        worker = threading.Thread(target=produce, name="soundscraping-copy", daemon=True)
        reader = open(read_fd, "rb")  # closed below, before the worker is joined
        worker.start()
        try:
            yield reader
        finally:
            reader.close()  # an unfinished read: the worker's next write fails and it stops
            worker.join()
            self.conn.rollback()
        if failure and not isinstance(failure[0], BrokenPipeError):
            raise failure[0]

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
                        self.conn.executemany(upsert_sql(table, self.dialect),
                                              self._adapt(table, complete_rows(table, rows)))
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

    def stream(self, sql: str, params: tuple[Any, ...] = (), chunk: int = 100_000) -> Iterator[list[tuple[Any, ...]]]:
        if self.conn is None:
            self.connect()
        assert self.conn is not None
        cur = self.conn.execute(sql.replace("%s", "?"), params)
        try:
            while rows := cur.fetchmany(chunk):
                yield rows
        finally:
            cur.close()

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


def _key_order(table: Table) -> Any:
    at = table.key_positions

    def key(row: Values) -> tuple[Any, ...]:
        # NULL (a nullable key part) first; no comparison of None with values.
        return tuple((row[i] is not None, row[i] if row[i] is not None else 0) for i in at)

    return key


def in_lock_order(batch: Mapping[str, list[Values]]) -> Iterator[tuple[str, list[Values]]]:
    """A batch's tables in schema order and each table's rows in key order.
    Concurrent workers upserting overlapping rows then take their row locks
    in the same order, so their transactions queue instead of deadlocking
    (two transactions each holding a row the other needs)."""
    for name in sorted(batch, key=list(TABLES).index):
        rows = batch[name]
        if rows:
            yield name, sorted(rows, key=_key_order(TABLES[name]))


@contextlib.contextmanager
def connected(url: str) -> Iterator[Database]:
    """The dataset at ``url``, connected and at the current schema, closed
    afterwards (for a spider's or a command's reads)."""
    db = Database.from_url(url)
    try:
        db.connect()
        db.ensure_schema()
        yield db
    finally:
        db.close()
