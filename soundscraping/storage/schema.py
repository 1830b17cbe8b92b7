"""The dataset's schema, declared once for PostgreSQL and SQLite: tables,
their columns and keys, how rows for one key merge, and the history tables.
It is the dataset's public contract (shared/reference/schema.md); items carry
only their table's name (tests/test_storage_items_tables_unit.py checks they agree)."""

from __future__ import annotations

import dataclasses
import functools
from dataclasses import dataclass
from typing import Any

Row = dict[str, Any]
# A row as written: the table's column values in declaration order.
Values = tuple[Any, ...]


@dataclass(frozen=True)
class Column:
    name: str
    kind: str  # bigint | int | text | bool | timestamp | float | date | text[]


# Provenance: the crawl run (``crawl_runs.id``) that last wrote the row.  Every
# table a crawl writes ends with it (``crawled()``); the store pipeline fills
# it, so items do not carry it.
CRAWL_RUN_ID = Column("crawl_run_id", "bigint")


@dataclass(frozen=True)
class Table:
    name: str
    key: tuple[str, ...]
    columns: tuple[Column, ...]
    # "overwrite": a re-crawl refreshes every column;
    # "profile": rows with full_profile=false only fill gaps of full rows;
    # "ignore": the first row wins (edges, append-only facts).
    merge: str = "overwrite"
    indexes: tuple[tuple[str, ...], ...] = ()
    # Key columns that may be NULL yet must still be unique (a follow has no
    # object): the unique index covers COALESCE(column, -1) instead.
    nullable_key: tuple[str, ...] = ()
    # Columns a NULL never overwrites (facts only some crawls establish,
    # e.g. soundcloud_users.tracks_complete: the graph crawl leaves it NULL).
    keep_known: tuple[str, ...] = ()
    # What one row is (the data card's table description).
    doc: str = ""

    @functools.cached_property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    @functools.cached_property
    def crawled(self) -> bool:
        """Written by crawls: its rows carry ``crawl_run_id``."""
        return CRAWL_RUN_ID in self.columns

    @functools.cached_property
    def item_columns(self) -> tuple[str, ...]:
        """The columns an item carries (all but the pipeline's ``crawl_run_id``)."""
        return tuple(n for n in self.column_names if n != CRAWL_RUN_ID.name)

    @functools.cached_property
    def key_positions(self) -> tuple[int, ...]:
        return tuple(self.column_names.index(k) for k in self.key)


def cols(spec: str) -> tuple[Column, ...]:
    """Columns from "name:kind name:kind ..." (how tables are declared)."""
    return tuple(Column(*item.split(":")) for item in spec.split())


def crawled(table: Table) -> Table:
    """``table`` with ``crawl_run_id`` as its last column (schema migration 8)."""
    return dataclasses.replace(table, columns=(*table.columns, CRAWL_RUN_ID))


TABLES: dict[str, Table] = {
    t.name: t
    for t in (
        crawled(Table(
            "soundcloud_users", ("id",),
            cols(
                "id:bigint permalink:text username:text full_name:text description:text city:text "
                "country_code:text followers_count:int followings_count:int track_count:int "
                "avatar_url:text banner_url:text verified:bool created_at:timestamp "
                "full_profile:bool scraped_at:timestamp tracks_complete:bool"  # added by migration 4: last
            ),
            merge="profile",
            indexes=(("permalink",),),
            keep_known=("tracks_complete",),
        )),
        crawled(Table(
            "soundcloud_tracks", ("id",),
            cols(
                "id:bigint user_id:bigint title:text permalink_url:text genre:text tag_list:text "
                "duration_ms:bigint created_at:timestamp likes_count:bigint reposts_count:bigint "
                "playback_count:bigint comment_count:bigint artwork_url:text is_dj_set:bool "
                "scraped_at:timestamp waveform_url:text"  # waveform_url: migration 8
            ),
            indexes=(("user_id",),),
        )),
        crawled(Table(
            # Popularity over time: one row per track per crawl that saw it
            # (schema migration 2; filled from every stored track row).
            "soundcloud_track_stats", ("track_id", "scraped_at"),
            cols("track_id:bigint scraped_at:timestamp playback_count:bigint likes_count:bigint "
                  "reposts_count:bigint comment_count:bigint"),
            merge="ignore",
        )),
        crawled(Table(
            "soundcloud_comments", ("id",),
            cols("id:bigint track_id:bigint user_id:bigint body:text timestamp_ms:bigint created_at:timestamp"),
            indexes=(("track_id",), ("user_id",)),
        )),
        Table(
            # One score per comment, by the model version named in the row;
            # `soundscraping sentiment` rescores rows of older versions
            # (schema migration 5).  NULL compound/label: a language the model
            # does not cover.
            "soundcloud_comment_sentiment", ("comment_id",),
            cols("comment_id:bigint compound:float label:text language:text model_version:text "
                 "scored_at:timestamp"),
        ),
        Table(
            # Peaks of timed-comment density along a track (schema migration
            # 5), rewritten whole per track by `soundscraping moments --all`.
            "soundcloud_track_moments", ("track_id", "start_ms"),
            cols("track_id:bigint start_ms:bigint end_ms:bigint peak_ms:bigint comment_count:int "
                 "mean_sentiment:float scored_comments:int density:float prominence:float "
                 "model_version:text computed_at:timestamp"),
        ),
        crawled(Table(
            "soundcloud_interactions", ("source_user_id", "kind", "target_user_id", "object_id"),
            cols("source_user_id:bigint kind:text target_user_id:bigint object_id:bigint created_at:timestamp"),
            merge="ignore",
            indexes=(("target_user_id",),),
            nullable_key=("object_id",),
        )),
        crawled(Table(
            # One row per account the graph crawl has fully visited: the
            # frontier is rebuilt from this and the interactions on a re-run.
            "soundcloud_graph_visits", ("user_id",),
            cols("user_id:bigint position:bigint score:float followers_count:int interactions:int "
                  "started_at:timestamp finished_at:timestamp"),
        )),
        crawled(Table(
            "beatport_tracks", ("id",),
            cols(
                "id:bigint soundcloud_track_id:bigint url:text name:text mix_name:text bpm:int key_name:text "
                "camelot:text genre:text sub_genre:text publish_date:date label:text catalog_number:text isrc:text "
                "artists:text[] remixers:text[] length_ms:bigint waveform_url:text artwork_url:text "
                "match_score:float scraped_at:timestamp sample_url:text sample_start_ms:bigint sample_end_ms:bigint"
            ),
            indexes=(("soundcloud_track_id",),),
        )),
        crawled(Table(
            # One row per searched SoundCloud track: matched or not, so that a
            # track without a Beatport release is not searched every run.
            "beatport_matches", ("soundcloud_track_id",),
            cols("soundcloud_track_id:bigint status:text beatport_track_id:bigint match_score:float query:text "
                  "candidates:int searched_at:timestamp"),
        )),
        crawled(Table(
            "cmt_songs", ("artist", "title"),
            cols(
                "artist:text title:text composer:text genre:text sub_genre:text full_tracks:int excerpt_tracks:int "
                "multitrack_urls:text[] excerpt_urls:text[] full_preview_url:text excerpt_preview_url:text "
                "unmastered_wav_url:text forum_fid:int external_download:bool registration_required:bool "
                "scraped_at:timestamp"
            ),
            indexes=(("forum_fid",),),
        )),
        crawled(Table(
            "cmt_forum_threads", ("tid",),
            cols("tid:bigint forum_fid:int title:text author:text started_at:timestamp views:int replies:int "
                  "rating:float"),
            indexes=(("forum_fid",),),
        )),
        crawled(Table(
            "cmt_forum_posts", ("pid",),
            cols("pid:bigint tid:bigint author:text posted_at:timestamp body_text:text"),
            indexes=(("tid",),),
        )),
        crawled(Table(
            "cmt_mixes", ("url", "pid"),
            cols("url:text pid:bigint tid:bigint kind:text host:text filename:text stored_path:text"),
            indexes=(("tid",),),
        )),
        crawled(Table(
            # Units of work a crawl finished (an artist with every track and
            # comment, ...), written after their rows: a resumed job skips
            # them (schema migration 3).
            "crawl_units", ("spider", "job", "unit"),
            cols("spider:text job:text unit:text finished_at:timestamp"),
        )),
        crawled(Table(
            "media_files", ("url",),
            # role: what the file is to its owner (preview, waveform, artwork...;
            # schema migration 6), named by the item's FILE_ROLES.  Migration 8:
            # owner_id is the owner's integer id (NULL for owners keyed
            # otherwise), owner_key its whole key as text ("artist / title"),
            # owner_url the URL as the owner row stores it (url is what was
            # downloaded: SoundCloud images at 500x500).
            cols("url:text path:text checksum:text owner_table:text owner_id:bigint stored_at:timestamp role:text "
                 "owner_key:text owner_url:text"),
            indexes=(("owner_table", "owner_id"), ("owner_url",)),
        )),
        Table(
            # Stems read from a Cambridge-MT song's stored multitrack ZIPs
            # (schema migration 7, `soundscraping cmt-postprocess`).
            "cmt_stems", ("artist", "title", "file_name"),
            cols("artist:text title:text file_name:text zip_path:text instrument_group:text channels:int "
                 "sample_rate:int duration_s:float peak_dbfs:float rms_dbfs:float processor_version:text "
                 "processed_at:timestamp"),
        ),
        Table(
            # A forum mix or library preview aligned to its song's summed stems.
            "cmt_mix_alignment", ("mix_url",),
            cols("mix_url:text artist:text title:text source:text path:text offset_ms:float confidence:float "
                 "gain_db:float aligned:bool flag:text processor_version:text processed_at:timestamp"),
            indexes=(("artist", "title"),),
        ),
        Table(
            # Loudness-normalised (-15 LUFS) features of each stem and mix.
            "cmt_audio_features", ("kind", "artist", "title", "name"),
            cols("kind:text artist:text title:text name:text loudness_lufs:float normalise_gain_db:float "
                 "rms_dbfs:float crest_factor_db:float dynamic_range_lu:float spectral_centroid_hz:float "
                 "spectral_rolloff_hz:float spectral_bandwidth_hz:float spectral_flatness:float "
                 "spectral_flux:float mfcc_means:text stereo_width:float imbalance_db:float "
                 "mid_side_ratio_db:float hnr_db:float processor_version:text processed_at:timestamp"),
        ),
        Table(
            # Songs post-processed, by processor version (resumable), or skipped and why.
            "cmt_postprocessed", ("artist", "title"),
            cols("artist:text title:text status:text stems:int mixes:int detail:text processor_version:text "
                 "processed_at:timestamp"),
        ),
        Table(
            # One row per crawl (schema migration 8): what ran, how, with which
            # code, and how it ended.  Secrets in settings are masked.
            "crawl_runs", ("id",),
            cols("id:bigint spider:text job:text arguments:text settings:text version:text git_commit:text "
                 "started_at:timestamp finished_at:timestamp finish_reason:text stats:text"),
        ),
        Table(
            # Tempo, key and loudness of a stored audio file (schema migration
            # 6), by `soundscraping audio-features`; re-analysed when the
            # analyser version changes.
            "audio_features", ("source_table", "source_id"),
            cols("source_table:text source_id:text media_url:text path:text bpm:float bpm_confidence:float "
                 "key:text scale:text key_strength:float loudness_lufs:float loudness_range_lu:float "
                 "duration_s:float error:text analyser:text analyser_version:text analysed_at:timestamp"),
        ),
    )
}


# History tables: every row stored into the first table also appends a row
# to the second, made of these columns of it (history column -> column).
HISTORY: dict[str, tuple[str, dict[str, str]]] = {
    "soundcloud_tracks": ("soundcloud_track_stats", {
        "track_id": "id", "scraped_at": "scraped_at", "playback_count": "playback_count",
        "likes_count": "likes_count", "reposts_count": "reposts_count", "comment_count": "comment_count",
        "crawl_run_id": "crawl_run_id",
    }),
}


@functools.cache
def _history_of(name: str) -> tuple[Table, tuple[int, ...]] | None:
    if name not in HISTORY:
        return None
    target, sources = HISTORY[name]
    history, source = TABLES[target], TABLES[name]
    return history, tuple(source.column_names.index(sources[c]) for c in history.column_names)


def history_row(table: Table, values: Values) -> tuple[Table, Values] | None:
    """The history row a row of ``table`` appends (None: no history, or no
    time to key it by)."""
    found = _history_of(table.name)
    if found is None:
        return None
    history, positions = found
    row = tuple(values[i] for i in positions)
    return None if any(row[i] is None for i in history.key_positions) else (history, row)


def merge_rows(table: Table, old: Row, new: Row) -> Row:
    """Combine two rows for the same key the way the database upsert would."""
    if table.merge == "ignore":
        return old
    if table.merge == "profile" and not new.get("full_profile"):
        base = old if old.get("full_profile") else new
        other = new if base is old else old
        merged = {k: (base.get(k) if base.get(k) is not None else other.get(k)) for k in table.column_names}
        merged["full_profile"] = bool(old.get("full_profile"))
    else:
        merged = dict(new)
    for name in table.keep_known:
        if merged.get(name) is None:
            merged[name] = new.get(name) if new.get(name) is not None else old.get(name)
    return merged


def merge_values(table: Table, old: Values, new: Values) -> Values:
    """``merge_rows`` for rows held as value tuples."""
    if table.merge == "overwrite":
        return new
    names = table.column_names
    merged = merge_rows(table, dict(zip(names, old, strict=True)), dict(zip(names, new, strict=True)))
    return tuple(merged[n] for n in names)


# -- the data dictionary (the export's data card is generated from it) ----------------

# What one row of each table is.
TABLE_DOCS: dict[str, str] = {
    "soundcloud_users": "A SoundCloud account: a full profile (crawled artist, graph account) or a partial one "
                        "known from an embedded mini object (full_profile false).",
    "soundcloud_tracks": "A SoundCloud track or DJ set posted by a crawled artist.",
    "soundcloud_track_stats": "A track's public counts as one crawl saw them (popularity over time).",
    "soundcloud_comments": "A comment on a crawled track.",
    "soundcloud_comment_sentiment": "The sentiment of one comment by the model version named in the row.",
    "soundcloud_track_moments": "A peak of timed-comment density along a track.",
    "soundcloud_interactions": "One edge of the community graph: source liked, reposted, followed or commented on "
                               "target (the owner of the object). Several comments on one track are one edge.",
    "soundcloud_graph_visits": "An account the graph crawl read completely (its likes, reposts, followings, "
                               "comments).",
    "beatport_tracks": "A Beatport release matched to a SoundCloud upload (or looked up ad hoc).",
    "beatport_matches": "The outcome of searching Beatport for one SoundCloud track, matched or not.",
    "cmt_songs": "A song of the Cambridge-MT Mixing Secrets multitrack library.",
    "cmt_forum_threads": "A thread of the Cambridge-MT mixing forum.",
    "cmt_forum_posts": "A post of a Cambridge-MT forum thread.",
    "cmt_mixes": "A mix shared in a forum post (attachment, audio player source or external link).",
    "crawl_units": "A unit of work a resumable job finished (an artist with all its tracks and comments...).",
    "media_files": "A file stored in FILES_STORE for an owner row (image, waveform, preview, multitrack, mix).",
    "crawl_runs": "One crawl: spider, arguments, settings (secrets masked), code version, start, end, outcome.",
    "cmt_stems": "One stem file read from a song's stored multitrack ZIPs.",
    "cmt_mix_alignment": "A forum mix or library preview aligned to the sum of its song's stems.",
    "cmt_audio_features": "Loudness-normalised (-15 LUFS) audio features of one stem or mix.",
    "cmt_postprocessed": "A Cambridge-MT song post-processed (or skipped, and why) by a processor version.",
    "audio_features": "Tempo, key and loudness of one stored audio file (Beatport previews).",
}

# Units by column name (exact names first, then suffixes).
_UNITS = {
    "bpm": "beats per minute", "score": "interaction score (GRAPH_WEIGHTS)", "match_score": "0-1 similarity",
    "compound": "-1 (negative) .. +1 (positive)", "mean_sentiment": "-1 .. +1", "rating": "stars, 1-5",
    "confidence": "0-1", "key_strength": "0-1", "bpm_confidence": "0-1", "stereo_width": "0-1",
    "spectral_flatness": "0-1", "density": "times the track's average comment rate", "prominence":
    "track-average comment rates", "channels": "count", "sample_rate": "Hz", "position": "rank in the visit order",
    "views": "count", "replies": "count", "interactions": "count", "candidates": "count", "stems": "count",
    "mixes": "count", "full_tracks": "count", "excerpt_tracks": "count", "mfcc_means": "JSON array",
    "arguments": "JSON object", "settings": "JSON object", "stats": "JSON object",
}
_SUFFIX_UNITS = (("_ms", "milliseconds"), ("_s", "seconds"), ("_hz", "Hz"), ("_dbfs", "dBFS"), ("_db", "dB"),
                 ("_lufs", "LUFS"), ("_lu", "LU"), ("_count", "count"), ("_url", "URL"), ("_urls", "URLs"))

# What NULL means, where it is not "not given by the site" (crawled tables)
# or "not computed" (derived tables).
_NULLS = {
    ("soundcloud_tracks", "likes_count"): "hidden by the uploader (never 0 for hidden)",
    ("soundcloud_tracks", "reposts_count"): "hidden by the uploader (never 0 for hidden)",
    ("soundcloud_tracks", "playback_count"): "hidden by the uploader (never 0 for hidden)",
    ("soundcloud_tracks", "comment_count"): "hidden by the uploader (never 0 for hidden)",
    ("soundcloud_track_stats", "playback_count"): "hidden by the uploader",
    ("soundcloud_track_stats", "likes_count"): "hidden by the uploader",
    ("soundcloud_track_stats", "reposts_count"): "hidden by the uploader",
    ("soundcloud_track_stats", "comment_count"): "hidden by the uploader",
    ("soundcloud_tracks", "is_dj_set"): "duration unknown",
    ("soundcloud_users", "tracks_complete"): "not crawled as an artist",
    ("soundcloud_users", "full_profile"): "never NULL (false: known only from an embedded mini object)",
    ("soundcloud_tracks", "waveform_url"): "stored before migration 8 without a stored waveform",
    ("soundcloud_comments", "timestamp_ms"): "the comment is not pinned to a moment of the track",
    ("soundcloud_interactions", "object_id"): "a follow (no object)",
    ("soundcloud_comment_sentiment", "compound"): "a language the model does not cover",
    ("soundcloud_comment_sentiment", "label"): "a language the model does not cover",
    ("soundcloud_track_moments", "mean_sentiment"): "no comment of the moment has a score",
    ("beatport_tracks", "soundcloud_track_id"): "an ad-hoc lookup (-a query)",
    ("beatport_tracks", "artwork_url"): "Beatport shows its no-artwork placeholder",
    ("beatport_matches", "beatport_track_id"): "no match",
    ("cmt_forum_threads", "rating"): "nobody voted",
    ("cmt_mixes", "filename"): "the attachment's name could not be read",
    ("cmt_mixes", "stored_path"): "not downloaded",
    ("media_files", "owner_id"): "the owner is not keyed by one integer (cmt_songs, cmt_mixes: use owner_key)",
    ("media_files", "role"): "stored before roles existed and not recognised",
    ("media_files", "owner_url"): "stored before migration 8 with no owner column naming it",
    ("crawl_runs", "finished_at"): "still running, or killed before it could close",
    ("crawl_runs", "finish_reason"): "still running, or killed before it could close",
    ("crawl_runs", "stats"): "still running, or killed before it could close",
    ("crawl_runs", "git_commit"): "not run from a git checkout (a Scrapyd egg)",
    ("cmt_audio_features", "hnr_db"): "not computed yet (always NULL for now)",
    ("audio_features", "bpm"): "the analysis failed (see error)",
}


def column_unit(table: Table, column: Column) -> str:
    """The unit of a column's values ("" when it has none: names, text)."""
    if column.kind == "timestamp":
        return "UTC"
    if column.kind == "date":
        return "calendar date"
    if column.name in _UNITS:
        return _UNITS[column.name]
    if column.name.endswith("_id") or column.name == "id":
        return "id"
    for suffix, unit in _SUFFIX_UNITS:
        if column.name.endswith(suffix):
            return unit
    return ""


def null_meaning(table: Table, column: Column) -> str:
    """What a NULL in the column means."""
    if column.name in table.key and column.name not in table.nullable_key:
        return "never NULL (key)"
    if (table.name, column.name) in _NULLS:
        return _NULLS[(table.name, column.name)]
    if column.name == CRAWL_RUN_ID.name:
        return "stored before provenance existed (migration 8), or written by a command, not a crawl"
    return "not given by the site" if table.crawled else "not computed"
