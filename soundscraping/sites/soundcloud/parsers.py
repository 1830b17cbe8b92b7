"""SoundCloud extraction: web pages (``__sc_hydration``), asset scripts and
api-v2 JSON.  Field names follow the real API (see the reference notes)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

import orjson

from soundscraping.items import SoundCloudComment, SoundCloudInteraction, SoundCloudTrack, SoundCloudUser
from soundscraping.sites import MalformedPage, sent_as_null
from soundscraping.sites.soundcloud.images import image_variant

_HYDRATION_MARK = re.compile(r"window\.__sc_hydration\s*=\s*")
_SCRIPT_SRC = re.compile(r"<script\b[^>]*\bsrc=\"([^\"]+)\"", re.IGNORECASE)
# The web app's config literal: client_id:"<32 alphanumerics>" (2026) or the
# older client_id="..." form.
_CLIENT_ID = re.compile(r"(?<![\w.])client_id\s*[:=]\s*\"([0-9a-zA-Z]{32})\"")
_PERMALINK = re.compile(r"^[a-z0-9][a-z0-9_-]*$")


@dataclass(frozen=True)
class Page:
    """One page of an api-v2 collection: its items and the link to the next."""

    collection: list[dict[str, Any]]
    next_href: str | None


@dataclass(frozen=True)
class DjSetRule:
    min_minutes: float = 30
    keyword_min_minutes: float = 12
    keywords: tuple[str, ...] = ("mix", "dj set", "live set", "podcast", "b2b")

    def __post_init__(self) -> None:
        words = "|".join(re.escape(k.lower()) for k in self.keywords)
        object.__setattr__(self, "_pattern", re.compile(rf"(?<![\w-])(?:{words})(?![\w-])"))

    def matches(self, duration_ms: int | None, *texts: str | None) -> bool:
        if not duration_ms:
            return False
        minutes = duration_ms / 60000
        if minutes >= self.min_minutes:
            return True
        if minutes < self.keyword_min_minutes:
            return False
        text = " ".join(t.lower() for t in texts if t)
        return bool(self._pattern.search(text))  # type: ignore[attr-defined]


# --- web pages -----------------------------------------------------------------

def parse_hydration(html: str) -> list[dict[str, Any]]:
    """The ``window.__sc_hydration`` entries of a soundcloud.com page."""
    match = _HYDRATION_MARK.search(html)
    if not match:
        raise MalformedPage("no window.__sc_hydration in page")
    try:
        entries, _ = json.JSONDecoder().raw_decode(html, match.end())
    except ValueError as exc:
        raise MalformedPage(f"unreadable __sc_hydration: {exc}") from exc
    if not isinstance(entries, list):
        raise MalformedPage("__sc_hydration is not a list")
    return [e for e in entries if isinstance(e, dict)]


def hydration_data(html: str, hydratable: str) -> Any:
    """The ``data`` of the first hydration entry of the given type, or None."""
    for entry in parse_hydration(html):
        if entry.get("hydratable") == hydratable:
            return entry.get("data")
    return None


def client_id_from_home(html: str) -> str | None:
    """client_id from the home page's ``apiClient`` hydration entry."""
    try:
        data = hydration_data(html, "apiClient")
    except MalformedPage:
        return None
    if isinstance(data, dict) and isinstance(data.get("id"), str) and data["id"]:
        return data["id"]
    return None


def asset_script_urls(html: str) -> list[str]:
    """Web-app chunk URLs (``…/assets/<n>-<hash>.js``) in page order."""
    return [src for src in _SCRIPT_SRC.findall(html) if "/assets/" in src and src.endswith(".js")]


def client_id_from_script(js: str) -> str | None:
    match = _CLIENT_ID.search(js)
    return match.group(1) if match else None


# --- api-v2 JSON -------------------------------------------------------------------

def load_json(body: bytes | str) -> Any:
    # orjson: api-v2 pages of 200 tracks are ~300 KB each; decoding them is
    # the graph crawl's largest single cost, and orjson halves it.
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise MalformedPage(f"invalid JSON ({exc})") from exc


def parse_collection_page(body: bytes | str) -> Page:
    """An api-v2 ``{collection, next_href}`` envelope.  A missing next_href key
    (search's last page) and null both end the pagination."""
    data = load_json(body)
    if not isinstance(data, dict) or not isinstance(data.get("collection"), list):
        raise MalformedPage("not a collection envelope")
    next_href = data.get("next_href")
    return Page(
        collection=[obj for obj in data["collection"] if isinstance(obj, dict)],
        next_href=next_href if isinstance(next_href, str) and next_href else None,
    )


def parse_object(body: bytes | str, kind: str | None = None) -> dict[str, Any]:
    """A single api-v2 object (resolve, /users/{id}, /tracks/{id})."""
    data = load_json(body)
    if not isinstance(data, dict) or not data.get("id"):
        raise MalformedPage("not an api-v2 object")
    if kind and data.get("kind") != kind:
        raise MalformedPage(f"expected kind {kind!r}, got {data.get('kind')!r}")
    return data


def banner_url(user: dict[str, Any]) -> str | None:
    visuals = user.get("visuals")
    if isinstance(visuals, dict):
        for visual in visuals.get("visuals") or []:
            if isinstance(visual, dict) and visual.get("visual_url"):
                return visual["visual_url"]
    return None


def _int_or_none(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _text_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def is_full_user(user: dict[str, Any]) -> bool:
    """Full profiles (``/users/{id}``, resolve, followings) carry fields that the
    mini users embedded in tracks and comments lack."""
    return "followings_count" in user or "description" in user or "track_count" in user


def parse_user_json(user: dict[str, Any], scraped_at: str | None = None) -> SoundCloudUser:
    """A user object of any completeness → item.  Absent keys stay None."""
    if not isinstance(user, dict) or not _int_or_none(user.get("id")):
        raise MalformedPage("user without id")
    full = is_full_user(user)
    avatar = _text_or_none(user.get("avatar_url"))
    banner = banner_url(user)
    return SoundCloudUser(
        id=user["id"],
        permalink=_text_or_none(user.get("permalink")),
        username=_text_or_none(user.get("username")),
        full_name=_text_or_none(user.get("full_name")),
        description=_text_or_none(user.get("description")),
        city=_text_or_none(user.get("city")),
        country_code=_text_or_none(user.get("country_code")),
        followers_count=_int_or_none(user.get("followers_count")),
        followings_count=_int_or_none(user.get("followings_count")),
        track_count=_int_or_none(user.get("track_count")),
        avatar_url=avatar,
        banner_url=banner,
        verified=user["verified"] if isinstance(user.get("verified"), bool) else None,
        created_at=_text_or_none(user.get("created_at")),
        full_profile=full,
        scraped_at=scraped_at,
        # Images are fetched for full profiles only: a mini user is a passer-by.
        file_urls=[u for u in (image_variant(avatar), banner) if u] if full else [],
    )


# Track counts a null means the uploader hides (shared/reference/soundcloud.md §3.3: Optional[int]);
# a comment's null "timestamp" is a comment pinned to no moment.
TRACK_STATS = {"likes_count": "likes_count", "reposts_count": "reposts_count", "playback_count": "playback_count",
               "comment_count": "comment_count"}
COMMENT_NULLABLE = {"timestamp": "timestamp_ms"}


def parse_track_json(track: dict[str, Any], dj_rule: DjSetRule, scraped_at: str | None = None) -> SoundCloudTrack:
    if not isinstance(track, dict) or not _int_or_none(track.get("id")):
        raise MalformedPage("track without id")
    user = track.get("user") if isinstance(track.get("user"), dict) else {}
    title = _text_or_none(track.get("title"))
    genre = _text_or_none(track.get("genre"))
    tags = _text_or_none(track.get("tag_list"))
    # Preview-only (SNIP) tracks report the 30 s preview as "duration".
    duration = _int_or_none(track.get("duration")) or _int_or_none(track.get("full_duration"))
    if track.get("policy") == "SNIP" and _int_or_none(track.get("full_duration")):
        duration = track["full_duration"]
    artwork = _text_or_none(track.get("artwork_url"))
    big_artwork = image_variant(artwork)
    # The waveform JSON (loudness envelope, ~10 KB) is kept too: `soundscraping
    # moments` draws comment density over it.
    waveform = _text_or_none(track.get("waveform_url"))
    return SoundCloudTrack(
        id=track["id"],
        user_id=_int_or_none(track.get("user_id")) or _int_or_none(user.get("id")),
        title=title,
        permalink_url=_text_or_none(track.get("permalink_url")),
        genre=genre,
        tag_list=tags,
        duration_ms=duration,
        created_at=_text_or_none(track.get("created_at")),
        # Hidden stats arrive as null and stay null (never 0).
        likes_count=_int_or_none(track.get("likes_count")),
        reposts_count=_int_or_none(track.get("reposts_count")),
        playback_count=_int_or_none(track.get("playback_count")),
        comment_count=_int_or_none(track.get("comment_count")),
        artwork_url=artwork,
        is_dj_set=dj_rule.matches(duration, title, genre, tags),
        scraped_at=scraped_at,
        waveform_url=waveform,
        site_nulls=sent_as_null(track, TRACK_STATS),
        file_urls=[u for u in (big_artwork, waveform) if u],
    )


def parse_comment_json(comment: dict[str, Any]) -> SoundCloudComment:
    if not isinstance(comment, dict) or not _int_or_none(comment.get("id")):
        raise MalformedPage("comment without id")
    user = comment.get("user") if isinstance(comment.get("user"), dict) else {}
    return SoundCloudComment(
        id=comment["id"],
        track_id=_int_or_none(comment.get("track_id")),
        user_id=_int_or_none(comment.get("user_id")) or _int_or_none(user.get("id")),
        body=_text_or_none(comment.get("body")),
        timestamp_ms=_int_or_none(comment.get("timestamp")),
        created_at=_text_or_none(comment.get("created_at")),
        site_nulls=sent_as_null(comment, COMMENT_NULLABLE),
    )


def embedded_user(obj: dict[str, Any]) -> dict[str, Any] | None:
    user = obj.get("user")
    return user if isinstance(user, dict) and _int_or_none(user.get("id")) else None


# --- interactions (community graph) ---------------------------------------------------

@dataclass
class Interactions:
    """What one page of a visited account's likes, reposts, followings or
    comments says: the edges, the users met (raw objects) and how many items
    referred to deleted objects."""

    edges: list[SoundCloudInteraction]
    users: list[dict[str, Any]]
    deleted: int = 0


def _liked_object(item: dict[str, Any]) -> dict[str, Any] | None:
    """The track or playlist of a like or repost item; None when deleted
    (null, or a stub without its owner)."""
    obj = item.get("track") if "track" in item else item.get("playlist")
    if not isinstance(obj, dict) or not _int_or_none(obj.get("id")) or embedded_user(obj) is None:
        return None
    return obj


def parse_interactions(kind: str, source_user_id: int, collection: list[dict[str, Any]]) -> Interactions:
    """Edges from a page of ``/users/{id}/likes`` (kind "like"),
    ``/stream/users/{id}/reposts`` ("repost"), ``/users/{id}/followings``
    ("follow") or ``/users/{id}/comments`` ("comment").  The target of a like,
    repost or comment is the owner of the track or playlist."""
    result = Interactions([], [])
    for item in collection:
        if kind == "follow":
            if not _int_or_none(item.get("id")):
                result.deleted += 1
                continue
            result.edges.append(SoundCloudInteraction(source_user_id, "follow", item["id"], None, None))
            result.users.append(item)
            continue
        obj = item.get("track") if kind == "comment" else _liked_object(item)
        owner = embedded_user(obj) if isinstance(obj, dict) else None
        if owner is None or not _int_or_none(obj.get("id")):
            result.deleted += 1
            continue
        result.edges.append(SoundCloudInteraction(
            source_user_id, kind, owner["id"], obj["id"], _text_or_none(item.get("created_at"))))
        result.users.append(owner)
    return result


# --- user input ----------------------------------------------------------------------

def classify_artist_ref(ref: str) -> tuple[str, str]:
    """How an ``-a artists=`` entry names an artist: ``("url", profile URL)``,
    ``("permalink", permalink)`` or ``("name", display name)``."""
    ref = ref.strip()
    if re.match(r"^https?://", ref, re.IGNORECASE):
        return "url", ref.rstrip("/")
    if ref.startswith(("soundcloud.com/", "www.soundcloud.com/", "m.soundcloud.com/")):
        return "url", "https://" + ref.rstrip("/")
    if _PERMALINK.match(ref):
        return "permalink", ref
    return "name", ref


def permalink_from_url(url: str) -> str | None:
    path = urlparse(url).path.strip("/")
    return path.split("/")[0] if path else None


def pick_user_by_name(users: list[dict[str, Any]], name: str) -> dict[str, Any] | None:
    """The search result whose username (or permalink, or full name) equals the
    wanted display name, case-insensitively; most-followed first on ties."""
    wanted = name.casefold().strip()
    for field_name in ("username", "permalink", "full_name"):
        matches = [u for u in users if str(u.get(field_name) or "").casefold().strip() == wanted]
        if matches:
            return max(matches, key=lambda u: u.get("followers_count") or 0)
    return None
