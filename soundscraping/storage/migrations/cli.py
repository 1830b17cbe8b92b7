"""``soundscraping db status`` and ``soundscraping db upgrade``."""

from __future__ import annotations

import argparse
import sqlite3
import sys

from soundscraping.storage import (
    Database,
    SqliteDatabase,
    StorageError,
    default_database_url,
    error_line,
    mask_url,
)
from soundscraping.storage.migrations import LATEST, MIGRATIONS, status, upgrade


def add_arguments(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="db_command", required=True, metavar="action")
    for name, help_text in (("status", "show the schema version and the pending migrations "
                                       "(exit 0: up to date, 1: migrations pending)"),
                            ("upgrade", "apply the pending migrations, each in one transaction")):
        action = actions.add_parser(name, help=help_text, description=help_text)
        action.add_argument("--database-url", default=None,
                            help="database (default: the DATABASE_URL setting/env var, "
                                 "sqlite:///data/soundscraping.sqlite3)")


def run_cli(args: argparse.Namespace, prog: str = "soundscraping db") -> int:
    """Run with parsed arguments; mistakes and database errors become one
    stderr line and exit 2."""
    import psycopg2

    url = args.database_url or default_database_url()
    try:
        db = Database.from_url(url)
        if isinstance(db, SqliteDatabase) and not db.path.exists() and args.db_command == "status":
            print(f"{mask_url(url)}: no database yet ({db.path} does not exist); "
                  f"a crawl or `soundscraping db upgrade` creates it at version {LATEST}")
            return 1
        db.connect()
        try:
            return _upgrade(db) if args.db_command == "upgrade" else _status(db)
        finally:
            db.close()
    except StorageError as exc:
        print(f"{prog}: error: {exc}", file=sys.stderr)
        return 2
    except (psycopg2.Error, sqlite3.Error) as exc:
        print(f"{prog}: error: database error: {error_line(exc)}", file=sys.stderr)
        return 2


def _status(db: Database) -> int:
    state = status(db)
    print(f"database: {mask_url(db.url)}")
    if state.version == 0:
        found = "unversioned (tables made before migrations existed)" if state.has_tables else "empty"
        print(f"schema version: {found}; this soundscraping: {LATEST}")
    else:
        print(f"schema version: {state.version}; this soundscraping: {LATEST}")
    for version, name, applied_at in state.applied:
        print(f"  applied  {version:>4}  {name}  ({applied_at})")
    if state.version > LATEST:
        print("the database is newer than this soundscraping: update it (git pull && make install)")
        return 2
    for migration in state.pending:
        print(f"  pending  {migration.version:>4}  {migration.name}")
    if state.pending:
        print(f"run `soundscraping db upgrade --database-url {mask_url(db.url)}` to apply them")
        return 1
    print("up to date")
    return 0


def _upgrade(db: Database) -> int:
    before = status(db).version
    applied = upgrade(db)
    for migration in applied:
        print(f"applied {migration.version}: {migration.name}")
    if not applied:
        print(f"{mask_url(db.url)} is up to date (schema version {before})")
    else:
        print(f"{mask_url(db.url)} upgraded from schema version {before} to {applied[-1].version} "
              f"(of {len(MIGRATIONS)})")
    return 0
