"""The schema rendered as each engine's SQL: column types, CREATE TABLE and
its indexes, the idempotent upsert that applies the merge rules."""

from __future__ import annotations

from soundscraping.storage.schema import CRAWL_RUN_ID, Column, Table

_PG_TYPES = {
    "bigint": "BIGINT", "int": "INTEGER", "text": "TEXT", "bool": "BOOLEAN",
    "timestamp": "TIMESTAMPTZ", "float": "DOUBLE PRECISION", "date": "DATE", "text[]": "TEXT[]",
}
_SQLITE_TYPES = {
    "bigint": "INTEGER", "int": "INTEGER", "text": "TEXT", "bool": "INTEGER",
    "timestamp": "TEXT", "float": "REAL", "date": "TEXT", "text[]": "TEXT",
}


def _update_clause(table: Table, excluded: str) -> str:
    keys = set(table.key)
    sets = []
    for name in table.column_names:
        if name in keys:
            continue
        new, cur = f"{excluded}.{name}", f"{table.name}.{name}"
        if name == CRAWL_RUN_ID.name:
            expr = new  # the run that last wrote the row, whatever it filled
        elif name in table.keep_known:
            expr = f"COALESCE({new}, {cur})"
        elif table.merge == "profile":
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


def add_columns_sql(table: Table, dialect: str, existing: set[str]) -> list[str]:
    """ALTER TABLE for columns added to the schema since the table was made
    (a dataset created by an older version keeps working)."""
    types = _PG_TYPES if dialect == "postgresql" else _SQLITE_TYPES
    return [f"ALTER TABLE {table.name} ADD COLUMN {c.name} {types[c.kind]}"
            for c in table.columns if c.name not in existing]
