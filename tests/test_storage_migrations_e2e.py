"""Schema migrations on both engines: a database made by the code at commit
56edc80 (before versions existed) is recognised, refused by a crawl until
``soundscraping db upgrade`` runs, and then crawled with nothing lost."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import psycopg2
import pytest

from replicas.soundcloud import Quirks, SoundCloudReplica, WorldConfig, build_world
from soundscraping.storage import TABLES, Database, SchemaOutdated, SchemaTooNew, column_type, create_sql
from soundscraping.storage.migrations import LATEST, MIGRATIONS
from soundscraping.storage.migrations import m0001_baseline as baseline
from tests.crawl import REPO, query, run_crawl
from tests.test_soundcloud_artists_e2e import artist_refs, assert_dataset_matches_world, expected_tracks, site_env

FIXTURES = Path(__file__).parent / "fixtures" / "schema_56edc80"

# Rows a researcher already had in the 56edc80 database (ids the replica world never uses).
OLD_ROWS = [
    "INSERT INTO soundcloud_users (id, permalink, username, followers_count, full_profile, scraped_at) "
    "VALUES (17, 'old-timer', 'Old Timer', 321, {true}, '2026-01-05T10:00:00Z')",
    "INSERT INTO soundcloud_tracks (id, user_id, title, likes_count, is_dj_set, scraped_at) "
    "VALUES (1700, 17, 'Old Tune', 12, {false}, '2026-01-05T10:00:00Z')",
    "INSERT INTO soundcloud_comments (id, track_id, user_id, body) VALUES (170000, 1700, 17, 'first!')",
    "INSERT INTO soundcloud_interactions (source_user_id, kind, target_user_id, object_id) "
    "VALUES (17, 'follow', 18, NULL)",
    "INSERT INTO cmt_songs (artist, title, multitrack_urls, scraped_at) "
    "VALUES ('Band', 'Song', {urls}, '2026-01-05T10:00:00Z')",
]
OLD_SELECTS = {
    "soundcloud_users": "SELECT id, permalink, username, followers_count FROM soundcloud_users WHERE id = 17",
    "soundcloud_tracks": "SELECT id, user_id, title, likes_count FROM soundcloud_tracks WHERE id = 1700",
    "soundcloud_comments": "SELECT id, track_id, body FROM soundcloud_comments WHERE id = 170000",
    "soundcloud_interactions": "SELECT source_user_id, kind, target_user_id FROM soundcloud_interactions "
                               "WHERE source_user_id = 17",
    "cmt_songs": "SELECT artist, title, multitrack_urls FROM cmt_songs",
}


def make_56edc80_database(url: str) -> dict[str, list[tuple[Any, ...]]]:
    """A database as the 56edc80 code left it: its DDL, plus some rows."""
    if url.startswith("sqlite:///"):
        conn = sqlite3.connect(url[len("sqlite:///"):])
        conn.executescript((FIXTURES / "sqlite.sql").read_text())
        for sql in OLD_ROWS:
            conn.execute(sql.format(true=1, false=0, urls="'[\"https://x/a.zip\"]'"))
        conn.commit()
        conn.close()
    else:
        conn = psycopg2.connect(url)
        with conn, conn.cursor() as cur:
            cur.execute((FIXTURES / "postgresql.sql").read_text())
            for sql in OLD_ROWS:
                cur.execute(sql.format(true="TRUE", false="FALSE", urls="ARRAY['https://x/a.zip']"))
        conn.close()
    return old_rows(url)


def old_rows(url: str) -> dict[str, list[tuple[Any, ...]]]:
    return {table: query(url, sql) for table, sql in OLD_SELECTS.items()}


def remove_old_rows(url: str) -> None:
    db = Database.from_url(url)
    db.connect()
    db.execute(["DELETE FROM soundcloud_users WHERE id = 17", "DELETE FROM soundcloud_tracks WHERE id = 1700",
                "DELETE FROM soundcloud_comments WHERE id = 170000"])
    db.close()


def db_command(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "soundscraping", "db", *args], cwd=REPO, capture_output=True,
                          text=True, timeout=120)


@pytest.fixture(params=["postgresql", "sqlite"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "postgresql":
        return str(request.getfixturevalue("pg_url"))
    return f"sqlite:///{tmp_path}/data.sqlite3"


def columns(url: str) -> dict[str, list[str]]:
    db = Database.from_url(url)
    db.connect()
    try:
        return {name: db.column_names(name) for name in db.table_names()}
    finally:
        db.close()


def column_types(url: str) -> dict[tuple[str, str], str]:
    """(table, column) -> the type the database declares (first word, upper case)."""
    if url.startswith("sqlite:///"):
        tables = [r[0] for r in query(url, "SELECT name FROM sqlite_master WHERE type = 'table'")]
        found = {(t, r[0]): r[1] for t in tables
                 for r in query(url, f"SELECT name, type FROM pragma_table_info('{t}')")}
    else:
        found = {(r[0], r[1]): r[2] for r in query(url, "SELECT table_name, column_name, data_type FROM "
                                                       "information_schema.columns WHERE table_schema = 'public'")}
        aliases = {"timestamp": "TIMESTAMPTZ", "double": "DOUBLE", "array": "TEXT[]"}
        found = {k: aliases.get(v.split()[0].lower(), v.split()[0].upper()) for k, v in found.items()}
    return {k: v.split()[0].upper() for k, v in found.items() if k[0] != "schema_version"}


def api_requests(replica: SoundCloudReplica) -> int:
    return sum(v for k, v in replica.stats.items() if k.startswith("api_") and isinstance(v, int))


def test_56edc80_database_is_refused_then_upgraded_and_crawled_with_nothing_lost(
        tmp_path: Path, database_url: str) -> None:
    before = make_56edc80_database(database_url)
    assert all(before.values())

    status = db_command("status", "--database-url", database_url)
    assert status.returncode == 1, status.stdout + status.stderr
    assert "unversioned" in status.stdout and "pending     1  baseline" in status.stdout

    world = build_world(WorldConfig(artists=3, tracks_per_artist=4, comments_per_track=6))
    with SoundCloudReplica(world, Quirks(datadome=False)) as replica:
        args, env = {"artists": artist_refs(world, replica)}, site_env(replica)
        settings = {"DATABASE_URL": database_url, "MEDIA_ENABLED": False}
        refused = run_crawl("soundcloud_artists", tmp_path, args=args, env=env, settings=settings, run="refused")
        assert refused.returncode == 2, refused.log[-2000:]
        assert refused.stats["finish_reason"] == "schema_outdated"
        errors = [line for line in refused.log.splitlines() if " ERROR: " in line]
        assert len(errors) == 1 and "older than this soundscraping" in errors[0]
        assert "run `soundscraping db upgrade --database-url" in errors[0]
        assert "Traceback" not in refused.log
        assert api_requests(replica) == 0, "nothing is fetched for a database that cannot take the rows"
        assert old_rows(database_url) == before

        upgraded = db_command("upgrade", "--database-url", database_url)
        assert upgraded.returncode == 0, upgraded.stderr
        assert f"upgraded from schema version 0 to {LATEST}" in upgraded.stdout
        assert db_command("status", "--database-url", database_url).returncode == 0

        result = run_crawl("soundcloud_artists", tmp_path, args=args, env=env, settings=settings)
        again = run_crawl("soundcloud_artists", tmp_path, args=args, env=env, settings=settings, run="again")
    assert result.returncode == 0, result.log[-3000:]
    assert again.returncode == 0, again.log[-3000:]
    assert old_rows(database_url) == before, "the rows of the old database are all still there"
    # Without them, the dataset is exactly the crawl's (nothing else, nothing missing).
    remove_old_rows(database_url)
    assert_dataset_matches_world(database_url, world)
    history = query(database_url, "SELECT track_id, count(*) FROM soundcloud_track_stats GROUP BY track_id")
    assert dict(history) == dict.fromkeys(expected_tracks(world), 2), "each crawl appends a track's counts"


def test_migrations_build_exactly_the_schema_the_code_writes(database_url: str) -> None:
    db = Database.from_url(database_url)
    db.connect()
    db.ensure_schema()  # an empty database gets every migration
    db.ensure_schema()  # and a second start is harmless
    db.close()
    have = columns(database_url)
    assert have.pop("schema_version") == ["version", "name", "applied_at"]
    assert have == {name: list(t.column_names) for name, t in TABLES.items()}
    assert column_types(database_url) == {(t.name, c.name): column_type(c, db.dialect).split()[0]
                                          for t in TABLES.values() for c in t.columns}
    applied = query(database_url, "SELECT version, name FROM schema_version ORDER BY version")
    assert applied == [(m.version, m.name) for m in MIGRATIONS]


def test_baseline_migration_is_the_56edc80_schema() -> None:
    for dialect in ("postgresql", "sqlite"):
        fixture = [line.rstrip(";") for line in (FIXTURES / f"{dialect}.sql").read_text().splitlines()
                   if line and not line.startswith("--")]
        frozen = [s for table in baseline.TABLES.values() for s in create_sql(table, dialect)]
        assert frozen == fixture, dialect


def test_a_newer_schema_is_refused_with_the_fix(database_url: str, tmp_path: Path) -> None:
    db = Database.from_url(database_url)
    db.connect()
    db.ensure_schema()
    db.execute([("INSERT INTO schema_version (version, name, applied_at) VALUES (%s, %s, %s)",
                 (LATEST + 1, "from the future", "2030-01-01T00:00:00Z"))])
    with pytest.raises(SchemaTooNew, match=r"newer than this soundscraping.*update soundscraping"):
        db.ensure_schema()
    db.close()
    status = db_command("status", "--database-url", database_url)
    assert status.returncode == 2 and "newer than this soundscraping" in status.stdout
    upgrade = db_command("upgrade", "--database-url", database_url)
    assert upgrade.returncode == 2 and upgrade.stderr.count("\n") == 1 and "update soundscraping" in upgrade.stderr

    result = run_crawl("soundcloud_artists", tmp_path, args={"artists": "anyone"},
                       settings={"DATABASE_URL": database_url, "SOUNDCLOUD_CLIENT_ID": "x",
                                 "SOUNDCLOUD_API_URL": "http://127.0.0.1:9"})
    assert result.returncode == 2
    assert result.stats["finish_reason"] == "schema_too_new"
    assert "Traceback" not in result.log


def test_a_database_older_than_the_baseline_is_completed(tmp_path: Path) -> None:
    """The issue's case: an SQLite file from before full_profile existed
    (every write failed with "no column named full_profile")."""
    url = f"sqlite:///{tmp_path}/older.sqlite3"
    conn = sqlite3.connect(tmp_path / "older.sqlite3")
    conn.execute("CREATE TABLE soundcloud_users (id INTEGER PRIMARY KEY, permalink TEXT, username TEXT)")
    conn.execute("INSERT INTO soundcloud_users VALUES (5, 'early', 'Early Bird')")
    conn.commit()
    conn.close()
    db = Database.from_url(url)
    db.connect()
    with pytest.raises(SchemaOutdated, match="soundscraping db upgrade"):
        db.ensure_schema()
    db.close()
    assert db_command("upgrade", "--database-url", url).returncode == 0
    assert columns(url)["soundcloud_users"] == list(TABLES["soundcloud_users"].column_names)
    assert query(url, "SELECT id, permalink, username, full_profile FROM soundcloud_users") == [
        (5, "early", "Early Bird", None)]


def test_db_commands_report_user_mistakes_in_one_line() -> None:
    result = db_command("status", "--database-url", "mysql://u@h/db")
    assert result.returncode == 2
    assert result.stderr.strip() == ("soundscraping db: error: unsupported DATABASE_URL scheme 'mysql' "
                                     "(use postgresql:// or sqlite:///)")
    result = db_command("upgrade", "--database-url", "postgresql://postgres:s3cret@127.0.0.1:9/none")
    assert result.returncode == 2 and result.stderr.count("\n") == 1
    assert "s3cret" not in result.stderr and "postgres:***@127.0.0.1:9/none" in result.stderr
