"""The storage layer on both engines: one schema, idempotent batched upserts,
partial users never erasing full profiles, re-crawls refreshing counts."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from soundscraping.storage import TABLES, Database, RowsRejected
from tests.crawl import query

USERS = TABLES["soundcloud_users"]


def user(**values: object) -> tuple[object, ...]:
    row = dict.fromkeys(USERS.column_names)
    row.update(values)
    return tuple(row[c] for c in USERS.column_names)


def track(track_id: int, likes: int | None, title: str = "Tune") -> tuple[object, ...]:
    row = dict.fromkeys(TABLES["soundcloud_tracks"].column_names)
    row.update(id=track_id, user_id=1, title=title, likes_count=likes, is_dj_set=False,
               created_at="2024-09-01T17:45:16Z")
    return tuple(row[c] for c in TABLES["soundcloud_tracks"].column_names)


@pytest.fixture(params=["postgresql", "sqlite"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Database, str]]:
    url = request.getfixturevalue("pg_url") if request.param == "postgresql" else f"sqlite:///{tmp_path}/t.sqlite3"
    db = Database.from_url(url)
    db.connect()
    db.ensure_schema()
    db.ensure_schema()  # created on first use, and a second start is harmless
    yield db, url
    db.close()


def test_every_schema_table_exists_with_its_columns(database: tuple[Database, str]) -> None:
    _, url = database
    for table in TABLES.values():
        rows = query(url, f"SELECT * FROM {table.name} WHERE 1 = 0")
        assert rows == []
    if url.startswith("postgresql"):
        cols = {r[0] for r in query(url, "SELECT column_name FROM information_schema.columns "
                                         "WHERE table_name = 'soundcloud_comments'")}
        assert cols == {"id", "track_id", "user_id", "body", "timestamp_ms", "created_at", "crawl_run_id"}


def test_recrawl_updates_counts_without_duplicating(database: tuple[Database, str]) -> None:
    db, url = database
    db.write({"soundcloud_tracks": [track(1, 10), track(2, None)]})
    db.write({"soundcloud_tracks": [track(1, 25), track(3, 0)]})
    rows = dict(query(url, "SELECT id, likes_count FROM soundcloud_tracks ORDER BY id"))
    assert rows == {1: 25, 2: None, 3: 0}


def test_mini_user_never_overwrites_a_full_profile(database: tuple[Database, str]) -> None:
    db, url = database
    db.write({"soundcloud_users": [user(id=7, permalink="nova", description="bio", followings_count=3,
                                        followers_count=100, city="Oslo", full_profile=True)]})
    db.write({"soundcloud_users": [user(id=7, permalink="nova", followers_count=90, full_profile=False)]})
    assert query(url, "SELECT description, followings_count, followers_count, city, full_profile "
                      "FROM soundcloud_users") in ([("bio", 3, 100, "Oslo", True)], [("bio", 3, 100, "Oslo", 1)])


def test_full_profile_completes_a_mini_user(database: tuple[Database, str]) -> None:
    db, url = database
    db.write({"soundcloud_users": [user(id=8, permalink="x", followers_count=5, full_profile=False)]})
    db.write({"soundcloud_users": [user(id=8, permalink="x", description="now known", followers_count=6,
                                        full_profile=True)]})
    db.write({"soundcloud_users": [user(id=8, permalink="x", followers_count=1, full_profile=False)]})
    (description, followers, full), = query(url, "SELECT description, followers_count, full_profile "
                                                 "FROM soundcloud_users")
    assert (description, followers, bool(full)) == ("now known", 6, True)


def test_a_failed_batch_writes_nothing(pg_url: str) -> None:
    db = Database.from_url(pg_url)
    db.connect()
    db.ensure_schema()
    comments = TABLES["soundcloud_comments"].column_names
    bad_comment = tuple({"id": 9, "track_id": 4, "created_at": "not a timestamp"}.get(c) for c in comments)
    with pytest.raises(RowsRejected):
        db.write({"soundcloud_tracks": [track(4, 1)], "soundcloud_comments": [bad_comment]})
    db.close()
    assert query(pg_url, "SELECT count(*) FROM soundcloud_tracks") == [(0,)], "one transaction per batch"


