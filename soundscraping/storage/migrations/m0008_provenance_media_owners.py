"""Migration 8: provenance, and media that joins with its owners.

- ``crawl_runs``: one row per crawl (spider, arguments, settings with secrets
  masked, version and commit, start, end, finish reason, stats);
- ``crawl_run_id`` on every table a crawl writes: the run that last wrote the
  row (NULL for rows stored before this migration);
- ``soundcloud_tracks.waveform_url``: the waveform JSON's URL, which was only
  kept in ``media_files`` (filled from there for existing rows);
- ``media_files``: ``owner_id`` becomes BIGINT (it held the owner's key as
  text: an integer id is kept, other keys such as "artist / title" become
  NULL); ``owner_key`` keeps the key as text for every owner; ``owner_url``
  is the URL as the owner row stores it (``url`` is what was downloaded:
  SoundCloud images at 500x500 while the row keeps ``-large.jpg``).  Existing
  rows get ``owner_url`` and, where it was NULL, ``role`` from their owner
  row.  PostgreSQL retypes the column in place; SQLite cannot, so the table is
  rebuilt (same rows, same indexes).
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any

from soundscraping.storage import Column, Table, cols, create_sql

if TYPE_CHECKING:
    from soundscraping.storage.migrations import SchemaEditor

VERSION = 8
NAME = "crawl_runs, crawl_run_id, soundcloud_tracks.waveform_url, media_files owner_id BIGINT/owner_key/owner_url"

CRAWL_RUNS = Table(
    "crawl_runs", ("id",),
    cols("id:bigint spider:text job:text arguments:text settings:text version:text git_commit:text "
         "started_at:timestamp finished_at:timestamp finish_reason:text stats:text"),
)
CRAWLED = ("soundcloud_users", "soundcloud_tracks", "soundcloud_track_stats", "soundcloud_comments",
           "soundcloud_interactions", "soundcloud_graph_visits", "beatport_tracks", "beatport_matches", "cmt_songs",
           "cmt_forum_threads", "cmt_forum_posts", "cmt_mixes", "crawl_units", "media_files")
MEDIA_FILES = Table(
    "media_files", ("url",),
    cols("url:text path:text checksum:text owner_table:text owner_id:bigint stored_at:timestamp role:text "
         "owner_key:text owner_url:text crawl_run_id:bigint"),
    indexes=(("owner_table", "owner_id"), ("owner_url",)),
)

# The owners' URL columns and the role of a file fetched from each (frozen:
# the item classes' FILE_ROLES when this migration was written).
OWNER_URLS: dict[str, dict[str, str]] = {
    "soundcloud_users": {"avatar_url": "avatar", "banner_url": "banner"},
    "soundcloud_tracks": {"artwork_url": "artwork"},
    "beatport_tracks": {"sample_url": "preview", "waveform_url": "waveform", "artwork_url": "artwork"},
    "cmt_songs": {"multitrack_urls": "multitrack", "excerpt_urls": "excerpt_multitrack",
                  "full_preview_url": "preview", "excerpt_preview_url": "excerpt_preview",
                  "unmastered_wav_url": "unmastered_mix"},
    "cmt_mixes": {"url": "mix"},
}
# How each owner's key was written into the old owner_id.
OWNER_KEYS = {"soundcloud_users": "CAST(o.id AS TEXT)", "soundcloud_tracks": "CAST(o.id AS TEXT)",
              "beatport_tracks": "CAST(o.id AS TEXT)", "cmt_songs": "o.artist || ' / ' || o.title",
              "cmt_mixes": "o.url || ' / ' || CAST(o.pid AS TEXT)"}
# SoundCloud images were fetched at 500x500 (frozen copy of the rule).
_IMAGE_SIZE = re.compile(r"-(large|t500x500|original|t300x300|crop|small|badge|tiny|mini)\.(jpg|jpeg|png)$")


def _fetched(url: str) -> str:
    if "default_avatar" in url:
        return url
    return _IMAGE_SIZE.sub(lambda m: f"-t500x500.{m.group(2)}", url)


def _values(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, list):
        return [v for v in value if isinstance(v, str)]
    if isinstance(value, str) and value.startswith("["):  # an SQLite list column (JSON text)
        try:
            return [v for v in json.loads(value) if isinstance(v, str)]
        except ValueError:
            return [value]
    return [str(value)]


def _backfill(editor: SchemaEditor) -> list[tuple[str, tuple[Any, ...]]]:
    """owner_url (and a missing role) of every stored file from its owner
    row; waveform_url of SoundCloud tracks from their stored waveform."""
    existing = editor.db.table_names()
    updates: list[tuple[str, tuple[Any, ...]]] = []
    for owner, columns in OWNER_URLS.items():
        if owner not in existing or "media_files" not in existing:
            continue
        have = set(editor.db.column_names(owner))
        present = [c for c in columns if c in have]
        if not present:
            continue
        picked = ", ".join(f"o.{c}" for c in present)
        rows = editor.db.query(f"SELECT m.url, {picked} FROM media_files m JOIN {owner} o "
                               f"ON m.owner_id = {OWNER_KEYS[owner]} WHERE m.owner_table = %s", (owner,))
        for url, *values in rows:
            found = None
            for column, value in zip(present, values, strict=True):
                for candidate in _values(value):
                    if candidate == url or (owner.startswith("soundcloud_") and _fetched(candidate) == url):
                        found = (columns[column], candidate)
                        break
                if found:
                    break
            if found:
                updates.append(("UPDATE media_files SET owner_url = %s, role = COALESCE(role, %s) WHERE url = %s",
                                (found[1], found[0], url)))
            elif owner == "soundcloud_tracks":
                # The one SoundCloud file no track column named: the waveform JSON.
                updates.append(("UPDATE media_files SET owner_url = url, role = COALESCE(role, 'waveform') "
                                "WHERE url = %s", (url,)))
    if {"media_files", "soundcloud_tracks"} <= existing:
        updates.append(("UPDATE soundcloud_tracks SET waveform_url = (SELECT m.url FROM media_files m "
                        "WHERE m.owner_table = 'soundcloud_tracks' AND m.role = 'waveform' "
                        "AND m.owner_key = CAST(soundcloud_tracks.id AS TEXT) ORDER BY m.url LIMIT 1) "
                        "WHERE waveform_url IS NULL", ()))
    return updates


def upgrade(editor: SchemaEditor) -> None:
    editor.create_table(CRAWL_RUNS)
    editor.add_column("soundcloud_tracks", Column("waveform_url", "text"))
    editor.add_column("media_files", Column("owner_key", "text"))
    editor.add_column("media_files", Column("owner_url", "text"))
    for name in CRAWLED:
        editor.add_column(name, Column("crawl_run_id", "bigint"))
    editor.sql("UPDATE media_files SET owner_key = owner_id")
    editor.statements += _backfill(editor)
    integer = ("CASE WHEN owner_id ~ '^-?[0-9]{1,18}$' THEN CAST(owner_id AS BIGINT) END"
               if editor.dialect == "postgresql" else
               "CASE WHEN owner_id <> '' AND owner_id NOT GLOB '*[^0-9]*' AND length(owner_id) <= 18 "
               "THEN CAST(owner_id AS INTEGER) END")
    if editor.dialect == "postgresql":
        editor.sql(f"ALTER TABLE media_files ALTER COLUMN owner_id TYPE BIGINT USING {integer}")
        editor.sql("CREATE INDEX IF NOT EXISTS media_files_owner_url_idx ON media_files (owner_url)")
        return
    # SQLite: no ALTER COLUMN TYPE; rebuild the table with the same rows.
    columns = ", ".join(MEDIA_FILES.column_names)
    copied = ", ".join(integer if c == "owner_id" else c for c in MEDIA_FILES.column_names)
    create_table, *indexes = create_sql(MEDIA_FILES, editor.dialect)
    editor.sql(create_table.replace("CREATE TABLE IF NOT EXISTS media_files ", "CREATE TABLE media_files_m0008 "))
    editor.sql(f"INSERT INTO media_files_m0008 ({columns}) SELECT {copied} FROM media_files")
    editor.sql("DROP TABLE media_files")
    editor.sql("ALTER TABLE media_files_m0008 RENAME TO media_files")
    for statement in indexes:
        editor.sql(statement)
