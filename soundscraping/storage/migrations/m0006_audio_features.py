"""Migration 6: audio analysis of stored media.

- ``media_files.role``: what a stored file is to its owner (``preview``,
  ``waveform``, ``artwork``, …), named by the item that asked for it; NULL for
  files stored before roles existed (or that no item named).
- ``beatport_tracks.sample_url`` / ``sample_start_ms`` / ``sample_end_ms``:
  the track's 2-minute preview and where it sits in the track.
- ``audio_features``: tempo, key and loudness of a stored audio file (one row
  per source row; ``analyser``/``analyser_version`` say what produced it, so
  a new analyser version re-analyses and an unchanged one skips)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from soundscraping.storage import Column, Table, cols

if TYPE_CHECKING:
    from soundscraping.storage.migrations import SchemaEditor

VERSION = 6
NAME = "media_files.role, beatport_tracks preview columns, audio_features"

AUDIO_FEATURES = Table(
    "audio_features", ("source_table", "source_id"),
    cols("source_table:text source_id:text media_url:text path:text bpm:float bpm_confidence:float key:text "
         "scale:text key_strength:float loudness_lufs:float loudness_range_lu:float duration_s:float "
         "error:text analyser:text analyser_version:text analysed_at:timestamp"),
)


def upgrade(editor: SchemaEditor) -> None:
    editor.add_column("media_files", Column("role", "text"))
    for column in cols("sample_url:text sample_start_ms:bigint sample_end_ms:bigint"):
        editor.add_column("beatport_tracks", column)
    editor.create_table(AUDIO_FEATURES)
