"""Migration 5: ``soundcloud_comment_sentiment`` (a score per comment and the
model version that gave it) and ``soundcloud_track_moments`` (peaks of
timed-comment density along each track)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from soundscraping.storage import Table, cols

if TYPE_CHECKING:
    from soundscraping.storage.migrations import SchemaEditor

VERSION = 5
NAME = "soundcloud_comment_sentiment and soundcloud_track_moments: comment analysis"

COMMENT_SENTIMENT = Table(
    "soundcloud_comment_sentiment", ("comment_id",),
    cols("comment_id:bigint compound:float label:text language:text model_version:text scored_at:timestamp"),
)

TRACK_MOMENTS = Table(
    "soundcloud_track_moments", ("track_id", "start_ms"),
    cols("track_id:bigint start_ms:bigint end_ms:bigint peak_ms:bigint comment_count:int "
         "mean_sentiment:float scored_comments:int density:float prominence:float "
         "model_version:text computed_at:timestamp"),
)


def upgrade(editor: SchemaEditor) -> None:
    editor.create_table(COMMENT_SENTIMENT)
    editor.create_table(TRACK_MOMENTS)
