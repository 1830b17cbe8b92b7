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


@dataclass
class SoundCloudInteraction:
    """One edge of the community graph: ``source`` liked, reposted, followed or
    commented on ``target`` (the owner of the track or playlist)."""

    table: ClassVar[str] = "soundcloud_interactions"
    key: ClassVar[tuple[str, ...]] = ("source_user_id", "kind", "target_user_id", "object_id")

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
    key: ClassVar[tuple[str, ...]] = ("user_id",)

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
