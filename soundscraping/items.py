"""Typed items.  One dataclass per stored table; pipelines read them through
itemadapter.  ``table`` names the destination table; its columns and its
identity (what dedupe and the upsert conflict on) are that table's in
``storage.TABLES``, the one source (tests/test_storage_items_tables_unit.py checks that
every item's fields are its table's columns, less ``NON_COLUMN_FIELDS``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

from soundscraping.sites.soundcloud.images import image_variant

# Fields that are not columns: the media pipeline's (file_urls, files) and
# the NULLs a site sent itself (site_nulls).
NON_COLUMN_FIELDS = frozenset({"file_urls", "files", "site_nulls"})


@dataclass
class SoundCloudUser:
    table: ClassVar[str] = "soundcloud_users"
    # media_files.role of a stored file: the role of the field holding its URL
    # (fetched as FETCHED_URL of the field's value: images at 500x500).
    FILE_ROLES: ClassVar[dict[str, str]] = {"avatar_url": "avatar", "banner_url": "banner"}
    FETCHED_URL: ClassVar[Callable[[str], str | None]] = staticmethod(image_variant)

    id: int
    permalink: str | None = None
    username: str | None = None
    full_name: str | None = None
    description: str | None = None
    city: str | None = None
    country_code: str | None = None
    followers_count: int | None = None
    followings_count: int | None = None
    track_count: int | None = None
    avatar_url: str | None = None
    banner_url: str | None = None
    verified: bool | None = None
    created_at: str | None = None
    # False for the "mini" users embedded in tracks and comments: their
    # missing fields must never erase what a full profile filled.
    full_profile: bool = False
    scraped_at: str | None = None
    # Artists crawled by soundcloud_artists: True when every public track was
    # read (/tracks or the stream of posts), False when only the partial
    # /toptracks answered (or nothing did); None for users not crawled so.
    tracks_complete: bool | None = None
    file_urls: list[str] = field(default_factory=list)
    files: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class SoundCloudTrack:
    table: ClassVar[str] = "soundcloud_tracks"
    FILE_ROLES: ClassVar[dict[str, str]] = {"artwork_url": "artwork", "waveform_url": "waveform"}
    FETCHED_URL: ClassVar[Callable[[str], str | None]] = staticmethod(image_variant)

    id: int
    user_id: int | None = None
    title: str | None = None
    permalink_url: str | None = None
    genre: str | None = None
    tag_list: str | None = None
    duration_ms: int | None = None
    created_at: str | None = None
    likes_count: int | None = None
    reposts_count: int | None = None
    playback_count: int | None = None
    comment_count: int | None = None
    artwork_url: str | None = None
    is_dj_set: bool | None = None
    scraped_at: str | None = None
    waveform_url: str | None = None  # the loudness envelope JSON (kept in FILES_STORE)
    # Columns the site itself sent as null (sites.sent_as_null); not a column:
    # field coverage (soundscraping/monitoring) does not count them as lost.
    site_nulls: list[str] = field(default_factory=list)
    file_urls: list[str] = field(default_factory=list)
    files: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class SoundCloudComment:
    table: ClassVar[str] = "soundcloud_comments"

    id: int
    track_id: int | None = None
    user_id: int | None = None
    body: str | None = None
    # Milliseconds into the track the comment was left at; None when the
    # comment is not pinned to a moment.
    timestamp_ms: int | None = None
    created_at: str | None = None
    # Columns the site itself sent as null (sites.sent_as_null); not a column:
    # field coverage (soundscraping/monitoring) does not count them as lost.
    site_nulls: list[str] = field(default_factory=list)


@dataclass
class SoundCloudInteraction:
    """One edge of the community graph: ``source`` liked, reposted, followed or
    commented on ``target`` (the owner of the track or playlist)."""

    table: ClassVar[str] = "soundcloud_interactions"

    source_user_id: int
    kind: str  # like | repost | follow | comment
    target_user_id: int
    # The liked/reposted/commented track or playlist; None for follows.
    object_id: int | None = None
    created_at: str | None = None


@dataclass
class GraphVisit:
    """An account the graph crawl has fully read (all four interaction lists)."""

    table: ClassVar[str] = "soundcloud_graph_visits"

    user_id: int
    position: int | None = None  # visit order across runs
    score: float | None = None  # interaction score it had when chosen
    followers_count: int | None = None
    interactions: int | None = None
    started_at: str | None = None
    finished_at: str | None = None


@dataclass
class InteractionPage:
    """Everything one api-v2 page of a visited account shows: its edges and
    the users met on it.  Pages carry up to 200 edges; one item per page keeps
    the per-item overhead off the hot path of a graph crawl."""

    source_user_id: int
    kind: str
    interactions: list[SoundCloudInteraction] = field(default_factory=list)
    users: list[SoundCloudUser] = field(default_factory=list)

    def parts(self) -> list[Any]:
        return [*self.users, *self.interactions]


@dataclass
class BeatportTrack:
    """A Beatport release of a SoundCloud track (from the track page's
    ``__NEXT_DATA__``)."""

    table: ClassVar[str] = "beatport_tracks"
    # media_files.role of a stored file: the role of the field holding its URL.
    FILE_ROLES: ClassVar[dict[str, str]] = {"sample_url": "preview", "waveform_url": "waveform",
                                            "artwork_url": "artwork"}

    id: int
    soundcloud_track_id: int | None = None
    url: str | None = None
    name: str | None = None
    mix_name: str | None = None
    bpm: int | None = None
    key_name: str | None = None
    camelot: str | None = None  # e.g. "8A"
    genre: str | None = None
    sub_genre: str | None = None
    publish_date: str | None = None
    label: str | None = None  # the release's label
    catalog_number: str | None = None
    isrc: str | None = None
    artists: list[str] = field(default_factory=list)
    remixers: list[str] = field(default_factory=list)
    length_ms: int | None = None
    waveform_url: str | None = None
    artwork_url: str | None = None
    match_score: float | None = None
    scraped_at: str | None = None
    sample_url: str | None = None  # the 2-minute preview (MP3)
    sample_start_ms: int | None = None  # where the preview sits in the track
    sample_end_ms: int | None = None
    # Columns the site itself sent as null (sites.sent_as_null); not a column:
    # field coverage (soundscraping/monitoring) does not count them as lost.
    site_nulls: list[str] = field(default_factory=list)
    file_urls: list[str] = field(default_factory=list)
    files: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class BeatportMatch:
    """The outcome of searching Beatport for one SoundCloud track, matched or
    not, so unmatched tracks are not searched again every run."""

    table: ClassVar[str] = "beatport_matches"

    soundcloud_track_id: int
    status: str  # matched | no_match
    beatport_track_id: int | None = None
    match_score: float | None = None
    query: str | None = None
    candidates: int | None = None
    searched_at: str | None = None


@dataclass
class CmtSong:
    """A song of the Cambridge-MT "Mixing Secrets" multitrack library."""

    table: ClassVar[str] = "cmt_songs"
    FILE_ROLES: ClassVar[dict[str, str]] = {
        "multitrack_urls": "multitrack", "excerpt_urls": "excerpt_multitrack", "full_preview_url": "preview",
        "excerpt_preview_url": "excerpt_preview", "unmastered_wav_url": "unmastered_mix"}

    artist: str
    title: str
    composer: str | None = None  # a composer prefix kept apart from the title
    genre: str | None = None
    sub_genre: str | None = None  # the artist's style line
    full_tracks: int | None = None
    excerpt_tracks: int | None = None
    multitrack_urls: list[str] = field(default_factory=list)  # every part of multi-part ZIPs
    excerpt_urls: list[str] = field(default_factory=list)
    full_preview_url: str | None = None
    excerpt_preview_url: str | None = None
    unmastered_wav_url: str | None = None
    forum_fid: int | None = None
    external_download: bool | None = None
    registration_required: bool | None = None
    scraped_at: str | None = None
    file_urls: list[str] = field(default_factory=list)
    files: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class CmtForumThread:
    table: ClassVar[str] = "cmt_forum_threads"

    tid: int
    forum_fid: int | None = None
    title: str | None = None
    author: str | None = None
    started_at: str | None = None
    views: int | None = None
    replies: int | None = None
    rating: float | None = None


@dataclass
class CmtForumPost:
    table: ClassVar[str] = "cmt_forum_posts"

    pid: int
    tid: int | None = None
    author: str | None = None
    posted_at: str | None = None
    body_text: str | None = None


@dataclass
class CmtMix:
    """A mix shared in a forum post: an attachment, an <audio> source or an
    external link (Dropbox, Google Drive, SoundCloud, WeTransfer, direct audio)."""

    table: ClassVar[str] = "cmt_mixes"
    FILE_ROLES: ClassVar[dict[str, str]] = {"url": "mix"}

    url: str
    pid: int
    tid: int | None = None
    kind: str | None = None  # attachment | audio | external
    host: str | None = None
    filename: str | None = None
    stored_path: str | None = None
    file_urls: list[str] = field(default_factory=list)
    files: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class CrawlUnit:
    """A unit of work a crawl finished (see soundscraping.units)."""

    table: ClassVar[str] = "crawl_units"

    spider: str
    job: str
    unit: str
    finished_at: str | None = None
