"""The Cambridge-MT replica's world: the real 616-song library (from the real
metadata CSV in ``tests/fixtures/cambridge_mt``) and a generated MyBB forum around it.

Everything is deterministic (seeded through ``_rng``) except the forum's clock:
posts are placed relative to ``ForumConfig.now`` (default: the wall clock when
the world is built) so that the replica can show MyBB's relative dates
("Today", "Yesterday", "N minutes ago") for recent posts.  Times are whole
minutes (MyBB shows no seconds).

The world holds real URLs (``https://mtkdata.cambridgemusictechnology.co.uk/…``);
``bind()`` maps every real host onto a replica base URL, and the ``expected_*``
helpers give what a crawl must store, in replica URLs.
"""

from __future__ import annotations

import calendar
import csv
import hashlib
import random
import re
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

__all__ = [
    "METADATA_CSV", "Forum", "ForumConfig", "Library", "Song", "build_forum", "load_library",
]

# The real 616-song library (tests/fixtures/README.md gives its origin and licence).
METADATA_CSV = Path(__file__).resolve().parent / "metadata_with_fine_genre.csv"

# Real hosts → replica app names.
HOST_APPS = {
    "www.cambridge-mt.com": "library",
    "cambridge-mt.com": "library",
    "mtkdata.cambridgemusictechnology.co.uk": "mtkdata",
    "multitracks.cambridge-mt.com": "multitracks",
    "previews.cambridge-mt.com": "previews",
    "discussion.cambridge-mt.com": "forum",
}
# Everything else (zenodo.org, puremix.net, archive.org, users' own sites) is
# served by the "external" app under /<host>/<path>.
FORUM_URL = "https://discussion.cambridge-mt.com"
LIBRARY_URL = "https://www.cambridge-mt.com/ms3/mtk/"

GENRE_IDS = {
    "Acoustic / Jazz / Country / Orchestral": "Acoustic",
    "Electronica / Dance / Experimental": "Electronica",
    "Pop / Singer-Songwriter": "Pop",
    "Alt Rock / Blues / Country Rock / Indie / Funk / Reggae": "AltRock",
    "Rock / Punk / Metal": "Rock",
    "Hip-Hop / R&B": "HipHop",
}
# Genre forums (fid, name), as on the real board (cambridge-mt.md §2.1).
GENRE_FORUMS = {
    "Acoustic / Jazz / Country / Orchestral": (2, "Acoustic, Jazz, Country, Orchestral"),
    "Electronica / Dance / Experimental": (3, "Electronica, Dance, Experimental, Spoken Word"),
    "Pop / Singer-Songwriter": (4, "Pop, Singer-Songwriter"),
    "Alt Rock / Blues / Country Rock / Indie / Funk / Reggae":
        (5, "Alt Rock, Blues, Country Rock, Indie, Funk, Reggae"),
    "Rock / Punk / Metal": (6, "Rock, Punk, Metal"),
    "Hip-Hop / R&B": (7, "Hip-hop, R&B, Soul"),
}
ROOT_FID = 184
ROOT_NAME = "'Mixing Secrets' Free Multitrack Download Library: mixing forum"
OWN_DOWNLOAD_HOSTS = ("mtkdata.cambridgemusictechnology.co.uk", "multitracks.cambridge-mt.com")
REGISTRATION_HOSTS = ("puremix.net", "www.puremix.net")


def _rng(*parts: object) -> random.Random:
    digest = hashlib.blake2b(repr(parts).encode("utf-8"), digest_size=8).digest()
    return random.Random(int.from_bytes(digest, "big"))


# --- the library ------------------------------------------------------------------------


@dataclass
class Song:
    index: int
    genre: str
    sub_genre: str
    artist: str
    raw_title: str  # as on the page: "NEW! 'The Calling'", "W.A. Mozart's\n'…'"
    title: str
    composer: str | None
    is_new: bool
    full_urls: list[str]
    excerpt_urls: list[str]
    full_tracks: int | None
    excerpt_tracks: int | None
    parts: int | None
    full_preview: str | None
    excerpt_preview: str | None
    unmastered: str | None
    fid: int | None
    external: bool
    registration: bool

    @property
    def forum_name(self) -> str:
        return f"{self.artist}: '{self.title}'"


def _split_title(raw: str) -> tuple[str, str | None, bool]:
    """The world's own reading of a CSV title (independent of the crawler's)."""
    is_new = raw.startswith("NEW! ")
    text = raw[5:] if is_new else raw
    composer = None
    if "\n" in text:
        composer, text = text.rsplit("\n", 1)
        composer = composer.strip()
    text = text.strip()
    assert text.startswith("'") and text.endswith("'"), raw
    return text[1:-1], composer, is_new


def _parts_of(first: str, parts: int) -> list[str]:
    """All part URLs from the first one: ``…_Full_1.zip`` / ``…_Full_Pt1.zip``."""
    m = re.search(r"_(Pt)?1\.zip$", first)
    assert m, first
    stem = first[: m.start()]
    return [f"{stem}_{m.group(1) or ''}{k}.zip" for k in range(1, parts + 1)]


@dataclass
class Library:
    songs: list[Song]
    urls: dict[str, str] = field(default_factory=dict)  # app name → replica base URL

    # -- URL mapping ---------------------------------------------------------------
    def bind(self, urls: dict[str, str]) -> None:
        self.urls = dict(urls)

    def url(self, real: str | None) -> str | None:
        """The replica URL serving ``real`` (identity before ``bind()``)."""
        if real is None or not self.urls:
            return real
        parts = urlsplit(real)
        app = HOST_APPS.get(parts.netloc)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        if app is not None:
            return self.urls[app] + path
        return f"{self.urls['external']}/{parts.netloc}{path}"

    def route(self, real: str) -> tuple[str, str]:
        """(app name, raw path with query) of a real URL."""
        parts = urlsplit(real)
        app = HOST_APPS.get(parts.netloc)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        if app is None:
            return "external", f"/{parts.netloc}{path}"
        return app, path

    # -- lookups -------------------------------------------------------------------
    def song(self, title: str, artist: str | None = None) -> Song:
        for song in self.songs:
            if song.title == title and (artist is None or song.artist == artist):
                return song
        raise KeyError(title)

    def subset(self, songs: Iterable[Song]) -> Library:
        return Library(list(songs), dict(self.urls))

    def genres(self) -> list[str]:
        return list(dict.fromkeys(s.genre for s in self.songs))

    # -- what a crawl must store -----------------------------------------------------
    def expected_song(self, song: Song) -> dict[str, Any]:
        return {
            "artist": song.artist, "title": song.title, "composer": song.composer, "genre": song.genre,
            "sub_genre": song.sub_genre, "full_tracks": song.full_tracks, "excerpt_tracks": song.excerpt_tracks,
            "multitrack_urls": [self.url(u) for u in song.full_urls],
            "excerpt_urls": [self.url(u) for u in song.excerpt_urls],
            "full_preview_url": self.url(song.full_preview), "excerpt_preview_url": self.url(song.excerpt_preview),
            "unmastered_wav_url": self.url(song.unmastered), "forum_fid": song.fid,
            "external_download": song.external, "registration_required": song.registration,
        }

    def preview_urls(self) -> dict[str, Song]:
        """Replica URL of every preview (MP3 and unmastered WAV) → its song."""
        out = {}
        for song in self.songs:
            for real in (song.full_preview, song.excerpt_preview, song.unmastered):
                if real:
                    out[self.url(real)] = song
        return out

    def zip_urls(self) -> dict[str, Song]:
        """Replica URL of every downloadable ZIP (multitrack parts, excerpts)."""
        out = {}
        for song in self.songs:
            for real in song.full_urls + song.excerpt_urls:
                if urlsplit(real).path.lower().endswith(".zip"):
                    out[self.url(real)] = song
        return out


def load_library(path: Path = METADATA_CSV) -> Library:
    """The real library as scraped in 2025 (616 songs), multi-part ZIPs
    expanded to every part (the CSV only kept part 1)."""
    songs = []
    with path.open(encoding="utf-8", newline="") as f:
        for index, row in enumerate(csv.DictReader(f)):
            title, composer, is_new = _split_title(row["Track Name"])
            full_count = row["Number of Tracks (Full)"].strip()
            full_tracks = int(m.group(1)) if (m := re.match(r"(\d+)", full_count)) else None
            parts = int(m.group(1)) if (m := re.search(r"(\d+) Parts", full_count)) else None
            full = row["Full Multitrack Link"].strip()
            full_urls = _parts_of(full, parts) if parts else ([full] if full else [])
            excerpt = row["Excerpt Multitrack Link"].strip()
            links = full_urls + ([excerpt] if excerpt else [])
            hosts = {urlsplit(u).netloc for u in links}
            fid = re.search(r"fid=(\d+)", row["Forum Link"])
            songs.append(Song(
                index=index, genre=row["Genre"], sub_genre=row["Specific Genre"], artist=row["Artist"],
                raw_title=row["Track Name"], title=title, composer=composer, is_new=is_new,
                full_urls=full_urls, excerpt_urls=[excerpt] if excerpt else [],
                full_tracks=full_tracks,
                excerpt_tracks=int(row["Number of Tracks (Excerpt)"]) if row["Number of Tracks (Excerpt)"] else None,
                parts=parts, full_preview=row["Full Mix Preview"] or None,
                excerpt_preview=row["Excerpt Mix Preview"] or None, unmastered=row["Unmastered WAV"] or None,
                fid=int(fid.group(1)) if fid else None,
                external=any(h not in OWN_DOWNLOAD_HOSTS for h in hosts),
                registration=any(h.endswith("puremix.net") for h in hosts),
            ))
    return Library(songs)


# --- the forum --------------------------------------------------------------------------

_T_START = calendar.timegm((2012, 7, 20, 9, 0, 0))

_NAMES = [
    "Dignis", "5OVEREIGNTY", "filipandrei", "Yggdra", "john-keast", "Kronostar", "monchinotdead", "tituschu",
    "phil_basement", "mikej", "ERJEE", "yamtza_jr", "Vadocci_Martini", "TRV", "lxtu", "yangchen", "杨晨",
    "Jérôme Lefèvre", "mixmaster_flo", "Ola Nordmann", "kaito.s", "BassBrain", "Low-End Larry", "Sara M",
    "ohm & amp", "TapeSat<3", "dB_or_not_dB", "VocalChainz", "Ülrich", "Nadia K.", "the_producer",
]
_EMAIL_NAMES = ["mixer.joe@gmail.com", "studio42@outlook.com", "ana.mix@yahoo.es", "info@homestudio.de"]
_TITLES = [
    "{artist} - {title} mix", "My mix of '{title}'", "{title} [Mix & Master by {user}]", "Feedback please: {title}",
    "First try at {title}", "{artist}: '{title}' by {user}", "{title} – v2", "第九届全国校园混音大赛-{title}-MIX2",
    "Mix", "{user} Mix",
]
_REPLIES = [
    "Nice mix! The vocals sit well but the low end feels a bit muddy to me.",
    "Great balance. Maybe a touch less reverb on the snare?",
    "Thanks for listening — I'll try that in the next version.",
    "Sounds punchy on my monitors, well done.",
    "Which compressor did you use on the bass?",
    "Check the tips thread for this song too.",
]
_EXTERNAL_SERVICES = [
    ("https://www.dropbox.com/s/{key}/{file}?dl=0", "Dropbox"),
    ("https://drive.google.com/file/d/{key}/view?usp=sharing", "Google Drive"),
    ("https://soundcloud.com/{user}/{slug}", "SoundCloud"),
    ("https://we.tl/t-{key}", "WeTransfer"),
]


@dataclass
class User:
    uid: int
    name: str

    @property
    def is_email(self) -> bool:
        return "@" in self.name


@dataclass
class Attachment:
    """A file attached to a post.  ``style`` is how the post shows it (the two
    shapes of cambridge-mt.md §2.4): ``player`` — Cambridge's template for MP3
    attachments (an ``<audio>`` player, the name between ``&nbsp;&nbsp;`` and
    ``&nbsp;--&nbsp;``, a ``(Download: N MB)`` link); ``stock`` — MyBB's own
    ``<a>file</a> (Size: … / Downloads: N)``."""

    aid: int
    filename: str
    style: str  # player | stock
    size: int  # bytes of the file the replica serves (the page shows this size)
    downloads: int

    @property
    def kind(self) -> str:
        return "audio" if self.style == "player" else "attachment"

    @property
    def size_text(self) -> str:
        """The size as the page shows it: in MB with two decimals in the player
        template (the reference's ``Download: 5.67 MB``; small files show as
        ``0.02 MB``), MyBB's get_friendly_size() in the stock one."""
        if self.style == "player":
            return f"{self.size / (1 << 20):.2f} MB"
        return friendly_size(self.size)


def friendly_size(size: int) -> str:
    """MyBB's get_friendly_size(): 1024-based units, rounded to 2 decimals,
    trailing zeros dropped (``20.5 KB``, ``3 MB``, ``512 bytes``)."""
    for unit, factor in (("GB", 1 << 30), ("MB", 1 << 20), ("KB", 1 << 10)):
        if size >= factor:
            return f"{round(size / factor, 2):,.2f}".rstrip("0").rstrip(".") + f" {unit}"
    return f"{size:,} bytes"


@dataclass
class Segment:
    kind: str  # text | link | email
    text: str
    url: str | None = None


@dataclass
class Post:
    pid: int
    tid: int
    user: User
    dateline: int
    lines: list[list[Segment]] = field(default_factory=list)  # the message, line by line
    quote: tuple[User, list[list[Segment]]] | None = None
    attachments: list[Attachment] = field(default_factory=list)
    mixes: list[tuple[str, str, str | None]] = field(default_factory=list)  # (real url, kind, filename)
    edited: bool = False

    @property
    def body_text(self) -> str:
        """What the post shows as text, quote first."""
        out: list[str] = []
        if self.quote is not None:
            who, lines = self.quote
            out.append(f"{who.name} Wrote:")
            out += ["".join(s.text for s in line) for line in lines]
        out += ["".join(s.text for s in line) for line in self.lines]
        return "\n".join(line for line in out)


@dataclass
class Thread:
    tid: int
    fid: int
    subject: str
    user: User
    sticky: bool
    views: int
    votes: int
    rating: float
    posts: list[Post] = field(default_factory=list)

    @property
    def started(self) -> int:
        return self.posts[0].dateline

    @property
    def last(self) -> Post:
        return max(self.posts, key=lambda p: (p.dateline, p.pid))


@dataclass
class SongForum:
    fid: int
    name: str
    genre_fid: int
    song: Song
    markup: str  # "2024" (div.author) or "2025" (span.author + thread_start_datetime)
    threads: list[Thread] = field(default_factory=list)

    def ordered_threads(self) -> list[Thread]:
        """MyBB's order: sticky first, then by last post, newest first."""
        return sorted(self.threads, key=lambda t: (not t.sticky, -t.last.dateline, -t.tid))


@dataclass
class GenreForum:
    fid: int
    name: str
    genre: str
    forums: list[SongForum] = field(default_factory=list)


@dataclass
class ForumConfig:
    seed: int = 1
    now: int | None = None  # epoch seconds (default: the wall clock, whole minute)
    # Threads per song forum: weights for 0, 1, 2, 3 threads.
    thread_weights: tuple[int, ...] = (50, 25, 15, 10)
    # Song forums given exactly this many threads (pagination at 20 a page).
    big_forums: tuple[int, ...] = (20, 21, 45)
    # Threads given exactly this many posts (pagination at 10 a page).
    big_threads: tuple[int, ...] = (10, 11, 27)
    # Only these genres get forums with threads (None: all); song forums of
    # other genres exist but are empty.
    genres: tuple[str, ...] | None = None
    # TEST SWITCH, not the reference (off by default): schema drift.  Thread
    # pages use a redesigned postbit whose author block is
    # <div class="postbit_author_card"> instead of MyBB's "author_information"
    # (as after a theme update).  tests/test_common_monitoring_e2e.py checks
    # that the crawl's field-coverage monitor catches it.
    changed_post_markup: bool = False


@dataclass
class Forum:
    config: ForumConfig
    now: int
    root: list[GenreForum]
    users: dict[int, User]
    base: str = FORUM_URL

    @property
    def song_forums(self) -> dict[int, SongForum]:
        return {sf.fid: sf for g in self.root for sf in g.forums}

    @property
    def threads(self) -> dict[int, Thread]:
        return {t.tid: t for sf in self.song_forums.values() for t in sf.threads}

    @property
    def posts(self) -> dict[int, Post]:
        return {p.pid: p for t in self.threads.values() for p in t.posts}

    @property
    def attachments(self) -> dict[int, Attachment]:
        return {a.aid: a for p in self.posts.values() for a in p.attachments}

    def bind(self, base: str) -> None:
        self.base = base

    def attachment_url(self, aid: int) -> str:
        return f"{self.base}/attachment.php?aid={aid}"

    # -- what a crawl must store -------------------------------------------------------
    def expected_threads(self, fids: Iterable[int] | None = None) -> dict[int, tuple[Any, ...]]:
        """tid → (forum_fid, title, author, started_at, views, replies, rating)."""
        wanted = set(fids) if fids is not None else None
        return {t.tid: (t.fid, t.subject, t.user.name, iso(t.started), t.views, len(t.posts) - 1,
                        t.rating if t.votes else None)
                for t in self.threads.values() if wanted is None or t.fid in wanted}

    def expected_posts(self, fids: Iterable[int] | None = None) -> dict[int, tuple[Any, ...]]:
        """pid → (tid, author, posted_at, body_text)."""
        tids = set(self.expected_threads(fids))
        return {p.pid: (p.tid, p.user.name, iso(p.dateline), p.body_text)
                for p in self.posts.values() if p.tid in tids}

    def expected_mixes(self, library: Library, fids: Iterable[int] | None = None) -> dict[tuple[str, int], tuple]:
        """(url, pid) → (tid, kind, host, filename), in replica URLs."""
        tids = set(self.expected_threads(fids))
        out: dict[tuple[str, int], tuple[Any, ...]] = {}
        for post in self.posts.values():
            if post.tid not in tids:
                continue
            for att in post.attachments:
                url = self.attachment_url(att.aid)
                out[(url, post.pid)] = (post.tid, att.kind, urlsplit(url).netloc, att.filename)
            for real, kind, filename in post.mixes:
                url = library.url(real) if _is_replica_hosted(real) else real
                out[(url, post.pid)] = (post.tid, kind, urlsplit(url).netloc, filename)
        return out


def _is_replica_hosted(url: str) -> bool:
    """Direct audio links point at hosts the replica serves (the external app)."""
    return urlsplit(url).netloc.endswith(".example.net")


def iso(t: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-").lower() or "mix"


def build_forum(library: Library, config: ForumConfig | None = None) -> Forum:
    """A forum for ``library``: category → genre forums → one song forum per
    song (real fids), threads and posts generated from ``config.seed``."""
    config = config or ForumConfig()
    now = config.now if config.now is not None else int(time.time()) // 60 * 60
    users = {1: User(1, "Mike Senior")}
    for i, name in enumerate(_NAMES + _EMAIL_NAMES):
        users[100 + i * 37] = User(100 + i * 37, name)
    posters = [u for uid, u in users.items() if uid != 1]
    genres: dict[str, GenreForum] = {}
    for genre, (fid, name) in GENRE_FORUMS.items():
        genres[genre] = GenreForum(fid, name, genre)
    counters = {"tid": 170, "pid": 300, "aid": 1000}

    def next_id(kind: str, step: int) -> int:
        counters[kind] += step
        return counters[kind]

    songs = [s for s in library.songs if s.fid is not None]
    special = {}
    active = [s for s in songs if config.genres is None or s.genre in config.genres]
    for n, song in zip(config.big_forums, active[3::37], strict=False):
        special[song.fid] = n
    big_threads = list(config.big_threads)
    recent_slots = [30 * 60, 5 * 3600, 20 * 3600, 30 * 3600, 47 * 3600]  # minutes/hours ago, today/yesterday
    for song in songs:
        genre = genres[song.genre]
        srng = _rng("song", config.seed, song.fid)
        forum = SongForum(song.fid, song.forum_name, genre.fid, song,
                          markup="2024" if srng.random() < 0.5 else "2025")
        genre.forums.append(forum)
        if config.genres is not None and song.genre not in config.genres:
            continue
        count = special.get(song.fid)
        if count is None:
            count = srng.choices(range(len(config.thread_weights)), weights=config.thread_weights)[0]
        for k in range(count):
            sticky = k == 0 and srng.random() < 0.3
            tid = next_id("tid", srng.randrange(1, 90))
            author = users[1] if sticky else srng.choice(posters)
            start = srng.randrange(_T_START, now - 3 * 86400) // 60 * 60
            if recent_slots and not sticky and srng.random() < 0.2:
                start = (now - recent_slots.pop(0)) // 60 * 60
            if sticky:
                subject = "About This Multitrack"
            else:
                subject = srng.choice(_TITLES).format(artist=song.artist, title=song.title, user=author.name)
            votes = srng.choice([0, 0, 0, 0, 1, 2, 3])
            rating = round(srng.uniform(1, 5) * 2) / 2 if votes else 0.0
            views = srng.choice([srng.randrange(0, 999), srng.randrange(1000, 25000)])
            thread = Thread(tid, song.fid, subject, author, sticky, views, votes, rating)
            n_posts = big_threads.pop(0) if big_threads and count >= 2 and k == 1 else \
                srng.choices([1, 2, 3, 4, 5], weights=[40, 30, 20, 6, 4])[0]
            t = start
            for j in range(n_posts):
                poster = author if j == 0 else srng.choice([*posters, author])
                if j:
                    t = min(now, t + srng.randrange(60, 40 * 86400) // 60 * 60)
                post = Post(next_id("pid", srng.randrange(1, 9)), tid, poster, t)
                _fill_post(post, thread, song, srng, users, next_id, first=(j == 0))
                thread.posts.append(post)
            forum.threads.append(thread)
    _same_author_same_filename(genres, users)
    return Forum(config, now, list(genres.values()), users)


def _line(*segments: Segment) -> list[Segment]:
    return list(segments)


def _fill_post(post: Post, thread: Thread, song: Song, rng: random.Random, users: dict[int, User],
               next_id: Any, first: bool) -> None:
    text = Segment
    if thread.sticky and first:
        post.lines = [
            _line(text("text", f"This is the discussion forum for '{song.title}' by {song.artist}.")),
            _line(text("text", "Download the multitrack from the library page and post your mix here.")),
        ]
        return
    if not first:
        post.lines = [_line(text("text", rng.choice(_REPLIES)))]
        roll = rng.random()
        if roll < 0.15:
            post.quote = (thread.user, [_line(text("text", "Here is my mix: "),
                                              text("link", "https://www.dropbox.com/s/q1/quoted.wav?dl=0",
                                                   "https://www.dropbox.com/s/q1/quoted.wav?dl=0"))])
        elif roll < 0.25:
            email = rng.choice(_EMAIL_NAMES)
            post.lines.append(_line(text("text", "Mail me at "), text("email", email), text("text", " for the stems.")))
        elif roll < 0.4:
            _add_mix(post, thread, song, rng, next_id)
        if rng.random() < 0.1:
            post.edited = True
        return
    post.lines = [_line(text("text", f"Here is my mix of '{song.title}'. Feedback welcome!"))]
    _add_mix(post, thread, song, rng, next_id)
    if rng.random() < 0.3:
        url = f"https://www.youtube.com/watch?v={_key(rng, 11)}"
        post.lines.append(_line(text("text", "Reference track: "), text("link", url, url)))
    if rng.random() < 0.2:
        post.lines.append(_line())
        post.lines.append(_line(text("text", "Chain: SSL-style bus comp -> tape -> limiter.")))


def _key(rng: random.Random, n: int) -> str:
    return "".join(rng.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(n))


def _add_mix(post: Post, thread: Thread, song: Song, rng: random.Random, next_id: Any) -> None:
    # Attachments only in the two shapes the reference shows (no image
    # thumbnails: the reference shows none on this forum).
    kind = rng.choices(["player", "stock", "service", "direct_mp3", "direct_wav", "none"],
                       weights=[44, 13, 25, 8, 4, 6])[0]
    base = f"{_slug(song.title)}_{_slug(post.user.name)}"
    if kind in ("player", "stock"):
        # The player is for MP3 attachments; other files get the stock template.
        ext = "mp3" if kind == "player" or rng.random() < 0.6 else "wav"
        name = f"{base}_mix.{ext}"
        size = rng.randrange(6_000, 60_000) * 2  # small real files: the page shows "0.02 MB", "20.5 KB"
        post.attachments.append(Attachment(next_id("aid", rng.randrange(1, 5)), name, kind, size,
                                           rng.randrange(0, 1400)))
    elif kind == "service":
        pattern, _label = rng.choice(_EXTERNAL_SERVICES)
        file = quote(f"{song.title} mix {post.user.name}.wav")
        url = pattern.format(key=_key(rng, 12), file=file, user=_slug(post.user.name), slug=_slug(song.title))
        post.lines.append(_line(Segment("text", "Listen here: "), Segment("link", url, url)))
        # Only the Dropbox link ends in a file name.
        filename = f"{song.title} mix {post.user.name}.wav" if "dropbox" in url else None
        post.mixes.append((url, "external", filename))
    elif kind in ("direct_mp3", "direct_wav"):
        ext = "mp3" if kind == "direct_mp3" else "wav"
        host = f"{_slug(post.user.name)}.example.net"
        url = f"https://{host}/mixes/{post.pid}/{base}.{ext}"
        post.lines.append(_line(Segment("text", "Direct download: "), Segment("link", "my mix", url)))
        post.mixes.append((url, "external", f"{base}.{ext}"))


def _same_author_same_filename(genres: dict[str, GenreForum], users: dict[int, User]) -> None:
    """The collision the old scrapers hit (files saved as <author>.mp3): one
    author posts two mixes with the same file name in two threads."""
    player_posts = [p for g in genres.values() for sf in g.forums for t in sf.threads for p in t.posts
                    if p.attachments and p.attachments[0].style == "player"]
    if len(player_posts) < 2:
        return
    a, b = player_posts[0], player_posts[len(player_posts) // 2]
    b.user = a.user
    a.attachments[0].filename = b.attachments[0].filename = "mix.mp3"
    for g in genres.values():
        for sf in g.forums:
            for t in sf.threads:
                if t.posts[0] is b:
                    t.user = a.user
