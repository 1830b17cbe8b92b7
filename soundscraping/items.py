"""Typed items.  One dataclass per stored table; pipelines read them through
itemadapter.  ``table`` names the destination table and ``key`` its identity
(what dedupe and the upsert conflict on)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar


@dataclass
class SoundCloudUser:
    table: ClassVar[str] = "soundcloud_users"
    key: ClassVar[tuple[str, ...]] = ("id",)

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
    file_urls: list[str] = field(default_factory=list)
    files: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class SoundCloudTrack:
    table: ClassVar[str] = "soundcloud_tracks"
    key: ClassVar[tuple[str, ...]] = ("id",)

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
    file_urls: list[str] = field(default_factory=list)
    files: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class SoundCloudComment:
    table: ClassVar[str] = "soundcloud_comments"
    key: ClassVar[tuple[str, ...]] = ("id",)

    id: int
    track_id: int | None = None
    user_id: int | None = None
    body: str | None = None
    # Milliseconds into the track the comment was left at; None when the
    # comment is not pinned to a moment.
    timestamp_ms: int | None = None
    created_at: str | None = None
