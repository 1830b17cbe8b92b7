"""Migration 2: ``soundcloud_track_stats``, a track's counts at each crawl
that saw it (popularity over time)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from soundscraping.storage import Table, cols

if TYPE_CHECKING:
    from soundscraping.storage.migrations import SchemaEditor

VERSION = 2
NAME = "soundcloud_track_stats: track counts over time"

TRACK_STATS = Table(
    "soundcloud_track_stats", ("track_id", "scraped_at"),
    cols("track_id:bigint scraped_at:timestamp playback_count:bigint likes_count:bigint "
                  "reposts_count:bigint comment_count:bigint"),
    merge="ignore",
)


def upgrade(editor: SchemaEditor) -> None:
    editor.create_table(TRACK_STATS)
