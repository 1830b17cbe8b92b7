"""Ordered schema migrations for both engines, and the ``schema_version``
table that records which ones a database has.

Why versioned migration files and not Alembic: the schema is declared once,
as ``storage.Table`` objects rendered for PostgreSQL and SQLite, and the
project talks to both engines through psycopg2 and sqlite3 directly.  Alembic
needs SQLAlchemy and a second description of every table (its metadata or
hand-written ``op`` calls), and SQLite's ALTER limits need its batch mode;
that is a large dependency for what is here a short, ordered list of DDL
steps.  Each migration is a module ``mNNNN_<name>.py`` with ``VERSION``,
``NAME`` and ``upgrade(editor)``; its statements and its ``schema_version``
row are written in one transaction, so a failed upgrade changes nothing.

Migration 1 is the schema as of commit 56edc80 (before versions existed):
applied to a database made by that code it creates nothing new and records
version 1, so existing databases are recognised.  Later migrations are
frozen too: they never read ``storage.TABLES``, which always describes the
newest schema (tests/test_storage_migrations_e2e.py checks they agree).
"""

from __future__ import annotations

import importlib
import logging
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

from soundscraping.storage import (
    TABLES,
    Column,
    Database,
    SchemaOutdated,
    SchemaTooNew,
    Table,
    column_type,
    create_sql,
    mask_url,
)
from soundscraping.timestamps import utc_now

logger = logging.getLogger(__name__)

SCHEMA_VERSION = Table("schema_version", ("version",), (
    Column("version", "int"), Column("name", "text"), Column("applied_at", "timestamp")))


class SchemaEditor:
    """What a migration may do; it collects statements for one transaction."""

    def __init__(self, db: Database):
        self.db = db
        self.dialect = db.dialect
        self.statements: list[str | tuple[str, tuple[Any, ...]]] = []
        self._existing = db.table_names()

    def create_table(self, table: Table) -> None:
        """Create the table, or complete an existing one: its missing
        columns are added (a database made by an older, unversioned layout)."""
        if table.name in self._existing:
            have = set(self.db.column_names(table.name))
            for column in table.columns:
                if column.name not in have:
                    self.add_column(table.name, column)
        self.statements += create_sql(table, self.dialect)

    def add_column(self, table: str, column: Column) -> None:
        self.statements.append(f"ALTER TABLE {table} ADD COLUMN {column.name} {column_type(column, self.dialect)}")

    def sql(self, statement: str) -> None:
        self.statements.append(statement)


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    upgrade: Callable[[SchemaEditor], None] = field(compare=False)


def _load() -> tuple[Migration, ...]:
    found = []
    for info in pkgutil.iter_modules(__path__):
        if info.name.startswith("m") and info.name[1:5].isdigit():
            module: ModuleType = importlib.import_module(f"{__name__}.{info.name}")
            found.append(Migration(module.VERSION, module.NAME, module.upgrade))
    found.sort(key=lambda m: m.version)
    if [m.version for m in found] != list(range(1, len(found) + 1)):
        raise RuntimeError(f"migrations must be numbered 1..n without gaps: {[m.version for m in found]}")
    return tuple(found)


MIGRATIONS = _load()
LATEST = MIGRATIONS[-1].version


@dataclass(frozen=True)
class Status:
    version: int  # 0 = no schema_version table
    applied: list[tuple[int, str, Any]]  # (version, name, applied_at)
    has_tables: bool  # any dataset table exists

    @property
    def pending(self) -> list[Migration]:
        return [m for m in MIGRATIONS if m.version > self.version]


def status(db: Database) -> Status:
    tables = db.table_names()
    applied: list[tuple[int, str, Any]] = []
    if SCHEMA_VERSION.name in tables:
        applied = [tuple(r) for r in db.query("SELECT version, name, applied_at FROM schema_version "
                                              "ORDER BY version")]  # type: ignore[misc]
    version = max((r[0] for r in applied), default=0)
    return Status(version, applied, bool(tables & set(TABLES)))


def upgrade(db: Database, target: int = LATEST) -> list[Migration]:
    """Apply the pending migrations up to ``target``, each in its own
    transaction; returns those applied."""
    current = status(db).version
    if current > LATEST:
        raise SchemaTooNew(too_new_message(db, current))
    done = []
    for migration in MIGRATIONS:
        if current < migration.version <= target:
            editor = SchemaEditor(db)
            if migration.version == 1:
                editor.statements += create_sql(SCHEMA_VERSION, db.dialect)
            migration.upgrade(editor)
            now = utc_now()
            editor.statements.append(("INSERT INTO schema_version (version, name, applied_at) VALUES (%s, %s, %s) "
                                      "ON CONFLICT DO NOTHING", (migration.version, migration.name, now)))
            db.execute(editor.statements)
            logger.info("Schema migration %d applied: %s", migration.version, migration.name)
            done.append(migration)
    return done


def ensure_current(db: Database) -> None:
    """What a crawl does at start: an empty database gets the whole schema;
    one at an older or newer version is refused with the command to run."""
    if status(db).version == LATEST:
        return
    with db.schema_lock():  # another worker may be building it right now
        _ensure_current(db)


def _ensure_current(db: Database) -> None:
    state = status(db)
    if state.version == LATEST:
        return
    if state.version > LATEST:
        raise SchemaTooNew(too_new_message(db, state.version))
    if state.version == 0 and not state.has_tables:
        upgrade(db)
        return
    found = f"version {state.version}" if state.version else "no schema version (made before migrations existed)"
    raise SchemaOutdated(
        f"the database schema is older than this soundscraping ({found}, needs version {LATEST}): "
        f"run `soundscraping db upgrade --database-url {mask_url(db.url)}`")


def too_new_message(db: Database, version: int) -> str:
    return (f"the database schema (version {version}) is newer than this soundscraping knows (version {LATEST}): "
            f"update soundscraping (git pull && make install) before using {mask_url(db.url)}")
