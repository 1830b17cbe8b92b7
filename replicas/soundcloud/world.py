"""Deterministic generated SoundCloud world for the replica.

Everything derives from ``WorldConfig.seed`` through ``_rng(...)`` which seeds
``random.Random`` from a blake2b digest of the parts (never ``hash()``, which is
salted per process), so the same config always yields byte-identical JSON.

Users and tracks are generated eagerly as small records; the JSON-shaped dicts
are rendered lazily for the base URLs given to ``World.bind()`` (the replica's
ports are only known at serve time).  Comments are generated lazily per track
and kept in a small LRU, so a 300,000-comment world builds in milliseconds.
"""

from __future__ import annotations

import base64
import calendar
import hashlib
import json
import random
import string
import threading
import time
import unicodedata
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["REAL_URLS", "World", "WorldConfig", "build_world", "iso", "iso_ms"]

# Base URLs used until bind() is called: the real hosts.
REAL_URLS: dict[str, str] = {
    "web": "https://soundcloud.com",
    "api": "https://api-v2.soundcloud.com",
    "assets": "https://a-v2.sndcdn.com",
    "images": "https://i1.sndcdn.com",
}

# "Now" of the world (fixed so output never depends on the wall clock).
NOW = calendar.timegm((2026, 2, 20, 12, 0, 0))
_T_SITE_START = calendar.timegm((2008, 1, 1, 0, 0, 0))
_T_USERS_END = calendar.timegm((2024, 12, 31, 0, 0, 0))
_T_TRACKS_START = calendar.timegm((2012, 1, 1, 0, 0, 0))

# Path segments under a profile that the web app reserves (never track permalinks).
RESERVED_SUBPAGES = frozenset({
    "tracks", "likes", "sets", "reposts", "albums", "popular-tracks", "followers",
    "following", "comments", "spotlight", "playlists", "toptracks", "stations",
})

_ALNUM = string.ascii_letters + string.digits
_LOWER_ALNUM = string.ascii_lowercase + string.digits


_dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def _rng(*parts: object) -> random.Random:
    """A Random seeded from a stable digest of ``parts`` (process independent)."""
    digest = hashlib.blake2b(repr(parts).encode("utf-8"), digest_size=8).digest()
    return random.Random(int.from_bytes(digest, "big"))


def iso(t: int) -> str:
    """API datetime: ISO 8601, ``Z``, no milliseconds."""
    y, mo, d, h, mi, s = _gm(t)
    return f"{y:04d}-{mo:02d}-{d:02d}T{h:02d}:{mi:02d}:{s:02d}Z"


def iso_ms(t: int) -> str:
    """Cursor datetime: like ``iso`` but with ``.000`` milliseconds."""
    return iso(t)[:-1] + ".000Z"


def _gm(t: int) -> tuple[int, int, int, int, int, int]:
    g = time.gmtime(t)
    return g.tm_year, g.tm_mon, g.tm_mday, g.tm_hour, g.tm_min, g.tm_sec


def slugify(text: str) -> str:
    """SoundCloud-like permalink: ascii-folded, lowercase, ``[a-z0-9-_]``."""
    folded = unicodedata.normalize("NFKD", text.replace("ø", "o").replace("Ø", "O")
                                   .replace("ł", "l").replace("Ł", "L").replace("æ", "ae")
                                   .replace("Æ", "Ae").replace("ß", "ss"))
    out = []
    prev_dash = True
    for ch in folded.lower():
        if ch in _LOWER_ALNUM or ch == "_":
            out.append(ch)
            prev_dash = False
        elif ch.isascii() and not prev_dash:
            out.append("-")
            prev_dash = True
    return "".join(out).strip("-_")


def _token(rng: random.Random, n: int, alphabet: str = _ALNUM) -> str:
    return "".join(rng.choices(alphabet, k=n))


# --- word banks --------------------------------------------------------------

_FIRST = ["Nova", "Echo", "Kairo", "Luna", "Vex", "Mara", "Odin", "Sable", "Iris", "Juno",
          "Rio", "Zed", "Kai", "Lena", "Milo", "Nyx", "Orion", "Pax", "Quinn", "Rhea",
          "Sol", "Tova", "Vega", "Wren", "Yara", "Zola", "Björn", "Åsa", "Zoë", "José",
          "Chloé", "Søren", "Małgorzata", "Jürgen", "Renée", "Nadia", "Amara", "Kenji",
          "Aiko", "Dmitri", "Léa", "Inês", "Tomás", "Korbin", "Cian", "Tyler", "Ayla"]
_LAST = ["Møller", "Nakamura", "Okafor", "Fernández", "Kowalski", "Dubois", "Schmidt",
         "Rossi", "Silva", "Novak", "Larsen", "Ivanova", "Haddad", "Mensah", "O'Brien",
         "Nguyen", "Ek", "Andersson", "García", "Müller", "Costa", "Petrov", "Yılmaz",
         "Kim", "Singh", "Vance", "Hopkins", "Gavin"]
_ADJ = ["Velvet", "Neon", "Ånd", "Midnight", "Hollow", "Golden", "Static", "Crimson",
        "Liquid", "Silent", "Lunar", "Cosmic", "Ñu", "Deep", "Analog", "Ænima"]
_NOUN = ["Harbour", "Ëlectric", "Echoes", "Machines", "Pulse", "Garden", "Frequencies",
         "Tides", "Signal", "Collective", "Theory", "Club", "Waves", "Circuit", "Sound"]
_UNICODE_NAMES = ["東京 Nights", "Мир Звука", "Ånd Ëlectric", "Łukasz Ørn", "Ñu Disco Club",
                  "Ænima Sound", "Çağrı Beats", "Zoë & Søren", "✨ Mira ✨"]
_PLACES = [("Berlin", "DE"), ("London", "GB"), ("São Paulo", "BR"), ("Kraków", "PL"),
           ("Toronto", "CA"), ("Tokyo", "JP"), ("Lagos", "NG"), ("Paris", "FR"),
           ("Reykjavík", "IS"), ("New York", "US"), ("Melbourne", "AU"),
           ("Ciudad de México", "MX"), ("Zürich", "CH"), ("Amsterdam", "NL"),
           ("Detroit", "US"), ("Belfast", "GB"), ("right behind you", "GB"),
           (None, None), (None, None), ("", None), ("", "DE")]
_GENRES = ["Electronic", "House", "Deep House", "Techno", "Drum & Bass", "Hip Hop/Rap",
           "Ambient", "Dubstep", "Trance", "Lo-fi", "R&B & Soul", "Pop", "Dance & EDM",
           "Minimal", ""]
_TAGS = ["deep house", "techno", "lo fi", "ambient", "minimal", "house", "dnb", "garage",
         "uk garage", "melodic techno", "chill", "dub", "afro house", "vinyl only",
         "free download", "2025", "berlin", "hypnotic"]
_TITLE_A = ["Midnight", "Lost", "Golden", "Neon", "Falling", "Paper", "Electric", "Silent",
            "Broken", "Endless", "Velvet", "Hollow", "Crystal", "Wild", "Distant", "Ñoche",
            "Über", "Café", "Sommar", "Kaleidoscope", "Northern", "Second"]
_TITLE_B = ["Drive", "You", "Hours", "Skies", "Signals", "Dreams", "Rain", "Fever",
            "Lights", "Tides", "Garden", "Motion", "Echo", "Heart", "Runner", "Fantasía",
            "Nächte", "Weather", "Hymn", "Bloom"]
_TITLE_SUFFIX = ["", "", "", " (Extended Mix)", " (Original Mix)", " feat. {first}",
                 " [Free Download]", " (VIP)", ' "Radio Edit"', " — Remastered",
                 " ({first} Remix)"]
_DJ_TITLES = ["Live at Fabric — {h}h DJ set", "Podcast {n:03d} (Mix)",
              "Boiler Room Berlin: {name} DJ Set", "Essential Mix {date}",
              "Sunrise Set @ Dekmantel {year}", "Mixtape Vol. {v} — Deep & Dubby",
              "Radio Show #{n} (Mix)", "{name} b2b {first} — Live Set"]
_LABELS = [None, None, None, "Night Shift Records", "Kollektiv Ost", "Ñu Wave", "Lowfreq",
           "Self-released", "Cor(e)"]
# What people write at a moment they react to (planted moments).
_REACTION_BODIES = ["🔥🔥", "Absolute tune 🔥🔥🔥", "this drop though…", "slaps", "💯💯💯", "Tune", "Wow"]

_COMMENT_BODIES = [
    "Absolute tune 🔥🔥🔥", "🔥🔥", "Tune", "ID?", "What's the ID at this point?? 🙏",
    'He said "drop it" and dropped it', "Ça c'est magnifique ❤️", "Line one\nline two",
    "こんにちは 音楽最高", "Привет из Москвы!", "<3", "Best set of the year — no doubt",
    "this drop though…", "Can't stop replaying this", "Grab yer granny 🔥", "💯💯💯",
    "Wow", "Classic", "8 years later still winning...", "‘quotes’ and “more quotes”",
    "Track ID please!!", "slaps", "¡Qué temazo!", "Zeds dead baby 🔥🔥", "RIP 🩵",
    "backslash \\ and <b>html</b> & stuff", "tabs\tand\ttabs", "Straight to the playlist ✅",
]


# --- configuration ------------------------------------------------------------

@dataclass(frozen=True)
class WorldConfig:
    """Shape of the generated world.  ``*_every = N`` means every N-th item
    (1-based); 0 or None disables the feature."""

    seed: int = 1
    artists: int = 5
    tracks_per_artist: int = 8
    comments_per_track: int = 12
    commenters: int | None = None  # commenter pool size, default artists * 20
    hidden_stats_every: int | None = 5
    null_timestamp_every: int | None = 7
    reply_every: int | None = 9
    dj_set_every: int | None = 4
    visuals_null_every: int | None = 3
    default_avatar_every: int | None = 6
    geo_blocked_every: int | None = 11
    missing_permalinks: tuple[str, ...] = ("ghost-artist-404",)
    # Planted moments (off by default): every N-th track gets clusters of
    # timed comments at these fractions of its duration; ``moment_share`` of
    # its top-level timed comments fall around one of them (Gaussian,
    # ``moment_spread_ms``) and read as reactions (praise, 🔥).
    moments_every: int | None = None
    moment_fractions: tuple[float, ...] = (0.25, 0.7)
    moment_share: float = 0.6
    moment_spread_ms: int = 1200
    # TEST SWITCH, not the reference (off by default): schema drift.  Every
    # api-v2 track object carries the field ``old`` under the name ``new``
    # instead, as when SoundCloud renames a key (e.g. ("playback_count",
    # "play_count")).  tests/test_common_monitoring_e2e.py checks that the
    # crawl's field-coverage monitor catches it.
    renamed_track_field: tuple[str, str] | None = None


def _every(i: int, n: int | None) -> bool:
    """True for the n-th, 2n-th, ... item of a 0-based index."""
    return bool(n) and (i + 1) % n == 0  # type: ignore[operator]


# --- internal records ------------------------------------------------------------

@dataclass
class _User:
    id: int
    permalink: str
    username: str
    first_name: str
    last_name: str
    description: str | None
    city: str | None
    country_code: str | None
    created_at: int
    last_modified: int
    followers: int
    followings: int
    likes: int
    playlist_likes: int
    playlists: int
    comments: int
    verified: bool
    pro_unlimited: bool
    avatar: str | None  # token, None = default avatar
    visual: tuple[int, str] | None  # (visual id, token) or None
    is_artist: bool = False
    track_ids: list[int] = field(default_factory=list)  # visible, newest first


@dataclass
class _Track:
    id: int
    user_id: int
    index: int  # global generation index (drives the *_every rules)
    title: str
    permalink: str
    created_at: int
    last_modified: int
    duration: int
    full_duration: int
    genre: str
    tag_list: str
    description: str | None
    label_name: str | None
    license: str
    hidden_stats: bool
    playback: int
    likes: int
    reposts: int
    n_comments: int
    artwork: tuple[str, str] | None  # (token, ext)
    wave: str
    policy: str
    monetization: str
    uuids: tuple[str, str]
    auth: str
    release_date: int | None
    publisher: bool
    dj_set: bool
    private: bool = False
    secret_token: str | None = None
    comment_base: int = 0  # first global comment ordinal of this track
    comment_break: int | None = None  # a position where comment pages end early
    # Comments posted after the world was built (World.add_comments), oldest
    # first: (comment id, author id, created_at as epoch seconds).
    added_comments: list[tuple[int, int, int]] = field(default_factory=list)

    @property
    def comment_total(self) -> int:
        return self.n_comments + len(self.added_comments)


@dataclass
class CommentBlock:
    """A track's comments, chronological (oldest first).  Only the compact JSON
    is kept (that is what the server sends); dicts are decoded on demand."""

    json: list[str]
    root: list[int]  # index of each comment's thread root (itself if top level)
    is_reply: list[bool]
    stamps: list[int | None]  # the "timestamp" field (ms into the track or None)

    @property
    def comments(self) -> list[dict[str, Any]]:
        return [json.loads(s) for s in self.json]


# --- the world ------------------------------------------------------------------

class World:
    """The generated data plus lazily rendered, URL-bound JSON dicts."""

    def __init__(self, cfg: WorldConfig, users: dict[int, _User], artist_ids: list[int],
                 commenter_ids: list[int], pool: list[int], tracks: dict[int, _Track],
                 ghosts: dict[int, tuple[int, int]]) -> None:
        self.config = cfg
        self.missing_permalinks: list[str] = list(cfg.missing_permalinks)
        self._u = users
        self._artist_ids = artist_ids
        self._commenter_ids = commenter_ids
        self._pool = pool
        self._t = tracks
        # artist id -> (ghost track id, raw index where it sits in the list)
        self._ghosts = ghosts
        self._by_permalink = {u.permalink: u.id for u in users.values()}
        self._track_by_path = {(users[t.user_id].permalink, t.permalink): t.id
                               for t in tracks.values()}
        self._lock = threading.RLock()
        self._comment_cache: OrderedDict[int, CommentBlock] = OrderedDict()
        self.comment_cache_size = 256
        self._counts: dict[str, int] | None = None
        self.urls: dict[str, str] = dict(REAL_URLS)
        # Bumped by every change after build (add_comments, set_counts): the
        # server drops the JSON it rendered before.
        self.revision = 0
        self._reset_render_cache()

    # -- binding ---------------------------------------------------------------
    def bind(self, urls: Mapping[str, str]) -> None:
        """Render every URL with these base URLs (keys web, api, assets, images)."""
        with self._lock:
            self.urls = {k: str(urls.get(k, REAL_URLS[k])).rstrip("/") for k in REAL_URLS}
            self._reset_render_cache()

    def _reset_render_cache(self) -> None:
        self._full_users: dict[int, dict[str, Any]] = {}
        self._mini_users: dict[int, dict[str, Any]] = {}
        self._mini_json: dict[int, str] = {}
        self._tracks_mini: dict[int, dict[str, Any]] = {}
        self._tracks_full: dict[int, dict[str, Any]] = {}
        self._comment_cache = OrderedDict()

    # -- users -----------------------------------------------------------------
    @property
    def artists(self) -> list[dict[str, Any]]:
        """Full user dicts of the artists, in generation order."""
        return [self.user(i) for i in self._artist_ids]  # type: ignore[misc]

    @property
    def artist_ids(self) -> list[int]:
        return list(self._artist_ids)

    @property
    def users(self) -> dict[int, dict[str, Any]]:
        """id -> full user dict for every user (artists and commenters)."""
        return {uid: self.user(uid) for uid in self._u}  # type: ignore[misc]

    def user(self, user_id: int) -> dict[str, Any] | None:
        """Full user dict (as ``/users/{id}``) or None."""
        return self._rendered_user(user_id, full=True)

    def mini_user(self, user_id: int) -> dict[str, Any] | None:
        """Mini user dict (as embedded in tracks and comments) or None."""
        return self._rendered_user(user_id, full=False)

    def _rendered_user(self, user_id: int, *, full: bool) -> dict[str, Any] | None:
        """The user dict, rendered once per id and kind (full or mini)."""
        rendered = self._full_users if full else self._mini_users
        d = rendered.get(user_id)
        if d is None:
            rec = self._u.get(user_id)
            if rec is None:
                return None
            d = rendered[user_id] = self._render_user(rec, full=full)
        return d

    def mini_user_json(self, user_id: int) -> str:
        """Compact JSON of the mini user (cached: comments embed it many times)."""
        js = self._mini_json.get(user_id)
        if js is None:
            js = self._mini_json[user_id] = _dumps(self.mini_user(user_id))
        return js

    def user_by_permalink(self, permalink: str) -> dict[str, Any] | None:
        uid = self._by_permalink.get(permalink.lower())
        return self.user(uid) if uid is not None else None

    def is_artist(self, user_id: int) -> bool:
        rec = self._u.get(user_id)
        return bool(rec and rec.is_artist)

    # -- tracks ----------------------------------------------------------------
    def tracks_of(self, artist_id: int) -> list[dict[str, Any]]:
        """Visible tracks of a user, newest first, with mini users (as in lists)."""
        rec = self._u.get(artist_id)
        if rec is None:
            return []
        return [self.track(t) for t in rec.track_ids]  # type: ignore[misc]

    def track_ids_of(self, artist_id: int) -> list[int]:
        rec = self._u.get(artist_id)
        return list(rec.track_ids) if rec else []

    def all_tracks(self) -> list[dict[str, Any]]:
        """Every visible (public) track, artist by artist, newest first."""
        return [t for aid in self._artist_ids for t in self.tracks_of(aid)]

    def private_tracks(self) -> list[dict[str, Any]]:
        """The private tracks (one per artist; reachable only with secret_token)."""
        return [self.track(gid, include_private=True)  # type: ignore[misc]
                for gid, _ in self._ghosts.values()]

    def track(self, track_id: int, full_user: bool = False,
              include_private: bool = False) -> dict[str, Any] | None:
        """Track dict: mini user (lists, ``/tracks?ids=``) or full user (``/tracks/{id}``)."""
        rec = self._t.get(track_id)
        if rec is None or (rec.private and not include_private):
            return None
        cache = self._tracks_full if full_user else self._tracks_mini
        d = cache.get(track_id)
        if d is None:
            d = cache[track_id] = self._render_track(rec, full_user)
        return d

    def track_json(self, track_id: int) -> str | None:
        """Compact JSON of the list form (mini user) without caching the dict:
        the server keeps only strings, so big worlds stay small in memory."""
        rec = self._t.get(track_id)
        if rec is None:
            return None
        d = self._tracks_mini.get(track_id)
        return _dumps(d if d is not None else self._render_track(rec, False))

    def search_index(self) -> tuple[list[tuple[str, int]], list[tuple[str, int]]]:
        """Lower-cased haystacks for /search: users (username, permalink,
        full_name; by followers) and public tracks (title, tags, genre, artist;
        by plays)."""
        users = sorted(self._u.values(), key=lambda u: (-u.followers, u.id))
        # NUL separators: a query never matches across two fields.
        u_idx = [(f"{u.username}\0{u.permalink}\0{(u.first_name + ' ' + u.last_name).strip()}".lower(), u.id)
                 for u in users]
        tracks = sorted((t for t in self._t.values() if not t.private), key=lambda t: (-t.playback, t.id))
        t_idx = [(f"{t.title}\0{t.tag_list}\0{t.genre}\0{self._u[t.user_id].username}".lower(), t.id)
                 for t in tracks]
        return u_idx, t_idx

    def track_record(self, track_id: int) -> _Track | None:
        return self._t.get(track_id)

    def track_by_path(self, artist_permalink: str, track_permalink: str,
                      secret_token: str | None = None, full_user: bool = False
                      ) -> dict[str, Any] | None:
        tid = self._track_by_path.get((artist_permalink.lower(), track_permalink.lower()))
        if tid is None:
            return None
        rec = self._t[tid]
        if rec.private and secret_token != rec.secret_token:
            return None
        return self.track(tid, full_user=full_user, include_private=True)

    def raw_track_list(self, artist_id: int) -> tuple[list[int], int | None]:
        """Track ids as the API's paging sees them (newest first) including the
        artist's private track, and the raw index of that private track."""
        rec = self._u.get(artist_id)
        if rec is None:
            return [], None
        ids = list(rec.track_ids)
        ghost = self._ghosts.get(artist_id)
        if ghost is None:
            return ids, None
        gid, pos = ghost
        ids.insert(pos, gid)
        return ids, pos

    # -- comments --------------------------------------------------------------
    def comments_of(self, track_id: int) -> list[dict[str, Any]]:
        """All comments of a track, newest first (the API's ``threaded=0`` order)."""
        block = self.comment_block(track_id)
        return [json.loads(s) for s in reversed(block.json)] if block else []

    def comment_block(self, track_id: int) -> CommentBlock | None:
        """Chronological comments of a track (cached in a small LRU)."""
        with self._lock:
            block = self._comment_cache.get(track_id)
            if block is not None:
                self._comment_cache.move_to_end(track_id)
                return block
        rec = self._t.get(track_id)
        if rec is None:
            return None
        block = self._make_comments(rec)
        with self._lock:
            self._comment_cache[track_id] = block
            while len(self._comment_cache) > self.comment_cache_size:
                self._comment_cache.popitem(last=False)
        return block

    def counts(self) -> dict[str, int]:
        """{"artists","tracks","comments","comment_authors"} over visible tracks."""
        if self._counts is None:
            authors: set[int] = set()
            n_comments = 0
            for aid in self._artist_ids:
                for tid in self._u[aid].track_ids:
                    rec = self._t[tid]
                    n_comments += rec.comment_total
                    authors.update(self._comment_authors(rec)[0])
                    authors.update(a for _, a, _ in rec.added_comments)
            self._counts = {
                "artists": len(self._artist_ids),
                "tracks": sum(len(self._u[a].track_ids) for a in self._artist_ids),
                "comments": n_comments,
                "comment_authors": len(authors),
            }
        return dict(self._counts)

    # -- changes (for re-crawl tests) ----------------------------------------------
    def add_comments(self, track_id: int, n: int, created_at: int | None = None) -> list[int]:
        """Post ``n`` new top-level comments on a track, now (or at
        ``created_at``, epoch seconds), by existing commenters; its
        comment_count grows by ``n``.  Returns the new comment ids, which are
        larger than every id in the world (ids grow with time, as on
        SoundCloud)."""
        rec = self._t[track_id]
        when = int(time.time()) if created_at is None else created_at
        with self._lock:
            newest = max([c[0] for t in self._t.values() for c in t.added_comments]
                         + [1_400_000_000 + 4 * (t.comment_base + t.n_comments) for t in self._t.values()])
            ids = [newest + 4 * (k + 1) for k in range(n)]
            rng = _rng(self.config.seed, "added-comments", track_id, len(rec.added_comments))
            for k, cid in enumerate(ids):
                author = self._pool[rng.randrange(len(self._pool))]
                rec.added_comments.append((cid, author, when + k))
            self._changed()
        return ids

    def set_counts(self, track_id: int, *, playback: int | None = None, likes: int | None = None,
                   reposts: int | None = None) -> None:
        """Change a track's counts (plays, likes, reposts), as time does."""
        rec = self._t[track_id]
        with self._lock:
            rec.playback = rec.playback if playback is None else playback
            rec.likes = rec.likes if likes is None else likes
            rec.reposts = rec.reposts if reposts is None else reposts
            self._changed()

    def _changed(self) -> None:
        self.revision += 1
        self._counts = None
        self._reset_render_cache()

    # -- rendering ---------------------------------------------------------------
    def _avatar_url(self, u: _User) -> str:
        if u.avatar is None:
            return f"{self.urls['images']}/images/default_avatar_large.png"
        return f"{self.urls['images']}/avatars-{u.avatar}-large.jpg"

    def _badges(self, u: _User) -> dict[str, bool]:
        return {"pro": False, "creator_mid_tier": False, "pro_unlimited": u.pro_unlimited,
                "verified": u.verified}

    def _render_user(self, u: _User, full: bool) -> dict[str, Any]:
        web, api = self.urls["web"], self.urls["api"]
        full_name = f"{u.first_name} {u.last_name}".strip()
        uri = f"{api}/users/soundcloud%3Ausers%3A{u.id}"
        if not full:
            # Key order as in the recorded comment/track samples.
            return {
                "avatar_url": self._avatar_url(u), "first_name": u.first_name,
                "followers_count": u.followers, "full_name": full_name, "id": u.id,
                "kind": "user", "last_modified": iso(u.last_modified),
                "last_name": u.last_name, "permalink": u.permalink,
                "permalink_url": f"{web}/{u.permalink}", "uri": uri,
                "urn": f"soundcloud:users:{u.id}", "username": u.username,
                "verified": u.verified, "city": u.city, "country_code": u.country_code,
                "badges": self._badges(u),
                "station_urn": f"soundcloud:system-playlists:artist-stations:{u.id}",
                "station_permalink": f"artist-stations:{u.id}",
            }
        product = "creator-pro-unlimited" if u.pro_unlimited else "free"
        visuals = None
        if u.visual is not None:
            vid, tok = u.visual
            visuals = {"urn": f"soundcloud:users:{u.id}", "enabled": True,
                       "visuals": [{"urn": f"soundcloud:visuals:{vid}", "entry_time": 0,
                                    "visual_url": f"{self.urls['images']}/visuals-{u.id:012d}-{tok}-original.jpg"}],
                       "tracking": None}
        return {
            "avatar_url": self._avatar_url(u), "city": u.city,
            "comments_count": u.comments, "country_code": u.country_code,
            "created_at": iso(u.created_at),
            "creator_subscriptions": [{"product": {"id": product}}],
            "creator_subscription": {"product": {"id": product}},
            "description": u.description, "followers_count": u.followers,
            "followings_count": u.followings, "first_name": u.first_name,
            "full_name": full_name, "groups_count": 0, "id": u.id, "kind": "user",
            "last_modified": iso(u.last_modified), "last_name": u.last_name,
            "likes_count": u.likes, "playlist_likes_count": u.playlist_likes,
            "permalink": u.permalink, "permalink_url": f"{web}/{u.permalink}",
            "playlist_count": u.playlists, "reposts_count": None,
            "track_count": len(u.track_ids), "uri": uri,
            "urn": f"soundcloud:users:{u.id}", "username": u.username,
            "verified": u.verified, "visuals": visuals, "badges": self._badges(u),
            "station_urn": f"soundcloud:system-playlists:artist-stations:{u.id}",
            "station_permalink": f"artist-stations:{u.id}", "date_of_birth": None,
        }

    def _render_track(self, t: _Track, full_user: bool) -> dict[str, Any]:
        web, api, images = self.urls["web"], self.urls["api"], self.urls["images"]
        owner = self._u[t.user_id]
        hidden = t.hidden_stats
        url = f"{web}/{owner.permalink}/{t.permalink}"
        if t.private:
            url += f"/{t.secret_token}"
        transcodings: list[dict[str, Any]] = []
        if t.policy != "BLOCK":
            snipped = t.policy == "SNIP"
            dur = 30000 if snipped else t.duration
            base = f"{api}/media/soundcloud:tracks:{t.id}"
            transcodings = [
                {"url": f"{base}/{t.uuids[0]}/stream/hls", "preset": "mp3_1_0",
                 "duration": dur, "snipped": snipped,
                 "format": {"protocol": "hls", "mime_type": "audio/mpeg"},
                 "quality": "sq", "is_legacy_transcoding": True},
                {"url": f"{base}/{t.uuids[0]}/stream/progressive", "preset": "mp3_1_0",
                 "duration": dur, "snipped": snipped,
                 "format": {"protocol": "progressive", "mime_type": "audio/mpeg"},
                 "quality": "sq", "is_legacy_transcoding": True},
                {"url": f"{base}/{t.uuids[1]}/stream/hls", "preset": "opus_0_0",
                 "duration": dur, "snipped": snipped,
                 "format": {"protocol": "hls", "mime_type": 'audio/ogg; codecs="opus"'},
                 "quality": "sq", "is_legacy_transcoding": True},
            ]
        publisher = None
        if t.publisher:
            publisher = {"id": t.id, "urn": f"soundcloud:tracks:{t.id}",
                         "artist": owner.username, "album_title": t.title,
                         "contains_music": True, "isrc": f"QZ{t.id % 10**10:010d}",
                         "explicit": False, "release_title": t.title}
        user = self.user(t.user_id) if full_user else self.mini_user(t.user_id)
        obj = {
            "artwork_url": (f"{images}/artworks-{t.artwork[0]}-large.{t.artwork[1]}"
                            if t.artwork else None),
            "caption": None, "commentable": True,
            "comment_count": None if hidden else t.comment_total,
            "created_at": iso(t.created_at), "description": t.description,
            "downloadable": False, "download_count": 0, "duration": t.duration,
            "full_duration": t.full_duration, "embeddable_by": "all", "genre": t.genre,
            "has_downloads_left": False, "id": t.id, "kind": "track",
            "label_name": t.label_name, "last_modified": iso(t.last_modified),
            "license": t.license, "likes_count": None if hidden else t.likes,
            "permalink": t.permalink, "permalink_url": url,
            "playback_count": None if hidden else t.playback, "public": not t.private,
            "publisher_metadata": publisher, "purchase_title": None, "purchase_url": None,
            "release_date": iso(t.release_date) if t.release_date else None,
            "reposts_count": None if hidden else t.reposts,
            "secret_token": t.secret_token, "sharing": "private" if t.private else "public",
            "state": "finished", "streamable": True, "tag_list": t.tag_list,
            "title": t.title, "uri": f"{api}/tracks/soundcloud%3Atracks%3A{t.id}",
            "urn": f"soundcloud:tracks:{t.id}", "user_id": t.user_id, "visuals": None,
            "waveform_url": f"{images}/{t.wave}_m.json",
            "display_date": iso(t.created_at), "media": {"transcodings": transcodings},
            "station_urn": f"soundcloud:system-playlists:track-stations:{t.id}",
            "station_permalink": f"track-stations:{t.id}", "track_authorization": t.auth,
            "monetization_model": t.monetization, "policy": t.policy, "user": user,
        }
        if self.config.renamed_track_field:  # the schema-drift test switch (WorldConfig)
            old, new = self.config.renamed_track_field
            obj = {new if k == old else k: v for k, v in obj.items()}
        return obj

    # -- comment generation ----------------------------------------------------------
    def planted_moments(self, track_id: int) -> list[int]:
        """Centres (ms into the track) of the comment clusters planted on a
        track (``WorldConfig.moments_every``); empty for other tracks."""
        t = self._t[track_id]
        if not _every(t.index, self.config.moments_every):
            return []
        return [int(t.duration * f) for f in self.config.moment_fractions]

    def _comment_authors(self, t: _Track) -> tuple[list[int], list[bool]]:
        """Authors and reply flags of a track's comments (chronological).  Kept
        separate from bodies so ``counts()`` can replay it cheaply."""
        cfg = self.config
        rng = _rng(cfg.seed, "comment-authors", t.id)
        pool = self._pool
        n_pool = len(pool)
        authors: list[int] = []
        replies: list[bool] = []
        for i in range(t.n_comments):
            reply = i > 0 and _every(i, cfg.reply_every)
            if reply and rng.random() < 0.5:
                uid = t.user_id  # the artist answering a fan
            else:
                # Skewed: a few users write many comments, most write one.
                uid = pool[int(n_pool * rng.random() ** 2.2)]
            authors.append(uid)
            replies.append(reply)
        return authors, replies

    def _make_comments(self, t: _Track) -> CommentBlock:
        cfg = self.config
        n = t.n_comments
        authors, replies = self._comment_authors(t)
        rng = _rng(cfg.seed, "comments", t.id)
        start = t.created_at + 120
        span = max(NOW - start, n + 1)
        times = sorted(rng.randrange(span) for _ in range(n))
        for i in range(1, n):  # strictly increasing, replies after their parent
            if times[i] <= times[i - 1]:
                times[i] = times[i - 1] + 1 + rng.randrange(600)
        encoded: list[str] = []
        root: list[int] = []
        stamps: list[int | None] = []
        cid_base = 1_400_000_000 + t.comment_base * 4
        planted = self.planted_moments(t.id)
        for i in range(n):
            cid = cid_base + i * 4 + rng.randrange(4)
            body = rng.choice(_COMMENT_BODIES)
            stamp: int | None
            if replies[i]:
                stamp = stamps[i - 1]  # replies share the parent's timestamp
                body = f"@{self._u[authors[i - 1]].permalink} {body}"
                root.append(root[i - 1])
            else:
                root.append(i)
                stamp = (None if _every(i, cfg.null_timestamp_every)
                         else rng.randrange(max(t.duration - 1000, 1)))
                if planted and stamp is not None and rng.random() < cfg.moment_share:
                    centre = planted[rng.randrange(len(planted))]
                    stamp = min(max(int(rng.gauss(centre, cfg.moment_spread_ms)), 0), t.duration - 1)
                    body = rng.choice(_REACTION_BODIES)
            stamps.append(stamp)
            # Hand-assembled compact JSON (identical to json.dumps of the dict,
            # ensure_ascii=False): the embedded mini user is encoded once per user.
            encoded.append(
                f'{{"kind":"comment","id":{cid},"body":{_dumps(body)},'
                f'"created_at":"{iso(start + times[i])}","timestamp":{"null" if stamp is None else stamp},'
                f'"track_id":{t.id},"user_id":{authors[i]},'
                f'"self":{{"urn":"soundcloud:comments:{cid}"}},"user":{self.mini_user_json(authors[i])}}}')
        for cid, author, created in t.added_comments:
            stamp = rng.randrange(max(t.duration - 1000, 1))
            root.append(len(root))
            replies.append(False)
            stamps.append(stamp)
            encoded.append(
                f'{{"kind":"comment","id":{cid},"body":{_dumps(rng.choice(_COMMENT_BODIES))},'
                f'"created_at":"{iso(created)}","timestamp":{stamp},"track_id":{t.id},"user_id":{author},'
                f'"self":{{"urn":"soundcloud:comments:{cid}"}},"user":{self.mini_user_json(author)}}}')
        return CommentBlock(json=encoded, root=root, is_reply=replies, stamps=stamps)


# --- generation -------------------------------------------------------------------

def _unique_permalink(base: str, used: set[str], rng: random.Random, reserved: Iterable[str]) -> str:
    base = base or f"user-{rng.randrange(10**8, 10**9)}"
    cand = base
    while cand in used or cand in reserved:
        cand = f"{base}-{rng.randrange(1, 999)}"
    used.add(cand)
    return cand


def _artist_name(rng: random.Random, i: int) -> tuple[str, str, str, str]:
    """(username, first_name, last_name, permalink-base) for an artist."""
    first, last = rng.choice(_FIRST), rng.choice(_LAST)
    style = i % 7
    if style == 0:
        user = f"DJ {first}"
        perm = f"dj-{slugify(first)}-{rng.randrange(1, 99)}"
    elif style == 1:
        user = f"{first} {last}"
        perm = slugify(user)
    elif style == 2:
        user = f"{rng.choice(_ADJ)} {rng.choice(_NOUN)}"
        perm = slugify(user)
    elif style == 3:
        user = rng.choice(_UNICODE_NAMES)
        perm = slugify(user)
    elif style == 4:
        user = f"{first.upper()} {rng.choice(['MUSIC', 'BEATS', 'SOUND', 'OFFICIAL'])}"
        perm = f"{slugify(first)}_{rng.choice(['music', 'beats', 'sound', 'official'])}"
    elif style == 5:
        user = f"MC {first}"
        perm = f"mc{slugify(first)}{rng.randrange(10, 999)}"
    else:
        noun = rng.choice(_NOUN)
        user = f"The {noun}" if noun.endswith("s") else f"The {noun}s"
        perm = "the-" + slugify(user[4:])
    if rng.random() < 0.35:
        return user, first, last, perm
    return user, "", "", perm


def _commenter_name(rng: random.Random) -> tuple[str, str, str, str]:
    r = rng.random()
    if r < 0.3:
        digits = rng.randrange(10**5, 10**9)
        return f"user{digits}", "", "", f"user{digits}"
    first, last = rng.choice(_FIRST), rng.choice(_LAST)
    if r < 0.7:
        return f"{first} {last}", first, last, f"{slugify(first)}-{slugify(last)}"
    if r < 0.85:
        nick = f"{slugify(first)}{rng.randrange(1, 9999)}"
        return nick, first, "", nick
    emoji = rng.choice(["✨", "🎧", "🔥", "🌙"])
    return f"{emoji} {first} {emoji}", first, "", f"{slugify(first)}_{rng.randrange(10, 99)}"


def _description(rng: random.Random, username: str, permalink: str, city: str | None,
                 genre: str) -> str | None:
    r = rng.random()
    if r < 0.1:
        return None
    if r < 0.2:
        return ""
    where = f" from {city}" if city else ""
    lines = [f"{username} — {genre or 'electronic'} producer & DJ{where}.",
             f"Bookings: https://bookings.example.com/{permalink}"]
    if rng.random() < 0.5:
        lines += ["", "“Music is the answer” ✨", f"Demos: demos+{permalink}@example.org"]
    return "\n".join(lines)


def _make_user(rng: random.Random, uid: int, names: tuple[str, str, str, str],
               used: set[str], reserved: set[str], created: int, followers: int,
               default_avatar: bool, no_visuals: bool) -> _User:
    username, first, last, perm = names
    permalink = _unique_permalink(perm, used, rng, reserved)
    city, cc = rng.choice(_PLACES)
    if default_avatar:
        avatar = None
    elif rng.random() < 0.5:
        avatar = f"{_token(rng, 16)}-{_token(rng, 7)}"
    else:
        avatar = f"000{rng.randrange(10**8, 10**9)}-{_token(rng, 6, _LOWER_ALNUM)}"
    visual = None if no_visuals else (rng.randrange(10**7, 3 * 10**8), _token(rng, 6))
    verified = followers > 200_000 or rng.random() < 0.05
    return _User(
        id=uid, permalink=permalink, username=username, first_name=first, last_name=last,
        description=_description(rng, username, permalink, city, rng.choice(_GENRES)),
        city=city, country_code=cc, created_at=created,
        last_modified=created + rng.randrange(NOW - created),
        followers=followers, followings=int(rng.paretovariate(1.3) * 20) - 20,
        likes=rng.randrange(0, 3000), playlist_likes=rng.randrange(0, 60),
        playlists=rng.randrange(0, 40), comments=rng.randrange(0, 500), verified=verified,
        pro_unlimited=rng.random() < 0.2, avatar=avatar, visual=visual)


def _tag_list(rng: random.Random) -> str:
    r = rng.random()
    if r < 0.2:
        return ""
    if r < 0.27:  # the odd real-world form with trailing spaces inside quotes
        return " ".join(f'"{t} "' for t in rng.sample(_TAGS, 2))
    tags = rng.sample(_TAGS, rng.randrange(1, 5))
    return " ".join(f'"{t}"' if " " in t else t for t in tags)


def build_world(cfg: WorldConfig | None = None) -> World:
    """Generate the world for ``cfg`` (deterministic, cheap even for big worlds)."""
    cfg = cfg or WorldConfig()
    rng = _rng(cfg.seed, "world")
    reserved = set(cfg.missing_permalinks)
    used_perm: set[str] = set()
    used_ids: set[int] = set()
    users: dict[int, _User] = {}

    def new_user_id(created: int) -> int:
        # Ids grow with sign-up time, like the real ones (6..10 digits).
        frac = (created - _T_SITE_START) / (_T_USERS_END - _T_SITE_START)
        uid = 100_000 + int(frac ** 2 * 1_900_000_000) + rng.randrange(1000)
        while uid in used_ids:
            uid += 1
        used_ids.add(uid)
        return uid

    artist_ids: list[int] = []
    for i in range(cfg.artists):
        created = rng.randrange(_T_SITE_START, _T_USERS_END)
        if i % 40 == 0:
            followers = rng.randrange(1_500_000, 6_000_000)  # a few big names
        elif i % 10 == 5:
            followers = rng.randrange(50_000, 900_000)
        else:
            followers = min(int(rng.paretovariate(0.9) * 40) - 40, 5_000_000)
        uid = new_user_id(created)
        users[uid] = _make_user(rng, uid, _artist_name(rng, i), used_perm, reserved, created,
                                followers, _every(i, cfg.default_avatar_every),
                                _every(i, cfg.visuals_null_every))
        users[uid].is_artist = True
        artist_ids.append(uid)

    n_pool = cfg.commenters if cfg.commenters is not None else cfg.artists * 20
    n_pool = max(n_pool, 1)
    # Some artists also comment; the rest of the pool are plain listeners.
    artist_commenters = artist_ids[::2][: max(n_pool // 10, 1)] if artist_ids else []
    commenter_ids: list[int] = []
    for j in range(max(n_pool - len(artist_commenters), 0)):
        created = rng.randrange(_T_SITE_START, _T_USERS_END)
        followers = int(rng.paretovariate(1.5) * 3) - 3
        uid = new_user_id(created)
        users[uid] = _make_user(rng, uid, _commenter_name(rng), used_perm, reserved, created,
                                followers, _every(j, cfg.default_avatar_every) or rng.random() < 0.25,
                                _every(j, cfg.visuals_null_every) or rng.random() < 0.7)
        commenter_ids.append(uid)
    pool = commenter_ids + artist_commenters
    _rng(cfg.seed, "pool").shuffle(pool)

    # Tracks: timestamps first (distinct across the world), ids after a global
    # sort so that newer tracks have bigger ids, like on the real site.
    tracks: list[_Track] = []
    per_artist: dict[int, list[_Track]] = {}
    ghosts_pending: list[tuple[int, _Track, int]] = []
    used_times: set[int] = set()
    g = 0
    for aid in artist_ids:
        owner = users[aid]
        n = cfg.tracks_per_artist
        lo = max(owner.created_at + 30 * 86400, _T_TRACKS_START)
        times: set[int] = set()
        while len(times) < n + 1:
            ts = rng.randrange(lo, NOW - 3600)
            if ts not in used_times:
                times.add(ts)
                used_times.add(ts)
        ordered = sorted(times, reverse=True)
        ghost_pos = rng.randrange(1, n) if n > 1 else 0
        used_tperm: set[str] = set()
        visible_times = ordered[:ghost_pos] + ordered[ghost_pos + 1:]
        mine = per_artist[aid] = []
        for ts in visible_times:
            mine.append(_new_track(rng, cfg, g, owner, ts, used_tperm))
            g += 1
        tracks.extend(mine)
        if n > 0:
            ghost = _new_track(rng, cfg, -1, owner, ordered[ghost_pos], used_tperm)
            ghost.private = True
            ghost.secret_token = "s-" + _token(rng, 11)
            ghost.n_comments = 0
            ghosts_pending.append((aid, ghost, ghost_pos))

    all_tracks = tracks + [gh for _, gh, _ in ghosts_pending]
    order = sorted(all_tracks, key=lambda t: t.created_at)
    step = max(1_200_000_000 // max(len(order), 1), 2)
    for rank, t in enumerate(order):
        t.id = 1_000_000_000 + rank * step + rng.randrange(step)
    for t in all_tracks:  # things that embed the id
        trng = _rng(cfg.seed, "track-extra", t.id)
        t.uuids = (_uuid(trng), _uuid(trng))
        t.auth = _fake_jwt(trng, t.id)

    # Comment counts: exact average per artist (pairs move comments between
    # each other) so totals stay predictable while some tracks have none.
    for a_index, aid in enumerate(artist_ids):
        mine = per_artist[aid]
        c = cfg.comments_per_track
        for k in range(0, len(mine) - 1, 2):
            prng = _rng(cfg.seed, "pair", mine[k].id)
            # Every 3rd artist's first pair guarantees a track without comments.
            forced = a_index % 3 == 0 and k == 0
            d = c if forced or prng.random() < 0.15 else prng.randrange(0, c // 2 + 1)
            mine[k].n_comments, mine[k + 1].n_comments = c - d, c + d
        if len(mine) % 2:
            mine[-1].n_comments = c
        users[aid].track_ids = [t.id for t in mine]  # already newest first
    ordinal = 0
    for t in tracks:
        t.comment_base = ordinal
        ordinal += t.n_comments
        if t.index % 10 == 3 and t.n_comments >= 3:
            t.comment_break = _rng(cfg.seed, "cbreak", t.id).randrange(1, t.n_comments)

    ghosts = {aid: (gh.id, pos) for aid, gh, pos in ghosts_pending}
    by_id = {t.id: t for t in all_tracks}
    return World(cfg, users, artist_ids, commenter_ids, pool, by_id, ghosts)


def _uuid(rng: random.Random) -> str:
    h = f"{rng.getrandbits(128):032x}"
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{h[16:20]}-{h[20:]}"


def _fake_jwt(rng: random.Random, track_id: int) -> str:
    def b64(obj: object) -> str:
        raw = json.dumps(obj, separators=(",", ":")).encode()
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
    head = b64({"typ": "JWT", "alg": "HS256"})
    body = b64({"geo": "DE", "sub": "", "rid": _uuid(rng), "iat": NOW - track_id % 86400})
    return f"{head}.{body}.{_token(rng, 43, _ALNUM + '-_')}"


def _new_track(rng: random.Random, cfg: WorldConfig, g: int, owner: _User, ts: int,
               used: set[str]) -> _Track:
    dj = g >= 0 and _every(g, cfg.dj_set_every)
    first = rng.choice(_FIRST)
    if dj:
        title = rng.choice(_DJ_TITLES).format(
            h=rng.randrange(2, 5), n=rng.randrange(1, 200), name=owner.username,
            date=iso(ts)[:10], year=iso(ts)[:4], v=rng.randrange(1, 30), first=first)
        duration = rng.randrange(45 * 60_000, 120 * 60_000)
        genre = "Mix"
    else:
        title = (f"{rng.choice(_TITLE_A)} {rng.choice(_TITLE_B)}"
                 + rng.choice(_TITLE_SUFFIX).format(first=first))
        duration = rng.randrange(95_000, 8 * 60_000)
        genre = rng.choice(_GENRES)
    permalink = slugify(title) or f"track-{rng.randrange(10**6)}"
    permalink = _unique_permalink(permalink, used, rng, RESERVED_SUBPAGES)
    playback = int(owner.followers * rng.uniform(0.02, 2.5)) + rng.randrange(5, 400)
    likes = playback // rng.randrange(15, 70)
    blocked = g >= 0 and _every(g, cfg.geo_blocked_every)
    if blocked:
        policy, money = "BLOCK", "NOT_APPLICABLE"
    else:
        r = rng.random()
        policy, money = (("MONETIZE", rng.choice(["AD_SUPPORTED", "BLACKBOX"])) if r < 0.6
                         else ("ALLOW", "NOT_APPLICABLE") if r < 0.95
                         else ("SNIP", "SUB_HIGH_TIER"))
    desc_r = rng.random()
    description = (None if desc_r < 0.3 else "" if desc_r < 0.45 else
                   f"{title}\nOut now on all platforms.\nhttps://links.example.net/{slugify(title)[:20]}")
    artwork = None
    if rng.random() > 0.2:
        if rng.random() < 0.5:
            artwork = (f"{_token(rng, 12)}-0", "jpg" if rng.random() < 0.9 else "png")
        else:
            artwork = (f"000{rng.randrange(10**8, 10**9)}-{_token(rng, 6, _LOWER_ALNUM)}", "jpg")
    return _Track(
        id=0, user_id=owner.id, index=g, title=title, permalink=permalink, created_at=ts,
        last_modified=ts + rng.randrange(0, 86400 * 30), duration=duration,
        full_duration=duration + (rng.randrange(-40, 40) if rng.random() < 0.2 else 0),
        genre=genre, tag_list=_tag_list(rng), description=description,
        label_name=rng.choice(_LABELS),
        license="all-rights-reserved" if rng.random() < 0.85 else "cc-by-nc",
        hidden_stats=g >= 0 and _every(g, cfg.hidden_stats_every), playback=playback,
        likes=likes, reposts=likes // rng.randrange(4, 25), n_comments=0, artwork=artwork,
        wave=_token(rng, 12), policy=policy, monetization=money, uuids=("", ""), auth="",
        release_date=(ts - ts % 86400) if rng.random() < 0.25 else None,
        publisher=rng.random() < 0.3, dj_set=dj)
