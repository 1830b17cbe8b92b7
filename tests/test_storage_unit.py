"""The storage layer without a database server: URL schemes, masked passwords
in errors, how list columns are declared and adapted per engine."""

from __future__ import annotations

import pytest

from soundscraping.storage import Database, StorageError, create_sql, mask_url


def test_unreachable_database_is_a_clear_error_without_password() -> None:
    db = Database.from_url("postgresql://postgres:hunter2@127.0.0.1:9/none")
    with pytest.raises(StorageError) as error:
        db.connect()
    assert "hunter2" not in str(error.value) and "postgres:***@127.0.0.1:9/none" in str(error.value)


def test_unknown_scheme_is_rejected() -> None:
    with pytest.raises(StorageError, match="unsupported DATABASE_URL scheme"):
        Database.from_url("mysql://x@y/z")


def test_mask_url_hides_only_the_password() -> None:
    assert mask_url("postgresql://u:p4ss@h:5432/db") == "postgresql://u:***@h:5432/db"
    assert mask_url("sqlite:///data/x.sqlite3") == "sqlite:///data/x.sqlite3"


def test_list_columns_are_arrays_in_postgresql_and_json_in_sqlite() -> None:
    from soundscraping.storage import Column, Table

    table = Table("t", ("id",), (Column("id", "bigint"), Column("artists", "text[]")))
    assert "artists TEXT[]" in create_sql(table, "postgresql")[0]
    assert "artists TEXT" in create_sql(table, "sqlite")[0]
    adapted = list(Database.from_url("sqlite:///x.db")._adapt(table, [(1, ["A", "Ø"])]))
    assert adapted == [(1, '["A", "Ø"]')]
