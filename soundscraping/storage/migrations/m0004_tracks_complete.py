"""Migration 4: ``soundcloud_users.tracks_complete`` (main's issue 9 work):
True when every public track of an artist was read, False when only the
partial /toptracks answered, NULL for users not crawled as artists."""

from __future__ import annotations

from typing import TYPE_CHECKING

from soundscraping.storage import Column

if TYPE_CHECKING:
    from soundscraping.storage.migrations import SchemaEditor

VERSION = 4
NAME = "soundcloud_users.tracks_complete: every public track read"


def upgrade(editor: SchemaEditor) -> None:
    if "tracks_complete" not in editor.db.column_names("soundcloud_users"):
        editor.add_column("soundcloud_users", Column("tracks_complete", "bool"))
