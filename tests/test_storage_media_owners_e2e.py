"""Migration 8 on a database a version-7 crawl left (``media_files.owner_id``
as text, no roles for SoundCloud files, no waveform URL in the tracks): after
``soundscraping db upgrade`` the ids compare as BIGINT, other keys are kept in
``owner_key``, each file knows its role and the URL its owner row holds, and
the documented JOINs return every stored file.  Both engines (SQLite rebuilds
the table)."""

from __future__ import annotations

from pathlib import Path

import pytest

from soundscraping.storage import Database
from soundscraping.storage.export_queries import MEDIA_JOINS, MEDIA_URL_JOINS
from soundscraping.storage.migrations import LATEST, upgrade
from tests.crawl import query
from tests.test_storage_migrations_e2e import column_types, db_command

AVATAR = "https://i1.sndcdn.com/avatars-abc-large.jpg"
ARTWORK = "https://i1.sndcdn.com/artworks-def-large.jpg"
WAVEFORM = "https://wave.sndcdn.com/xyz_m.json"
PREVIEW = "https://cambridge-mt.example/Band_Song_Preview.mp3"
MIX = "https://discussion.example/attachment.php?aid=9"
NOW = "2026-01-05T10:00:00Z"
# (url, path, checksum, owner_table, owner_id as version 7 wrote it, stored_at, role)
OLD_MEDIA = [
    (AVATAR.replace("-large", "-t500x500"), "soundcloud_users/a.jpg", "c1", "soundcloud_users", "17", NOW, None),
    (ARTWORK.replace("-large", "-t500x500"), "soundcloud_tracks/b.jpg", "c2", "soundcloud_tracks", "1700", NOW, None),
    (WAVEFORM, "soundcloud_tracks/c.json", "c3", "soundcloud_tracks", "1700", NOW, None),
    (PREVIEW, "cmt_songs/d.mp3", "c4", "cmt_songs", "Band / Song", NOW, "preview"),
    (MIX, "cmt_mixes/e.mp3", "c5", "cmt_mixes", f"{MIX} / 90", NOW, "mix"),
]


@pytest.fixture(params=["postgresql", "sqlite"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "postgresql":
        return str(request.getfixturevalue("pg_url"))
    return f"sqlite:///{tmp_path}/data.sqlite3"


def test_version_7_media_rows_join_their_owners_after_the_upgrade(database_url: str) -> None:
    db = Database.from_url(database_url)
    db.connect()
    upgrade(db, target=7)
    true = "TRUE" if db.dialect == "postgresql" else "1"
    db.execute([
        f"INSERT INTO soundcloud_users (id, permalink, avatar_url, full_profile) "
        f"VALUES (17, 'old', '{AVATAR}', {true})",
        f"INSERT INTO soundcloud_tracks (id, user_id, title, artwork_url) VALUES (1700, 17, 'Old Tune', '{ARTWORK}')",
        f"INSERT INTO cmt_songs (artist, title, full_preview_url) VALUES ('Band', 'Song', '{PREVIEW}')",
        f"INSERT INTO cmt_mixes (url, pid, tid, kind) VALUES ('{MIX}', 90, 9, 'attachment')",
        *[("INSERT INTO media_files (url, path, checksum, owner_table, owner_id, stored_at, role) "
           "VALUES (%s, %s, %s, %s, %s, %s, %s)", row) for row in OLD_MEDIA],
    ])
    db.close()
    assert column_types(database_url)[("media_files", "owner_id")] == "TEXT"

    done = db_command("upgrade", "--database-url", database_url)
    assert done.returncode == 0, done.stderr
    assert f"to {LATEST}" in done.stdout
    assert column_types(database_url)[("media_files", "owner_id")] in ("BIGINT", "INTEGER")

    rows = {r[0]: r[1:] for r in query(database_url, "SELECT url, path, checksum, owner_table, owner_id, owner_key, "
                                                     "role, owner_url, crawl_run_id FROM media_files")}
    assert rows == {
        OLD_MEDIA[0][0]: ("soundcloud_users/a.jpg", "c1", "soundcloud_users", 17, "17", "avatar", AVATAR, None),
        OLD_MEDIA[1][0]: ("soundcloud_tracks/b.jpg", "c2", "soundcloud_tracks", 1700, "1700", "artwork", ARTWORK,
                          None),
        WAVEFORM: ("soundcloud_tracks/c.json", "c3", "soundcloud_tracks", 1700, "1700", "waveform", WAVEFORM, None),
        PREVIEW: ("cmt_songs/d.mp3", "c4", "cmt_songs", None, "Band / Song", "preview", PREVIEW, None),
        MIX: ("cmt_mixes/e.mp3", "c5", "cmt_mixes", None, f"{MIX} / 90", "mix", MIX, None),
    }
    assert query(database_url, "SELECT waveform_url FROM soundcloud_tracks") == [(WAVEFORM,)]
    joined = {row[-2] for sql in MEDIA_JOINS.values() for row in query(database_url, sql)}
    assert joined == set(rows), "every stored file joins its owner"
    by_url = {row[1] for sql in MEDIA_URL_JOINS.values() for row in query(database_url, sql)}
    assert by_url == {OLD_MEDIA[0][0], OLD_MEDIA[1][0], WAVEFORM}
    # The index the owner JOIN uses survived the SQLite rebuild.
    if database_url.startswith("sqlite"):
        indexes = {r[0] for r in query(database_url, "SELECT name FROM sqlite_master WHERE type = 'index' "
                                                     "AND tbl_name = 'media_files'")}
        assert {"media_files_owner_table_owner_id_idx", "media_files_owner_url_idx"} <= indexes
