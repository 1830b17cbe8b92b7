"""Migration 1: the schema as of commit 56edc80, the last one without
versions.  Frozen here (never derived from storage.TABLES): a database made
by that code gains nothing but its ``schema_version`` row; an older one
(tables without later columns, e.g. no ``full_profile``) is completed."""

from __future__ import annotations

from typing import TYPE_CHECKING

from soundscraping.storage import Table, cols

if TYPE_CHECKING:
    from soundscraping.storage.migrations import SchemaEditor

VERSION = 1
NAME = "baseline: the schema of commit 56edc80"

TABLES: dict[str, Table] = {
    t.name: t
    for t in (
        Table(
            "soundcloud_users", ("id",),
            cols(
                "id:bigint permalink:text username:text full_name:text description:text city:text "
                "country_code:text followers_count:int followings_count:int track_count:int "
                "avatar_url:text banner_url:text verified:bool created_at:timestamp "
                "full_profile:bool scraped_at:timestamp"
            ),
            merge="profile",
            indexes=(("permalink",),),
        ),
        Table(
            "soundcloud_tracks", ("id",),
            cols(
                "id:bigint user_id:bigint title:text permalink_url:text genre:text tag_list:text "
                "duration_ms:bigint created_at:timestamp likes_count:bigint reposts_count:bigint "
                "playback_count:bigint comment_count:bigint artwork_url:text is_dj_set:bool "
                "scraped_at:timestamp"
            ),
            indexes=(("user_id",),),
        ),
        Table(
            "soundcloud_comments", ("id",),
            cols("id:bigint track_id:bigint user_id:bigint body:text timestamp_ms:bigint created_at:timestamp"),
            indexes=(("track_id",), ("user_id",)),
        ),
        Table(
            "soundcloud_interactions", ("source_user_id", "kind", "target_user_id", "object_id"),
            cols("source_user_id:bigint kind:text target_user_id:bigint object_id:bigint created_at:timestamp"),
            merge="ignore",
            indexes=(("target_user_id",),),
            nullable_key=("object_id",),
        ),
        Table(
            # One row per account the graph crawl has fully visited: the
            # frontier is rebuilt from this and the interactions on a re-run.
            "soundcloud_graph_visits", ("user_id",),
            cols("user_id:bigint position:bigint score:float followers_count:int interactions:int "
                  "started_at:timestamp finished_at:timestamp"),
        ),
        Table(
            "beatport_tracks", ("id",),
            cols(
                "id:bigint soundcloud_track_id:bigint url:text name:text mix_name:text bpm:int key_name:text "
                "camelot:text genre:text sub_genre:text publish_date:date label:text catalog_number:text isrc:text "
                "artists:text[] remixers:text[] length_ms:bigint waveform_url:text artwork_url:text "
                "match_score:float scraped_at:timestamp"
            ),
            indexes=(("soundcloud_track_id",),),
        ),
        Table(
            # One row per searched SoundCloud track: matched or not, so that a
            # track without a Beatport release is not searched every run.
            "beatport_matches", ("soundcloud_track_id",),
            cols("soundcloud_track_id:bigint status:text beatport_track_id:bigint match_score:float query:text "
                  "candidates:int searched_at:timestamp"),
        ),
        Table(
            "cmt_songs", ("artist", "title"),
            cols(
                "artist:text title:text composer:text genre:text sub_genre:text full_tracks:int excerpt_tracks:int "
                "multitrack_urls:text[] excerpt_urls:text[] full_preview_url:text excerpt_preview_url:text "
                "unmastered_wav_url:text forum_fid:int external_download:bool registration_required:bool "
                "scraped_at:timestamp"
            ),
            indexes=(("forum_fid",),),
        ),
        Table(
            "cmt_forum_threads", ("tid",),
            cols("tid:bigint forum_fid:int title:text author:text started_at:timestamp views:int replies:int "
                  "rating:float"),
            indexes=(("forum_fid",),),
        ),
        Table(
            "cmt_forum_posts", ("pid",),
            cols("pid:bigint tid:bigint author:text posted_at:timestamp body_text:text"),
            indexes=(("tid",),),
        ),
        Table(
            "cmt_mixes", ("url", "pid"),
            cols("url:text pid:bigint tid:bigint kind:text host:text filename:text stored_path:text"),
            indexes=(("tid",),),
        ),
        Table(
            "media_files", ("url",),
            cols("url:text path:text checksum:text owner_table:text owner_id:text stored_at:timestamp"),
            indexes=(("owner_table", "owner_id"),),
        ),
    )
}


def upgrade(editor: SchemaEditor) -> None:
    for table in TABLES.values():
        editor.create_table(table)
