"""The SoundCloud replica: soundcloud.com, api-v2, the asset CDN and the image CDN.

Shapes follow the recorded responses in tests/fixtures/soundcloud and the
reference notes (soundcloud.md §1-§8).  Four apps on four ports, started by one
``AppThread``; every absolute URL in a response is built from the bound base
URLs.  Misbehaviour of the real site (short/empty pages, client_id rotation,
rate limits, 502s, truncated JSON, DataDome) is switched by ``Quirks``.

One module per host: ``api`` (api-v2), ``web`` (soundcloud.com), ``assets``
(a-v2.sndcdn.com), ``images`` (i1.sndcdn.com), and ``datadome`` for the
anti-bot check they share; this module holds the state they serve from
(lifecycle, client_ids, caches) and the responses every host writes.
"""

from __future__ import annotations

import secrets
import threading
from collections import OrderedDict, deque
from dataclasses import dataclass

from aiohttp import web

from replicas.common import Holds, Signer
from replicas.common import Stats as _Stats
from replicas.runner import AppThread, StartStop
from replicas.soundcloud.api import ApiHost
from replicas.soundcloud.assets import AssetsHost
from replicas.soundcloud.datadome import DataDome
from replicas.soundcloud.graph import GraphWorld
from replicas.soundcloud.images import ImagesHost
from replicas.soundcloud.responses import API_HEADERS, cf_id
from replicas.soundcloud.web import WebHost
from replicas.soundcloud.world import (
    REAL_URLS,
    World,
    WorldConfig,
    _rng,
    build_world,
    iso,
    iso_ms,
)
from replicas.tls import https_gate

__all__ = ["Quirks", "SoundCloudReplica", "Stats"]


@dataclass
class Quirks:
    """Switchable misbehaviour of the real site (defaults = what tests use)."""

    # Pages shorter than `limit` with a next_href, plus exactly one empty page
    # (with next_href) in every artist's track list.
    short_pages: bool = True
    # After this many accepted api requests the client_id changes (old one -> 401).
    rotate_client_id_after: int | None = None
    # (max_requests, window_seconds) per client_id; above it -> 429, no Retry-After.
    rate_limit: tuple[int, float] | None = None
    # First request of every N-th distinct paged URL -> 502 (CloudFront HTML).
    error_5xx_every: int | None = None
    # First request of every N-th distinct paged URL -> 200 with truncated JSON.
    malformed_json_every: int | None = None
    # Sleep before answering every api request.
    latency_ms: int = 0
    # DataDome guards /users/{id}/tracks (the route names in datadome_routes;
    # [V] only that one carried x-datadome headers).  Over plain HTTP the
    # cookie decides: a valid datadome (what tags.js earns in a browser).
    datadome: bool = True
    # How long a datadome value stays valid server-side (seconds).  The
    # Set-Cookie always says Max-Age=31536000 (as the real one does): the
    # client keeps it a year, the server decides whether it still counts, so
    # a client must follow every re-issue.  Earlier values stay valid until
    # then [I: concurrent requests of one browser carry the previous value].
    datadome_cookie_ttl: int = 3600
    datadome_routes: frozenset[str] = frozenset({"api_user_tracks"})
    # HTTPS for api-v2 (test CA made at start-up: ``replica.ca_file``): the
    # check then judges the TLS ClientHello peeked before the handshake
    # (replicas/tls.py).  A non-browser handshake is refused whatever
    # cookie it carries; a Chrome-like one passes without a cookie, as
    # yt-dlp's curl_cffi impersonation does (reference §7) [I, stricter case].
    https: bool = False
    # [I, a switch] DataDome has learnt the impersonated fingerprint: a
    # Chrome-like handshake also needs a valid cookie (what a browser pass
    # earns).  This is how tests reach the browser route over HTTPS: the
    # Chromium pass itself runs on the (plain HTTP) web host.
    impersonation_refused: bool = False
    # Artists whose /users/{id}/tracks DataDome refuses to every client (a
    # captcha no automated browser passes) ...
    tracks_refused_users: frozenset[int] = frozenset()
    # ... and whose /stream/users/{id} is refused too (then only toptracks).
    stream_refused_users: frozenset[int] = frozenset()
    # Fixed first client_id (default: derived from the world seed).
    initial_client_id: str | None = None
    # Graph lists (likes, reposts, followings, followers, comments): pages
    # shorter than `limit` (filtered entries dropped after the window is cut)
    # and one empty page with a next_href per list; off = always full pages.
    graph_short_pages: bool = True
    # The last page of /stream/users/{id}/reposts carries a next_href equal to
    # the URL it was requested with (client_id removed): the same page again.
    repeat_last_repost_page: bool = True
    # Repost pages hold at most 10 items whatever the limit.
    tiny_repost_pages: bool = False


class Stats(_Stats):
    """Live counters: requests per route name, ``status_<code>``,
    ``client_id_rotations``, ``challenges_passed``, ``challenge_user_agents`` …"""


_HTML_HEADERS = {
    "Content-Type": "text/html",
    "Cache-Control": "private, max-age=0, no-cache, no-store",
    "Server": "am/2",
    "Strict-Transport-Security": "max-age=63072000; includeSubdomains; preload",
    "Vary": "Accept-Encoding",
    "Via": "1.1 6321870254db7fdc64904ee9c289f0ce.cloudfront.net (CloudFront)",
    "X-Amz-Cf-Pop": "MAD53-P1",
    "X-Cache": "Miss from cloudfront",
    "X-Frame-Options": "SAMEORIGIN",
    "X-Pants": "distant-towel",
    "X-Xss-Protection": "1; mode=block",
}


class SoundCloudReplica(ApiHost, WebHost, AssetsHost, ImagesHost, DataDome, StartStop):
    """The four SoundCloud hosts on 127.0.0.1, serving ``world``.

    ``world`` may be a ``World`` (artists, tracks, comments), a ``GraphWorld``
    (interaction graph; an empty ``World`` with the same seed then serves the
    home page, assets and the rest), or both: ``SoundCloudReplica(world,
    graph=graph_world)``.  Graph users are looked up first by ``/resolve``,
    ``/users/{id}`` and profile pages."""

    def __init__(self, world: World | GraphWorld, quirks: Quirks | None = None, host: str = "127.0.0.1",
                 ports: dict[str, int] | None = None, graph: GraphWorld | None = None) -> None:
        if isinstance(world, GraphWorld):
            if graph is not None:
                raise ValueError("two graph worlds given")
            graph, world = world, build_world(WorldConfig(seed=world.seed, artists=0, commenters=0,
                                                          missing_permalinks=()))
        self.world = world
        self.graph = graph
        self.quirks = quirks or Quirks()
        self.stats = Stats(challenges_passed=0, challenge_user_agents=[], client_id_rotations=0)
        # Requests a test holds until it has caused its fault (replicas/common.py).
        self.holds = Holds()
        self.urls: dict[str, str] = dict(REAL_URLS)
        self._signer = Signer()  # signs nonces and datadome cookies
        seed = world.config.seed
        first_id = self.quirks.initial_client_id or self._make_client_id(seed, 0)
        self._client_ids: list[str] = [first_id]
        self._accepted = 0  # accepted api requests (drives rotation)
        self._rate: dict[str, deque[float]] = {}
        self._n429 = 0
        self._faults: dict[str, list[str]] = {}
        self._distinct_paged = 0
        self._chunks: dict[str, bytes] = {}  # file name -> bytes (all generations)
        self._chunk_names: dict[str, dict[int, str]] = {}  # client_id -> number -> name
        self._img_cache: OrderedDict[str, bytes] = OrderedDict()
        self._lock = threading.Lock()
        self._version = str(1771500000 + seed % 100000)
        self._raw_lists: dict[int, tuple[list[int], int | None, dict[int, int], list[tuple[int, int]]]] = {}
        self._toptracks: dict[int, list[int]] = {}
        self._search_users: list[tuple[str, int]] = []
        self._search_tracks: list[tuple[str, int]] = []
        self._track_json: dict[int, str] = {}
        self._track_json_revision = 0
        self._stream: dict[int, list[tuple[int, str, int]]] = {}
        self.apps = {"web": self._web_app(), "api": self._api_app(),
                     "assets": self._assets_app(), "images": self._images_app()}
        self.ca, self.tls = https_gate(self.quirks.https, self.stats)
        self._thread = AppThread(self.apps, host=host, ports=ports,
                                 tls={"api": self.tls} if self.tls is not None else None)

    # -- lifecycle ---------------------------------------------------------------
    def start(self) -> dict[str, str]:
        """Start the four servers; returns {"web","api","assets","images"} base URLs."""
        self.urls = self._thread.start_named()
        self.world.bind(self.urls)
        if self.graph is not None:
            self.graph.bind(self.urls)
        self._prepare()
        return dict(self.urls)

    def stop(self) -> None:
        self.holds.release_all()
        self._thread.stop()

    @property
    def ca_file(self) -> str | None:
        """The test CA api-v2's certificate is signed with (HTTPS mode)."""
        return str(self.ca.ca_file) if self.ca is not None else None

    def _prepare(self) -> None:
        """Per-bind precomputation so requests never scan the whole world."""
        w = self.world
        self._track_json = {}
        self._chunks.clear()
        self._chunk_names.clear()
        self._raw_lists = {}
        self._stream = {}
        for aid in w.artist_ids:
            ids, ghost = w.raw_track_list(aid)
            pos = {tid: i for i, tid in enumerate(ids)}
            keys = []
            for tid in ids:
                rec = w.track_record(tid)
                assert rec is not None
                keys.append((rec.created_at, tid))
            self._raw_lists[aid] = (ids, ghost, pos, keys)
            recs = [w.track_record(t) for t in w.track_ids_of(aid)]
            self._toptracks[aid] = [r.id for r in sorted(
                recs, key=lambda r: (r.hidden_stats, -r.playback, r.id))]  # type: ignore[union-attr]
        self._search_users, self._search_tracks = w.search_index()
        self._ensure_chunks(self.client_id)

    # -- client ids ----------------------------------------------------------------
    @staticmethod
    def _make_client_id(seed: int, generation: int) -> str:
        return "".join(_rng(seed, "client_id", generation).choices(
            "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", k=32))

    @property
    def client_id(self) -> str:
        """The currently valid client_id."""
        return self._client_ids[-1]

    @property
    def old_client_ids(self) -> list[str]:
        return self._client_ids[:-1]

    def rotate_client_id(self) -> str:
        """Switch to a new client_id now (the old one gets 401 from now on)."""
        with self._lock:
            new = self._make_client_id(self.world.config.seed, len(self._client_ids))
            self._client_ids.append(new)
            self.stats.incr("client_id_rotations")
        return new

    # -- helpers -------------------------------------------------------------------------
    def _json_response(self, body: str | bytes, status: int = 200,
                       headers: dict[str, str] | None = None) -> web.Response:
        h = dict(API_HEADERS)
        h["X-Amz-Cf-Id"] = cf_id()
        if status >= 400:
            h["X-Cache"] = "Error from cloudfront"
        if headers:
            h.update(headers)
        data = body.encode("utf-8") if isinstance(body, str) else body
        return web.Response(body=data, status=status, headers=h)

    def _not_found(self) -> web.Response:
        return self._json_response("{}", 404)

    def _html_response(self, text: str, status: int = 200) -> web.Response:
        h = dict(_HTML_HEADERS)
        h["X-Amz-Cf-Id"] = cf_id()
        h["Set-Cookie"] = (f'sc_tracking_anonymous_id=%22{secrets.token_hex(4)}-{secrets.token_hex(2)}'
                           f'-{secrets.token_hex(2)}-{secrets.token_hex(2)}-{secrets.token_hex(6)}%22; path=/')
        if status >= 400:
            h["X-Cache"] = "Error from cloudfront"
        return web.Response(body=text.encode("utf-8"), status=status, headers=h)

    def _track_str(self, tid: int) -> str:
        if self._track_json_revision != self.world.revision:  # the world changed: render again
            self._track_json.clear()
            self._track_json_revision = self.world.revision
        s = self._track_json.get(tid)
        if s is None:
            s = self._track_json[tid] = self.world.track_json(tid) or "null"
        return s


# Re-exported for callers that format cursors/dates the same way.
__all__ += ["iso", "iso_ms"]
