"""Migration 7: Cambridge-MT post-processing (``soundscraping cmt-postprocess``).

- ``cmt_stems``: one row per stem read from a song's stored multitrack ZIPs
  (instrument group from the file name, format, level);
- ``cmt_mix_alignment``: each stored forum mix and library preview aligned to
  the sum of its song's stems (offset, confidence, gain; ``aligned`` false
  and ``flag`` set when it does not match the song);
- ``cmt_audio_features``: loudness-normalised features of each stem and mix;
- ``cmt_postprocessed``: which songs are done, by which processor version
  (what makes the command resumable), and why a song was skipped."""

from __future__ import annotations

from typing import TYPE_CHECKING

from soundscraping.storage import Table, cols

if TYPE_CHECKING:
    from soundscraping.storage.migrations import SchemaEditor

VERSION = 7
NAME = "cmt_stems, cmt_mix_alignment, cmt_audio_features, cmt_postprocessed: Cambridge-MT post-processing"

STEMS = Table(
    "cmt_stems", ("artist", "title", "file_name"),
    cols("artist:text title:text file_name:text zip_path:text instrument_group:text channels:int sample_rate:int "
         "duration_s:float peak_dbfs:float rms_dbfs:float processor_version:text processed_at:timestamp"),
)
MIX_ALIGNMENT = Table(
    "cmt_mix_alignment", ("mix_url",),
    cols("mix_url:text artist:text title:text source:text path:text offset_ms:float confidence:float gain_db:float "
         "aligned:bool flag:text processor_version:text processed_at:timestamp"),
    indexes=(("artist", "title"),),
)
AUDIO_FEATURES = Table(
    "cmt_audio_features", ("kind", "artist", "title", "name"),
    cols("kind:text artist:text title:text name:text loudness_lufs:float normalise_gain_db:float rms_dbfs:float "
         "crest_factor_db:float dynamic_range_lu:float spectral_centroid_hz:float spectral_rolloff_hz:float "
         "spectral_bandwidth_hz:float spectral_flatness:float spectral_flux:float mfcc_means:text "
         "stereo_width:float imbalance_db:float mid_side_ratio_db:float hnr_db:float "
         "processor_version:text processed_at:timestamp"),
)
POSTPROCESSED = Table(
    "cmt_postprocessed", ("artist", "title"),
    cols("artist:text title:text status:text stems:int mixes:int detail:text processor_version:text "
         "processed_at:timestamp"),
)


def upgrade(editor: SchemaEditor) -> None:
    for table in (STEMS, MIX_ALIGNMENT, AUDIO_FEATURES, POSTPROCESSED):
        editor.create_table(table)
