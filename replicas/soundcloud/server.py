"""aiohttp apps replaying soundcloud.com, api-v2, the asset CDN and the image CDN.

Shapes follow the recorded responses in tests/fixtures/soundcloud and the
reference notes (soundcloud.md §1-§8).  Four apps on four ports, started by one
``AppThread``; every absolute URL in a response is built from the bound base
URLs.  Misbehaviour of the real site (short/empty pages, client_id rotation,
rate limits, 502s, truncated JSON, DataDome) is switched by ``Quirks``.
"""

from __future__ import annotations

import asyncio
import base64
import calendar
import hashlib
import hmac
import html
import json
import os
import re
import secrets
import threading
import time
from collections import OrderedDict, deque
from dataclasses import dataclass
from types import TracebackType
from typing import Any
from urllib.parse import quote, unquote, urlsplit

from aiohttp import web

from replicas.common import Signer
from replicas.common import Stats as _Stats
from replicas.runner import AppThread
from replicas.soundcloud.graph import GraphWorld
from replicas.soundcloud.media import IMAGE_SIZES, jpeg_bytes, js_chunk, png_bytes
from replicas.soundcloud.world import (
    REAL_URLS,
    RESERVED_SUBPAGES,
    CommentBlock,
    World,
    WorldConfig,
    _rng,
    build_world,
    iso,
    iso_ms,
)
from replicas.tls import TestCA, TLSGate

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


_API_HEADERS = {
    "Content-Type": "application/json; charset=utf-8",
    "Cache-Control": "private, max-age=0",
    "Referrer-Policy": "no-referrer",
    "Server": "am/2",
    "Strict-Transport-Security": "max-age=63072000",
    "Vary": "Origin",
    "Via": "1.1 cb2b840821313909da7f7890ec5606ba.cloudfront.net (CloudFront)",
    "X-Amz-Cf-Pop": "HAM50-P5",
    "X-Cache": "Miss from cloudfront",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "X-Robots-Tag": "noindex",
}
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
_CDN_HEADERS = {
    "Accept-Ranges": "bytes",
    "Access-Control-Allow-Methods": "GET",
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Max-Age": "3000",
    "Cache-Control": "public, max-age=31536000, immutable",
    "Last-Modified": "Thu, 09 Apr 2026 10:34:45 GMT",
    "Server": "AmazonS3",
    "Via": "1.1 71ff222bb7fa47dbd8b33d41c7ea1ce6.cloudfront.net (CloudFront)",
    "X-Amz-Cf-Pop": "MAD56-P1",
    "X-Cache": "Hit from cloudfront",
}
_ACCEPT_CH = ("Sec-CH-UA,Sec-CH-UA-Mobile,Sec-CH-UA-Platform,Sec-CH-UA-Arch,"
              "Sec-CH-UA-Full-Version-List,Sec-CH-UA-Model,Sec-CH-Device-Memory")
_CLOUDFRONT_502 = """<!DOCTYPE HTML PUBLIC "-//W3C//DTD HTML 4.01 Transitional//EN" "http://www.w3.org/TR/html4/loose.dtd">
<HTML><HEAD><META HTTP-EQUIV="Content-Type" CONTENT="text/html; charset=iso-8859-1">
<TITLE>ERROR: The request could not be satisfied</TITLE>
</HEAD><BODY>
<H1>502 ERROR</H1>
<H2>The request could not be satisfied.</H2>
<HR noshade size="1px">
CloudFront wasn't able to connect to the origin.
We can't connect to the server for this app or website at this time. There might be too much traffic or a
configuration error. Try again later, or contact the app or website owner.
<BR clear="all">
If you provide content to customers through CloudFront, you can find steps to troubleshoot and help prevent
this error by reviewing the CloudFront documentation.
<BR clear="all">
<HR noshade size="1px">
<PRE>
Generated by cloudfront (CloudFront)
Request ID: {rid}
</PRE>
<ADDRESS>
</ADDRESS>
</BODY></HTML>"""
_ROBOTS = """User-Agent: *
Disallow:

User-Agent: anthropic-ai
Disallow: /
User-Agent: CCBot
Disallow: /
User-Agent: GPTBot
Disallow: /
User-Agent: Google-Extended
Disallow: /
User-Agent: omgili
Disallow: /
User-Agent: omgilibot
Disallow: /

sitemap: {web}/sitemap.xml
sitemap: {web}/sitemapIndex.xml
"""
_FEATURES = ["v2_dsa_report_content_links", "mobi_webauth_oauth_mode",
             "v2_use_onetrust_tcfv2_us_ca", "mobi_enable_onetrust_tcfv2", "trolley",
             "v2_post_with_caption", "mobi_use_dwt", "v2_use_dwt", "v2_enable_crossfade",
             "v2_signals_collection", "v2_direct_support_link", "v2_api_auth_sign_out"]
_GEOIP = {"country_code": "DE", "country_name": "Germany", "region": "BE", "city": "Berlin",
          "postal_code": "10115", "latitude": 52.5321, "longitude": 13.3849}
_PRIVACY = {"allows_messages_from_unfollowed_users": False, "analytics_opt_in": True,
            "communications_opt_in": True, "targeted_advertising_opt_in": False,
            "legislation": []}
# Chunk numbers in page order: two in the body top, then the late group.  The
# client_id config module lives in the second-to-last chunk ("one of the last").
_HEAD_CHUNKS = (58, 56)
_LATE_FIRST = 18
_LATE_CHUNKS = (57, 2, 0, 1, 55, 54)
_CONFIG_CHUNK = 55
# Graph lists: route name -> (list name, default limit).
_GRAPH_ROUTES = {
    "api_user_likes": ("likes", 20),
    "api_user_reposts": ("reposts", 10),
    "api_user_followings": ("followings", 50),
    "api_user_followers": ("followers", 50),
    "api_user_comments": ("comments", 10),
}
_PAGED_ROUTES = frozenset({"api_user_tracks", "api_user_toptracks", "api_user_stream", "api_track_comments",
                           "api_search", "api_search_users", "api_search_tracks", *_GRAPH_ROUTES})
_IMAGE_RE = re.compile(
    r"^/(?:(avatars|artworks)-([A-Za-z0-9_-]+)|visuals-(\d{12})-([A-Za-z0-9_-]+))-("
    + "|".join(IMAGE_SIZES) + r")\.(jpg|png)$")
_DEFAULT_AVATAR_RE = re.compile(r"^/images/default_avatar_(" + "|".join(IMAGE_SIZES) + r")\.png$")
_WAVE_RE = re.compile(r"^/([A-Za-z0-9]{12})_m\.json$")
_CHUNK_RE = re.compile(r"^(\d+)-([0-9a-f]{8})\.js$")
_SCREEN_RE = re.compile(r"^\d{2,5}x\d{2,5}$")

_TAGS_JS = r"""/* replica of the DataDome JS tag: proves a real browser ran it */
(function () {
  "use strict";
  function hex(buf) {
    return Array.prototype.map.call(new Uint8Array(buf), function (b) {
      return ("0" + b.toString(16)).slice(-2);
    }).join("");
  }
  var opts = window.ddoptions || {};
  var nonce = opts.nonce;
  if (!nonce || !window.crypto || !window.crypto.subtle || !window.fetch) {
    window.__datadome_passed = false;
    return;
  }
  var ua = navigator.userAgent;
  var scr = screen.width + "x" + screen.height;
  var data = new TextEncoder().encode(nonce + "|" + ua + "|" + scr);
  window.crypto.subtle.digest("SHA-256", data).then(function (digest) {
    return fetch(opts.endpoint, {
      method: "POST",
      credentials: "same-origin",
      headers: {"Content-Type": "application/json"},
      body: JSON.stringify({nonce: nonce, ua: ua, screen: scr, proof: hex(digest)})
    });
  }).then(function (resp) {
    return resp.json();
  }).then(function (answer) {
    if (answer && answer.status === 200 && answer.cookie) {
      document.cookie = answer.cookie;
      window.__datadome_passed = true;
    } else {
      window.__datadome_passed = false;
    }
  }).catch(function (err) {
    window.__datadome_passed = false;
    window.__datadome_error = String(err);
  });
})();
"""


def _json_text(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))


def _script_json(obj: Any) -> str:
    """JSON safe inside <script> (no premature </script>)."""
    return _json_text(obj).replace("</", "<\\/")


def _parse_int(value: str | None, default: int) -> int:
    try:
        return int(value) if value not in (None, "") else default
    except ValueError:
        return default


def _parse_id(raw: str, kind: str) -> int | None:
    """Numeric id, also accepting the URN form ``soundcloud:<kind>:<id>``."""
    raw = unquote(raw)
    prefix = f"soundcloud:{kind}:"
    if raw.startswith(prefix):
        raw = raw[len(prefix):]
    return int(raw) if raw.isdigit() else None


def _iso_duration(secs: int) -> str:
    """schema.org duration as the real pages write it: PT00H05M02S."""
    return f"PT{secs // 3600:02d}H{secs // 60 % 60:02d}M{secs % 60:02d}S"


def _cf_id() -> str:
    return base64.urlsafe_b64encode(os.urandom(42)).decode()[:54] + "=="


class SoundCloudReplica:
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
        self._stream: dict[int, list[tuple[int, str, int]]] = {}
        self.apps = {"web": self._web_app(), "api": self._api_app(),
                     "assets": self._assets_app(), "images": self._images_app()}
        self.ca: TestCA | None = TestCA() if self.quirks.https else None
        self.tls: TLSGate | None = TLSGate(self.ca, self.stats) if self.ca is not None else None
        self._thread = AppThread(self.apps, host=host, ports=ports,
                                 tls={"api": self.tls} if self.tls is not None else None)

    # -- lifecycle ---------------------------------------------------------------
    def start(self) -> dict[str, str]:
        """Start the four servers; returns {"web","api","assets","images"} base URLs."""
        urls = self._thread.start()
        assert isinstance(urls, dict)
        self.urls = dict(urls)
        self.world.bind(self.urls)
        if self.graph is not None:
            self.graph.bind(self.urls)
        self._prepare()
        return dict(self.urls)

    def stop(self) -> None:
        self._thread.stop()

    @property
    def ca_file(self) -> str | None:
        """The test CA api-v2's certificate is signed with (HTTPS mode)."""
        return str(self.ca.ca_file) if self.ca is not None else None

    @property
    def cookie_domain(self) -> str:
        """``Domain`` of the datadome cookie: the site's domain (.soundcloud.com
        for the real site; the replica's hosts share one IP address)."""
        host = urlsplit(self.urls["api"]).hostname or ""
        return ".soundcloud.com" if host.endswith("soundcloud.com") else host

    def datadome_set_cookie(self, value: str) -> str:
        """The Set-Cookie DataDome sends (reference §1/§7), verbatim in shape."""
        return f"datadome={value}; Max-Age=31536000; Domain={self.cookie_domain}; Path=/; Secure; SameSite=Lax"

    def __enter__(self) -> SoundCloudReplica:
        self.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

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

    # -- datadome --------------------------------------------------------------------
    def _sign(self, text: str) -> str:
        return self._signer.sign(text)

    def make_nonce(self) -> str:
        return self._signer.make_nonce("nonce")

    def _nonce_ok(self, nonce: str, max_age: int = 900) -> bool:
        return self._signer.nonce_ok(nonce, "nonce", max_age)

    def sign_datadome_cookie(self, ttl: int | None = None) -> str:
        """A valid ``datadome`` cookie value (what the JS challenge hands out)."""
        ttl = self.quirks.datadome_cookie_ttl if ttl is None else ttl
        payload = f"{int((time.time() + ttl) * 1000)}.{secrets.token_hex(6)}"  # expiry in ms
        b64 = base64.urlsafe_b64encode(payload.encode()).decode().rstrip("=")
        return f"{b64}~{self._sign('dd|' + payload)[:40]}"

    def verify_datadome_cookie(self, value: str) -> bool:
        try:
            b64, sig = value.split("~", 1)
            payload = base64.urlsafe_b64decode(b64 + "=" * (-len(b64) % 4)).decode()
            exp = int(payload.split(".", 1)[0])
        except (ValueError, UnicodeDecodeError):
            return False
        return hmac.compare_digest(sig, self._sign("dd|" + payload)[:40]) and exp / 1000 > time.time()

    def _datadome_values(self, request: web.Request) -> list[str]:
        """Every datadome value in the raw Cookie header(s), in order."""
        values = []
        for header in request.headers.getall("Cookie", []):
            for part in header.split(";"):
                name, _, value = part.strip().partition("=")
                if name == "datadome":
                    values.append(value.strip().strip('"'))
        return values

    def _datadome_verdict(self, request: web.Request, route: str) -> str | None:
        """None = through; else why the request is blocked (counted)."""
        q = self.quirks
        values = set(self._datadome_values(request))
        if len(values) > 1:
            return "two_cookies"  # a client holds exactly one datadome [I]
        uid = _parse_id(request.match_info.get("id", ""), "users")
        if route == "api_user_tracks" and uid in q.tracks_refused_users:
            return "refused_user"
        if route == "api_user_stream" and uid in q.stream_refused_users:
            return "refused_user"
        cookie_ok = bool(values) and self.verify_datadome_cookie(next(iter(values)))
        if self.tls is not None:
            client = self.tls.client_class(request)
            self.stats.incr(f"datadome_tls_{client}")
            if client != "chrome":
                return "tls_fingerprint"
            if q.impersonation_refused and not cookie_ok:
                return "bad_cookie" if values else "no_cookie"
            return None
        return None if cookie_ok else ("bad_cookie" if values else "no_cookie")

    # -- helpers -------------------------------------------------------------------------
    def _json_response(self, body: str | bytes, status: int = 200,
                       headers: dict[str, str] | None = None) -> web.Response:
        h = dict(_API_HEADERS)
        h["X-Amz-Cf-Id"] = _cf_id()
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
        h["X-Amz-Cf-Id"] = _cf_id()
        h["Set-Cookie"] = (f'sc_tracking_anonymous_id=%22{secrets.token_hex(4)}-{secrets.token_hex(2)}'
                           f'-{secrets.token_hex(2)}-{secrets.token_hex(2)}-{secrets.token_hex(6)}%22; path=/')
        if status >= 400:
            h["X-Cache"] = "Error from cloudfront"
        return web.Response(body=text.encode("utf-8"), status=status, headers=h)

    def _track_str(self, tid: int) -> str:
        s = self._track_json.get(tid)
        if s is None:
            s = self._track_json[tid] = self.world.track_json(tid) or "null"
        return s

    # ==================================================================================
    # api-v2
    # ==================================================================================
    def _api_app(self) -> web.Application:
        app = web.Application(middlewares=[self.stats.count_status, self._api_gate])
        r = app.router
        r.add_get("/__replica__/stats", self._api_stats, name="api_replica_stats")
        r.add_post("/__replica__/rotate", self._api_rotate, name="api_replica_rotate")
        r.add_get("/resolve", self._api_resolve, name="api_resolve")
        r.add_get("/users/{id}", self._api_user, name="api_user")
        r.add_get("/users/{id}/tracks", self._api_user_tracks, name="api_user_tracks")
        r.add_get("/users/{id}/toptracks", self._api_user_toptracks, name="api_user_toptracks")
        r.add_get("/users/{id}/likes", self._api_graph_list, name="api_user_likes")
        r.add_get("/users/{id}/followings", self._api_graph_list, name="api_user_followings")
        r.add_get("/users/{id}/followers", self._api_graph_list, name="api_user_followers")
        r.add_get("/users/{id}/comments", self._api_graph_list, name="api_user_comments")
        r.add_get("/stream/users/{id}/reposts", self._api_graph_list, name="api_user_reposts")
        r.add_get("/stream/users/{id}", self._api_user_stream, name="api_user_stream")
        r.add_get("/tracks", self._api_tracks_batch, name="api_tracks_batch")
        r.add_get("/tracks/{id}", self._api_track, name="api_track")
        r.add_get("/tracks/{id}/comments", self._api_track_comments, name="api_track_comments")
        r.add_get("/search", self._api_search, name="api_search")
        r.add_get("/search/users", self._api_search, name="api_search_users")
        r.add_get("/search/tracks", self._api_search, name="api_search_tracks")
        r.add_route("*", "/{tail:.*}", self._api_fallback, name="api_not_found")
        return app

    @web.middleware
    async def _api_gate(self, request: web.Request, handler: Any) -> web.StreamResponse:
        """Everything the real edge/origin does before the handler: latency,
        DataDome, client_id, rate limit, injected faults, rotation, CORS."""
        route = request.match_info.route.name or "api_not_found"
        self.stats.incr(route)
        if route.startswith("api_replica_"):
            return await handler(request)
        q = self.quirks
        if q.latency_ms:
            await asyncio.sleep(q.latency_ms / 1000)
        cors = {}
        origin = request.headers.get("Origin")
        if origin and origin.rstrip("/") == self.urls["web"]:
            cors = {"Access-Control-Allow-Origin": origin, "Access-Control-Allow-Credentials": "true"}
        if request.method == "OPTIONS":
            cors.update({"Access-Control-Allow-Methods": "GET, OPTIONS",
                         "Access-Control-Allow-Headers": request.headers.get(
                             "Access-Control-Request-Headers", "*")})
            return self._json_response("", 204, cors)

        extra: dict[str, str] = dict(cors)
        protected = route in q.datadome_routes or (
            route == "api_user_stream" and _parse_id(request.match_info.get("id", ""), "users")
            in q.stream_refused_users)
        if protected:
            extra.update({"X-Datadome": "protected", "Accept-CH": _ACCEPT_CH})
            if q.datadome:
                reason = self._datadome_verdict(request, route)
                if reason is not None:
                    self.stats.incr(f"datadome_blocked_{reason}")
                    return self._datadome_block(request, extra)
                # The server module re-issues the cookie on protected answers.
                self.stats.incr("datadome_reissued")
                extra["Set-Cookie"] = self.datadome_set_cookie(self.sign_datadome_cookie())

        cid = request.query.get("client_id")
        if not cid or cid != self.client_id:
            self.stats.incr("client_id_rejected")
            return self._json_response(
                '{"code":401,"message":"","status":"401 - Unauthorized","errors":[],"error":null}',
                401, extra)

        if q.rate_limit:
            limited = self._rate_limited(cid)
            if limited is not None:
                limited.headers.update(cors)
                return limited

        fault = self._take_fault(request, route)
        if fault == "502":
            self.stats.incr("faults_502")
            h = {"Content-Type": "text/html", "Server": "CloudFront",
                 "X-Cache": "Error from cloudfront", "Via": _API_HEADERS["Via"],
                 "X-Amz-Cf-Pop": "HAM50-P5", "X-Amz-Cf-Id": _cf_id()}
            return web.Response(body=_CLOUDFRONT_502.format(rid=_cf_id()).encode(), status=502, headers=h)

        resp = await handler(request)
        self._accepted += 1
        if q.rotate_client_id_after and self._accepted % q.rotate_client_id_after == 0:
            self.rotate_client_id()
        if fault == "malformed" and isinstance(resp, web.Response) and resp.body:
            self.stats.incr("faults_malformed")
            body = bytes(resp.body)  # type: ignore[arg-type]
            resp.body = body[: max(len(body) * 3 // 5, 1)]
        resp.headers.update(extra)
        return resp

    def _datadome_block(self, request: web.Request, extra: dict[str, str]) -> web.Response:
        self.stats.incr("datadome_blocked")
        junk = base64.urlsafe_b64encode(os.urandom(96)).decode().rstrip("=").replace("-", "~")
        cid = base64.urlsafe_b64encode(os.urandom(48)).decode().rstrip("=")
        url = (f"{self.urls['web']}/captcha/?initialCid={secrets.token_hex(32)}&cid={quote(cid, safe='')}"
               f"&hash={secrets.token_hex(15).upper()}&t=fe&s=47891"
               f"&referer={quote(str(request.url), safe='')}")
        h = dict(extra)
        h["Set-Cookie"] = self.datadome_set_cookie(junk)
        h["X-Datadome-Cid"] = cid
        return self._json_response(_json_text({"url": url}), 403, h)

    def _rate_limited(self, cid: str) -> web.Response | None:
        max_req, window = self.quirks.rate_limit  # type: ignore[misc]
        now = time.monotonic()
        log = self._rate.setdefault(cid, deque())
        while log and log[0] <= now - window:
            log.popleft()
        if len(log) < max_req:
            log.append(now)
            return None
        self._n429 += 1
        # Both recorded 429 bodies, alternating; never a Retry-After header.
        if self._n429 % 2:
            resp = self._json_response("Please slow down.", 429,
                                       {"Content-Type": "text/plain; charset=utf-8"})
        else:
            resp = self._json_response('{"error":"Rate Limit Exceeded"}', 429)
        return resp

    def _take_fault(self, request: web.Request, route: str) -> str | None:
        q = self.quirks
        if route not in _PAGED_ROUTES or not (q.error_5xx_every or q.malformed_json_every):
            return None
        # Same page whatever the client_id/app_version it was asked with.
        items = sorted((k, v) for k, v in request.query.items()
                       if k not in ("client_id", "app_version", "app_locale"))
        key = request.path + "?" + "&".join(f"{k}={v}" for k, v in items)
        faults = self._faults.get(key)
        if faults is None:
            self._distinct_paged += 1
            n = self._distinct_paged
            faults = []
            if q.error_5xx_every and n % q.error_5xx_every == 0:
                faults.append("502")
            if q.malformed_json_every and n % q.malformed_json_every == 0:
                faults.append("malformed")
            self._faults[key] = faults
        return faults.pop(0) if faults else None

    async def _api_stats(self, request: web.Request) -> web.Response:
        data = self.stats.snapshot()
        data["current_client_id"] = self.client_id
        return self._json_response(_json_text(data))

    async def _api_rotate(self, request: web.Request) -> web.Response:
        return self._json_response(_json_text({"client_id": self.rotate_client_id()}))

    async def _api_fallback(self, request: web.Request) -> web.Response:
        return self._not_found()

    # -- resolve / users / tracks -------------------------------------------------------
    def _resolve_url(self, url: str) -> dict[str, Any] | None:
        parts = urlsplit(url.strip())
        web_base = urlsplit(self.urls["web"])
        host_ok = (parts.netloc == web_base.netloc
                   or parts.netloc.lower() in ("soundcloud.com", "www.soundcloud.com", "m.soundcloud.com"))
        if not host_ok:
            return None
        segs = [unquote(s) for s in parts.path.split("/") if s]
        g = self.graph
        if g is not None and segs and (len(segs) == 1 or (len(segs) == 2 and segs[1].lower() in RESERVED_SUBPAGES)):
            gid = g.user_id_by_permalink(segs[0])
            if gid is not None:
                return g.user(gid)  # None (404) for a missing user
        if not segs or segs[0].lower() in self.world.missing_permalinks:
            return None
        w = self.world
        if len(segs) == 1 or (len(segs) == 2 and segs[1].lower() in RESERVED_SUBPAGES):
            return w.user_by_permalink(segs[0])
        if len(segs) == 2:
            return w.track_by_path(segs[0], segs[1], full_user=True)
        if len(segs) == 3 and segs[2].startswith("s-"):
            return w.track_by_path(segs[0], segs[1], secret_token=segs[2], full_user=True)
        return None

    async def _api_resolve(self, request: web.Request) -> web.Response:
        obj = self._resolve_url(request.query.get("url", ""))
        return self._json_response(_json_text(obj)) if obj else self._not_found()

    async def _api_user(self, request: web.Request) -> web.Response:
        uid = _parse_id(request.match_info["id"], "users")
        g = self.graph
        if uid is not None and g is not None and g.is_missing(uid):
            return self._not_found()
        if uid is not None and g is not None and g.has_user(uid):
            return self._json_response(g.user_json(uid))  # type: ignore[arg-type]
        user = self.world.user(uid) if uid is not None else None
        return self._json_response(_json_text(user)) if user else self._not_found()

    # -- interaction graph lists ----------------------------------------------------------
    async def _api_graph_list(self, request: web.Request) -> web.Response:
        """likes, reposts, followings, followers and comments of a graph user."""
        route = request.match_info.route.name or ""
        lst, default_limit = _GRAPH_ROUTES[route]
        g = self.graph
        uid = _parse_id(request.match_info["id"], "users")
        if g is None or uid is None or not g.has_user(uid):
            return self._not_found()
        q = self.quirks
        limit = min(max(_parse_int(request.query.get("limit"), default_limit), 1), 200)
        page_limit = min(limit, 10) if lst == "reposts" and q.tiny_repost_pages else limit
        raw = g.raw_list(uid, lst)
        start = g.resume(lst, raw, request.query.get("offset", ""))
        if start is None:
            return self._json_response('{"code":400,"message":"invalid offset","errors":[],"error":null}', 400)
        chosen, end = raw.window(start, page_limit, q.graph_short_pages)
        items = [g.item_json(lst, uid, raw, i) for i in chosen]
        path = f"/stream/users/{uid}/reposts" if lst == "reposts" else f"/users/{uid}/{lst}"
        nxt = None
        if end < len(raw):
            cursor = g.cursor(lst, uid, raw, end - 1)
            nxt = f"{self.urls['api']}{path}?offset={quote(cursor, safe='')}&limit={limit}"
        elif lst == "reposts" and q.repeat_last_repost_page:
            # The feed's last page points at itself: the URL just requested.
            # raw_path: the request target exactly as sent (query_string is decoded).
            raw_path, _, raw_query = request.raw_path.partition("?")
            kept = [p for p in raw_query.split("&") if p and not p.startswith("client_id=")]
            nxt = f"{self.urls['api']}{raw_path}" + ("?" + "&".join(kept) if kept else "")
        return self._collection(items, nxt)

    async def _api_user_tracks(self, request: web.Request) -> web.Response:
        uid = _parse_id(request.match_info["id"], "users")
        if uid is None or self.world.user(uid) is None:
            return self._not_found()
        limit = min(max(_parse_int(request.query.get("limit"), 20), 1), 200)
        ids, ghost, pos, keys = self._raw_lists.get(uid, ([], None, {}, []))
        offset = request.query.get("offset", "")
        start = self._cursor_start(offset, pos, keys)
        if start is None:
            return self._json_response('{"code":400,"message":"invalid offset","errors":[],"error":null}', 400)
        api = self.urls["api"]

        def href(last: int) -> str:
            rec = self.world.track_record(ids[last])
            cursor = f"{iso_ms(rec.created_at)},tracks,{ids[last]:020d}"  # type: ignore[union-attr]
            return f"{api}/users/{uid}/tracks?offset={quote(cursor, safe='')}&limit={limit}"

        n = len(ids)
        if self.quirks.short_pages:
            if ghost is not None and start == ghost:
                # The window holds only the private track: empty page, cursor moves on.
                return self._collection([], href(ghost))
            stops = self._track_stops(uid, n, ghost)
            end = min([start + limit, n] + [s for s in stops if s > start])
            chosen = list(range(start, end))
        else:
            chosen = []
            i = start
            while i < n and len(chosen) < limit:
                if i != ghost:
                    chosen.append(i)
                i += 1
            end = i
        items = [self._track_str(ids[i]) for i in chosen if i != ghost]
        nxt = href(end - 1) if 0 < end < n else None
        return self._collection(items, nxt)

    def _track_stops(self, uid: int, n: int, ghost: int | None) -> list[int]:
        """Raw positions where a page ends early (short pages): before the
        private track, after the 4th item (as recorded), and a few random ones."""
        stops = set()
        if ghost is not None and ghost > 0:
            stops.add(ghost)
        if n > 6:
            stops.add(4)
        rng = _rng(self.world.config.seed, "stops", uid)
        p = 4
        while True:
            p += rng.randrange(7, 24)
            if p >= n - 1:
                break
            stops.add(p)
        return sorted(stops)

    @staticmethod
    def _cursor_start(offset: str, pos: dict[int, int], keys: list[tuple[int, int]]) -> int | None:
        """Raw index of the first item after the cursor (or integer offset)."""
        if offset in ("", "0"):
            return 0
        if offset.isdigit():
            return int(offset)
        parts = offset.split(",")
        if len(parts) != 3 or parts[1] != "tracks" or not parts[2].isdigit():
            return None
        tid = int(parts[2])
        if tid in pos:
            return pos[tid] + 1
        try:  # unknown id: position by time, like a real keyset cursor
            ts = time.strptime(parts[0][:19], "%Y-%m-%dT%H:%M:%S")
        except ValueError:
            return None
        key = (calendar.timegm(ts), tid)
        i = 0
        while i < len(keys) and keys[i] >= key:
            i += 1
        return i

    def _collection(self, items: list[str], next_href: str | None) -> web.Response:
        body = ('{"collection":[' + ",".join(items) + '],"next_href":'
                + (_json_text(next_href) if next_href else "null") + ',"query_urn":null}')
        return self._json_response(body)

    async def _api_user_toptracks(self, request: web.Request) -> web.Response:
        uid = _parse_id(request.match_info["id"], "users")
        if uid is None or self.world.user(uid) is None:
            return self._not_found()
        limit = min(max(_parse_int(request.query.get("limit"), 10), 1), 200)
        offset = max(_parse_int(request.query.get("offset"), 0), 0)
        ids = self._toptracks.get(uid, [])
        page = ids[offset:offset + limit]
        nxt = None
        if offset + limit < len(ids):
            nxt = f"{self.urls['api']}/users/{uid}/toptracks?offset={offset + limit}&limit={limit}"
        return self._collection([self._track_str(t) for t in page], nxt)

    def _stream_items(self, uid: int) -> list[tuple[int, str, int]]:
        """(created_at, item JSON, n) of a World artist's stream, newest
        first: a ``track`` post per public track and a ``track-repost`` of
        two tracks of the next artist (the stream mixes posts and reposts)."""
        items = self._stream.get(uid)
        if items is not None:
            return items
        w = self.world
        items: list[Any] = []
        artist = w.mini_user_json(uid)
        for tid in w.track_ids_of(uid):
            rec = w.track_record(tid)
            assert rec is not None
            items.append((rec.created_at, "track", tid, artist))
        ids = w.artist_ids
        if uid in ids and len(ids) > 1:
            other = ids[(ids.index(uid) + 1) % len(ids)]
            for k, tid in enumerate(w.track_ids_of(other)[:2]):
                rec = w.track_record(tid)
                assert rec is not None
                items.append((rec.created_at + 3600 * (k + 1), "track-repost", tid, artist))
        items.sort(key=lambda it: (-it[0], it[2]))
        rng = _rng(w.config.seed, "stream", uid)
        rendered = []
        for n, (created, kind, tid, who) in enumerate(items):
            uuid = f"{rng.getrandbits(32):08x}-{rng.getrandbits(16):04x}-0000-0000-{tid:012x}"
            body = ('{"created_at":' + _json_text(iso(created)) + ',"type":"' + kind + '","track":'
                    + self._track_str(tid) + ',"user":' + who + ',"uuid":"' + uuid + '","caption":null}')
            rendered.append((created, body, n))
        self._stream[uid] = rendered
        return rendered

    async def _api_user_stream(self, request: web.Request) -> web.Response:
        """``/stream/users/{id}``: the user's posts and reposts (reference §2:
        type track / track-repost / playlist / playlist-repost), opaque cursor."""
        uid = _parse_id(request.match_info["id"], "users")
        if uid is None or self.world.user(uid) is None:
            return self._not_found()
        limit = min(max(_parse_int(request.query.get("limit"), 10), 1), 200)
        items = self._stream_items(uid)
        offset = request.query.get("offset", "")
        start = 0
        if offset not in ("", "0"):
            parts = offset.split(",")
            if len(parts) != 3 or parts[1] != "stream-item" or not parts[2].isdigit():
                return self._json_response('{"code":400,"message":"invalid offset","errors":[],"error":null}', 400)
            start = int(parts[2]) + 1
        page = items[start:start + limit]
        nxt = None
        if start + limit < len(items):
            created, _, n = page[-1]
            cursor = f"{iso_ms(created)},stream-item,{n:020d}"
            nxt = f"{self.urls['api']}/stream/users/{uid}?offset={quote(cursor, safe='')}&limit={limit}"
        return self._collection([body for _, body, _ in page], nxt)

    async def _api_tracks_batch(self, request: web.Request) -> web.Response:
        out = []
        for raw in request.query.get("ids", "").split(","):
            tid = _parse_id(raw.strip(), "tracks")
            if tid is not None and self.world.track(tid) is not None:
                out.append(self._track_str(tid))
        return self._json_response("[" + ",".join(out) + "]")

    def _visible_track(self, request: web.Request) -> int | None:
        tid = _parse_id(request.match_info["id"], "tracks")
        rec = self.world.track_record(tid) if tid is not None else None
        if rec is None:
            return None
        if rec.private and request.query.get("secret_token") != rec.secret_token:
            return None
        return rec.id

    async def _api_track(self, request: web.Request) -> web.Response:
        tid = self._visible_track(request)
        if tid is None:
            return self._not_found()
        return self._json_response(_json_text(self.world.track(tid, full_user=True, include_private=True)))

    async def _api_track_comments(self, request: web.Request) -> web.Response:
        tid = self._visible_track(request)
        if tid is None:
            return self._not_found()
        query = request.query
        limit = min(max(_parse_int(query.get("limit"), 10), 1), 200)
        offset = max(_parse_int(query.get("offset"), 0), 0)
        threaded = "1" if query.get("threaded") == "1" else "0"
        sort = query.get("sort", "")
        block = self.world.comment_block(tid)
        assert block is not None
        n = len(block.json)
        order = self._comment_order(block, threaded == "1", sort)
        end = min(offset + limit, n)
        rec = self.world.track_record(tid)
        brk = rec.comment_break if rec is not None else None
        if self.quirks.short_pages and brk is not None and offset < brk < end:
            end = brk
        window = order[offset:end]
        if query.get("filter_replies") == "1":
            # Replies are dropped after the window is cut: short pages, and
            # the offset still advances by the whole window (as recorded).
            window = [i for i in window if not block.is_reply[i]]
        nxt = None
        if end < n:
            nxt = (f"{self.urls['api']}/tracks/{tid}/comments?client_id={query.get('client_id', '')}"
                   f"&offset={end}&threaded={threaded}&limit={limit}"
                   + (f"&sort={quote(sort, safe='')}" if sort else ""))
        return self._collection([block.json[i] for i in window], nxt)

    @staticmethod
    def _comment_order(block: CommentBlock, threaded: bool, sort: str) -> list[int]:
        n = len(block.json)
        stamps = block.stamps
        if sort == "oldest":
            base = list(range(n))
        elif sort == "track-timestamp":
            base = sorted(range(n), key=lambda i: (stamps[i] is None, stamps[i] or 0, i))
        else:  # newest first (default)
            base = list(range(n - 1, -1, -1))
        if not threaded:
            return base
        # Thread roots in the chosen order, each followed by its replies (oldest first).
        replies: dict[int, list[int]] = {}
        for i in range(n):
            if block.is_reply[i]:
                replies.setdefault(block.root[i], []).append(i)
        out: list[int] = []
        for i in base:
            if not block.is_reply[i]:
                out.append(i)
                out.extend(replies.get(i, ()))
        return out

    async def _api_search(self, request: web.Request) -> web.Response:
        route = request.match_info.route.name
        q = request.query.get("q", "").strip().lower()
        limit = min(max(_parse_int(request.query.get("limit"), 10), 1), 200)
        offset = max(_parse_int(request.query.get("offset"), 0), 0)
        hits: list[tuple[str, int]] = []
        if q and q != "*":
            if route in ("api_search", "api_search_users"):
                hits += [("u", uid) for hay, uid in self._search_users if q in hay]
            if route in ("api_search", "api_search_tracks"):
                hits += [("t", tid) for hay, tid in self._search_tracks if q in hay]
        page = hits[offset:offset + limit]
        items = [_json_text(self.world.user(i)) if kind == "u" else self._track_str(i)
                 for kind, i in page]
        path = {"api_search": "/search", "api_search_users": "/search/users",
                "api_search_tracks": "/search/tracks"}[route or "api_search"]
        raw_q = request.query.get("q", "")
        urn = "soundcloud:search:" + hashlib.md5(
            f"{self.world.config.seed}|{path}|{raw_q}|{offset}".encode()).hexdigest()
        body = '{"collection":[' + ",".join(items) + f'],"total_results":{len(hits)}'
        if offset + limit < len(hits):
            nxt = (f"{self.urls['api']}{path}?query_urn={quote(urn, safe='')}&limit={limit}"
                   f"&offset={offset + limit}&q={quote(raw_q, safe='')}")
            body += ',"next_href":' + _json_text(nxt)
        # Last page: the next_href key is absent (not null), as recorded.
        body += ',"query_urn":' + _json_text(urn) + "}"
        return self._json_response(body)

    # ==================================================================================
    # soundcloud.com
    # ==================================================================================
    def _web_app(self) -> web.Application:
        app = web.Application(middlewares=[self.stats.count_status, self._route_counter])
        r = app.router
        r.add_get("/", self._web_home, name="web_home")
        r.add_get("/robots.txt", self._web_robots, name="web_robots")
        r.add_get("/datadome/tags.js", self._web_tags_js, name="web_datadome_tags")
        r.add_post("/datadome/js/", self._web_datadome_js, name="web_datadome_js")
        r.add_get("/captcha/", self._web_captcha, name="web_captcha")
        r.add_get("/{user}", self._web_profile, name="web_profile")
        r.add_get("/{user}/{sub}", self._web_track_or_sub, name="web_track")
        r.add_get("/{user}/{sub}/{token}", self._web_private_track, name="web_private_track")
        r.add_route("*", "/{tail:.*}", self._web_not_found, name="web_not_found")
        return app

    @web.middleware
    async def _route_counter(self, request: web.Request, handler: Any) -> web.StreamResponse:
        self.stats.incr(request.match_info.route.name or "unnamed")
        return await handler(request)

    def _chunk_urls(self) -> tuple[list[str], str, list[str]]:
        names = self._ensure_chunks(self.client_id)
        base = f"{self.urls['assets']}/assets/"
        return ([base + names[n] for n in _HEAD_CHUNKS], base + names[_LATE_FIRST],
                [base + names[n] for n in _LATE_CHUNKS])

    def _hydration(self, *extra: dict[str, Any]) -> list[dict[str, Any]]:
        r = secrets.randbelow
        entries = [
            {"hydratable": "anonymousId",
             "data": "-".join(f"{r(1000000):06d}" for _ in range(4))},
            {"hydratable": "features", "data": {"features": _FEATURES}},
            {"hydratable": "geoip", "data": _GEOIP},
            {"hydratable": "privacySettings", "data": _PRIVACY},
            {"hydratable": "trackingBrowserTabId", "data": secrets.token_hex(3)},
            {"hydratable": "apiClient", "data": {"id": self.client_id, "isExpiring": False}},
        ]
        return entries + list(extra)

    def _page(self, title: str, meta: str, canonical: str, hydration: list[dict[str, Any]],
              body: str = "", theme: str = "theme-dark") -> str:
        web_base = self.urls["web"]
        head_chunks, late_first, late = self._chunk_urls()
        esc = html.escape
        api_host = urlsplit(self.urls["api"]).netloc
        ddoptions = (
            "  (function () {\n    window.ddjskey = '7FC6D561817844F25B65CDD97F28A1';\n"
            "    window.ddoptions = {\n"
            f'      ajaxListenerPath: [{{"host":"{api_host}","path":"/users/*/tracks","strict":true}}],\n'
            "      overrideAbortFetch: true,\n      sessionByHeader: true,\n"
            "      cookieName: 'datadome',\n"
            f"      endpoint: '{web_base}/datadome/js/',\n"
            f"      nonce: '{self.make_nonce()}',\n"
            "    };\n  })();\n")
        lines = [
            "<!DOCTYPE html>", '<html lang="en">', "<head>", '<meta charset="utf-8">',
            '<meta name="theme-color" content="#333">',
            f'<link rel="dns-prefetch" href="//{urlsplit(self.urls["assets"]).netloc}">',
            f'<link rel="dns-prefetch" href="//{urlsplit(self.urls["api"]).netloc}">',
            f'<link rel="dns-prefetch" href="//{urlsplit(self.urls["images"]).netloc}">',
            f"<title>{esc(title)}</title>",
            '<meta content="record, sounds, share, sound, audio, tracks, music, soundcloud" name="keywords">',
            '<meta name="referrer" content="origin">',
            '<link crossorigin="use-credentials" rel="manifest" href="/webmanifest.json">',
            '<meta name="viewport" content="width=device-width,minimum-scale=1,maximum-scale=1,user-scalable=no">',
            '<meta content="19507961798" property="fb:app_id">',
            '<meta content="SoundCloud" property="og:site_name">',
            '<meta content="SoundCloud" property="twitter:site">',
            meta,
            f'<link rel="canonical" href="{esc(canonical)}">',
            '<meta name="application-name" content="SoundCloud">',
            "<script>", ddoptions + "</script>",
            f'<script src="{web_base}/datadome/tags.js"></script>',
            "</head>", f'<body class="{theme}">', '<div id="app">', body, "</div>",
        ]
        lines += [f'<script crossorigin src="{u}"></script>' for u in head_chunks]
        lines += [f'<script>window.__sc_version="{self._version}"</script>',
                  f"<script>window.__sc_hydration = {_script_json(hydration)};</script>",
                  "", "", f'<script src="{late_first}" crossorigin></script>', "", ""]
        lines += [f'<script crossorigin src="{u}"></script>' for u in late]
        lines += ["</body>", "</html>", ""]
        return "\n".join(lines)

    async def _web_home(self, request: web.Request) -> web.Response:
        desc = ("Discover and play over 320 million music tracks. Join the world’s largest "
                "online community of artists, bands, DJs, and audio creators.")
        meta = (f'<meta name="description" content="{desc}">'
                '<meta property="og:type" content="website">'
                f'<meta property="og:url" content="{self.urls["web"]}/">'
                '<meta property="og:title" content="Stream and listen to music online for free with SoundCloud">'
                f'<meta property="og:description" content="{desc}">')
        page = self._page("Stream and listen to music online for free with SoundCloud", meta,
                          self.urls["web"] + "/", self._hydration())
        return self._html_response(page)

    async def _web_robots(self, request: web.Request) -> web.Response:
        return web.Response(text=_ROBOTS.format(web=self.urls["web"]), content_type="text/plain",
                            headers={"Server": "am/2", "Cache-Control": "max-age=3600"})

    async def _web_tags_js(self, request: web.Request) -> web.Response:
        return web.Response(body=_TAGS_JS.encode(), headers={
            "Content-Type": "application/javascript; charset=utf-8",
            "Cache-Control": "no-cache", "Server": "DataDome"})

    async def _web_datadome_js(self, request: web.Request) -> web.Response:
        """Verify the browser's proof and hand out a signed cookie (as JSON)."""
        try:
            data = await request.json()
            nonce, ua = str(data["nonce"]), str(data["ua"])
            scr, proof = str(data["screen"]), str(data["proof"])
        except (ValueError, KeyError, TypeError):
            data = None
        ok = False
        if data is not None:
            expected = hashlib.sha256(f"{nonce}|{ua}|{scr}".encode()).hexdigest()
            origin = request.headers.get("Origin")
            ok = (self._nonce_ok(nonce) and ua == request.headers.get("User-Agent", "")
                  and bool(_SCREEN_RE.match(scr)) and hmac.compare_digest(proof, expected)
                  and (origin is None or origin.rstrip("/") == self.urls["web"]))
        headers = {"Server": "DataDome", "Cache-Control": "no-store",
                   "Content-Type": "application/json; charset=utf-8"}
        if not ok:
            self.stats.incr("challenges_failed")
            return web.Response(body=b'{"status":403,"cookie":null}', status=403, headers=headers)
        self.stats.incr("challenges_passed")
        self.stats["challenge_user_agents"].append(ua)
        cookie = self.datadome_set_cookie(self.sign_datadome_cookie())
        return web.Response(body=_json_text({"status": 200, "cookie": cookie}).encode(),
                            headers=headers)

    async def _web_captcha(self, request: web.Request) -> web.Response:
        referer = request.query.get("referer", "")
        body = ('<div class="captcha"><h1>Please enable JS and disable any ad blocker</h1>'
                f'<p>Checking your browser before accessing {html.escape(referer)}</p></div>')
        page = self._page("SoundCloud", '<meta name="robots" content="noindex">',
                          self.urls["web"] + "/captcha/", self._hydration(), body)
        return self._html_response(page, 200)

    def _web_404(self) -> web.Response:
        body = ('<div class="errorPage"><h1 class="errorTitle">We can’t find that user.</h1>'
                '<p class="errorText">Sorry! Something went wrong.</p></div>')
        page = self._page("SoundCloud - Hear the world’s sounds", "", self.urls["web"] + "/",
                          self._hydration(), body)
        return self._html_response(page, 404)

    async def _web_not_found(self, request: web.Request) -> web.Response:
        return self._web_404()

    def _graph_user_by_permalink(self, permalink: str) -> dict[str, Any] | bool | None:
        """Graph user for a profile page; False if not a graph user at all."""
        g = self.graph
        gid = g.user_id_by_permalink(permalink) if g is not None else None
        if gid is None:
            return False
        return g.user(gid)  # type: ignore[union-attr]

    async def _web_profile(self, request: web.Request) -> web.Response:
        permalink = request.match_info["user"]
        guser = self._graph_user_by_permalink(permalink)
        if guser is not False:
            return self._html_response(self._profile_page(guser)) if guser else self._web_404()  # type: ignore[arg-type]
        if permalink.lower() in self.world.missing_permalinks:
            return self._web_404()
        user = self.world.user_by_permalink(permalink)
        if user is None:
            return self._web_404()
        return self._html_response(self._profile_page(user))

    async def _web_track_or_sub(self, request: web.Request) -> web.Response:
        permalink, sub = request.match_info["user"], request.match_info["sub"]
        guser = self._graph_user_by_permalink(permalink)
        if guser is not False:
            if guser and sub.lower() in RESERVED_SUBPAGES:
                return self._html_response(self._profile_page(guser))  # type: ignore[arg-type]
            return self._web_404()
        user = self.world.user_by_permalink(permalink)
        if user is None or permalink.lower() in self.world.missing_permalinks:
            return self._web_404()
        if sub.lower() in RESERVED_SUBPAGES:
            return self._html_response(self._profile_page(user))
        track = self.world.track_by_path(permalink, sub, full_user=True)
        if track is None:
            return self._web_404()
        return self._html_response(self._track_page(user, track))

    async def _web_private_track(self, request: web.Request) -> web.Response:
        m = request.match_info
        user = self.world.user_by_permalink(m["user"])
        track = self.world.track_by_path(m["user"], m["sub"], secret_token=m["token"], full_user=True)
        if user is None or track is None:
            return self._web_404()
        return self._html_response(self._track_page(user, track))

    def _hydrated_user(self, user: dict[str, Any]) -> dict[str, Any]:
        d = dict(user)
        d["url"] = f"/{user['permalink']}"
        return d

    def _big_image(self, url: str | None) -> str | None:
        return url.replace("-large.", "-t500x500.") if url else None

    def _profile_page(self, user: dict[str, Any]) -> str:
        esc = html.escape
        web_base = self.urls["web"]
        perm, name = user["permalink"], user["username"]
        url = f"{web_base}/{perm}"
        desc = (user.get("description") or "").replace("\n", " ")
        short = desc[:160]
        image = self._big_image(user["avatar_url"])
        city = user.get("city") or ""
        meta_desc = (f"{short + '. ' if short else ''}{city + '. ' if city else ''}"
                     f"{user['track_count']} Tracks. {user['followers_count']} Followers. "
                     f"Stream Tracks and Playlists from {name} on your desktop or mobile device.")
        app_url = f"soundcloud://users:{user['id']}"
        meta = "".join([
            f'<meta name="description" content="{esc(meta_desc)}">',
            f'<meta property="twitter:app:url:googleplay" content="{app_url}">',
            f'<meta property="twitter:app:url:iphone" content="{app_url}">',
            f'<meta property="twitter:app:url:ipad" content="{app_url}">',
            f'<meta property="twitter:title" content="{esc(name)}">',
            f'<meta property="twitter:image" content="{esc(image or "")}">',
            f'<meta property="twitter:description" content="{esc(short)}">',
            '<meta property="twitter:card" content="player">',
            f'<meta property="twitter:url" content="{esc(url)}">',
            '<meta property="og:type" content="music.musician">',
            f'<meta property="og:url" content="{esc(url)}">',
            f'<meta property="og:title" content="{esc(name)}">',
            f'<meta property="og:image" content="{esc(image or "")}">',
            '<meta property="og:image:width" content="500">',
            '<meta property="og:image:height" content="500">',
            f'<meta property="og:description" content="{esc(short)}">',
            f'<meta property="og:locality" content="{esc(city)}">' if city else '<meta property="og:locality">',
            '<meta property="og:country-name">',
            f'<meta property="al:ios:url" content="{app_url}">',
            f'<meta property="al:android:url" content="{app_url}">',
            f'<meta property="soundcloud:sound_count" content="{user["track_count"]}">',
            f'<meta property="soundcloud:follower_count" content="{user["followers_count"]}">',
        ])
        tracks = self.world.tracks_of(user["id"])[:10]
        arts = []
        for t in tracks:
            secs = t["duration"] // 1000
            arts.append(
                '        <article class="audible" itemprop="track" itemscope itemtype="http://schema.org/MusicRecording">\n'
                f'          <h2 itemprop="name"><a itemprop="url" href="/{perm}/{esc(t["permalink"])}">'
                f'{esc(t["title"])}</a>\n'
                f'          by <a href="/{perm}">{esc(name)}</a></h2>\n'
                f'          published on <time pubdate>{t["created_at"]}</time>\n'
                f'            <meta itemprop="duration" content="{_iso_duration(secs)}" />\n'
                + (f'            <meta itemprop="genre" content="{esc(t["genre"])}" />\n' if t["genre"] else "")
                + "        </article>")
        noscript = "\n".join([
            '<noscript><article itemscope itemtype="http://schema.org/MusicGroup">', "  <header>",
            f'    <h1 itemprop="name"><a itemprop="url" href="/{perm}">{esc(name)}</a></h1>',
            f"    <p>{esc(user.get('full_name') or '')}</p>", f"    <p>{esc(city)}</p>",
            f'    <img src="{esc(image or "")}" width="500" height="500" alt="{esc(name)}’s avatar" itemprop="image">',
            "  </header>",
            f'  <p itemprop="description">{esc(user.get("description") or "")}</p>',
            "    <section>", f"      <h2>{esc(name)}’s tracks</h2>", *arts, "    </section>",
            "  <footer>", "     <ul>",
            f'       <li><a href="/{perm}/likes">{esc(name)}\'s likes</a></li>',
            f'       <li><a href="/{perm}/sets">{esc(name)}\'s playlists</a></li>',
            f'       <li><a href="/{perm}/tracks">{esc(name)}\'s tracks</a></li>',
            f'       <li><a rel="nofollow" href="/{perm}/comments">{esc(name)}\'s comments</a></li>',
            "     </ul>", "  </footer>", "</article>", "</noscript>",
        ])
        hydration = self._hydration({"hydratable": "user", "data": self._hydrated_user(user)})
        return self._page(f"{name} | Free Listening on SoundCloud", meta, url, hydration, noscript)

    def _track_page(self, user: dict[str, Any], track: dict[str, Any]) -> str:
        esc = html.escape
        perm, name = user["permalink"], user["username"]
        url = track["permalink_url"]
        title = track["title"]
        image = self._big_image(track["artwork_url"]) or self._big_image(user["avatar_url"])
        desc = track.get("description") or ""
        app_url = f"soundcloud://sounds:{track['id']}"
        counts = [("play_count", "playback_count"), ("download_count", "download_count"),
                  ("comments_count", "comment_count"), ("like_count", "likes_count")]
        meta = "".join([
            f'<meta name="description" content="Stream {esc(title)} by {esc(name)} on desktop and mobile. '
            'Play over 320 million tracks for free on SoundCloud.">',
            f'<meta property="twitter:title" content="{esc(title)}">',
            f'<meta property="twitter:description" content="{esc(desc)}">',
            '<meta property="twitter:card" content="player">',
            f'<meta property="twitter:url" content="{esc(url)}">',
            f'<meta property="twitter:image" content="{esc(image or "")}">',
            f'<meta property="twitter:app:url:googleplay" content="{app_url}">',
            f'<meta property="twitter:app:url:iphone" content="{app_url}">',
            f'<meta property="twitter:app:url:ipad" content="{app_url}">',
            '<meta property="og:type" content="music.song">',
            f'<meta property="og:url" content="{esc(url)}">',
            f'<meta property="og:title" content="{esc(title)}">',
            f'<meta property="og:image" content="{esc(image or "")}">',
            '<meta property="og:image:width" content="500">',
            '<meta property="og:image:height" content="500">',
            f'<meta property="og:description" content="{esc(desc)}">',
            f'<meta property="al:ios:url" content="{app_url}">',
            f'<meta property="al:android:url" content="{app_url}">',
            f'<meta property="soundcloud:user" content="{self.urls["web"]}/{perm}">',
        ] + [f'<meta property="soundcloud:{m}" content="{track[k]}">'
             for m, k in counts if track[k] is not None])
        secs = track["duration"] // 1000
        interactions = "".join(
            f'        <meta itemprop="interactionCount" content="{label}:{track[k]}" />\n'
            for label, k in (("UserLikes", "likes_count"), ("UserDownloads", "download_count"),
                             ("UserComments", "comment_count")) if track[k] is not None)
        comments = self.world.comments_of(track["id"])[:10]
        comment_html = "".join(
            f'      <h2>Comment by <a href="/{c["user"]["permalink"]}">{esc(c["user"]["username"])}</a></h2>\n'
            f'<p>{esc(c["body"])}</p>\n<time pubdate>{c["created_at"]}</time>\n' for c in comments)
        noscript = (
            '<noscript><article itemscope itemtype="http://schema.org/MusicRecording">\n  <header>\n'
            f'    <h1 itemprop="name"><a itemprop="url" href="/{perm}/{esc(track["permalink"])}">{esc(title)}</a>\n'
            f'by <a href="/{perm}">{esc(name)}</a></h1>\n'
            f'published on <time pubdate>{track["created_at"]}</time>\n\n'
            f'      <meta itemprop="duration" content="{_iso_duration(secs)}" />\n'
            f'  <meta itemprop="genre" content="{esc(track["genre"])}" />\n\n'
            + interactions +
            '      <div itemscope itemprop="byArtist" itemtype="http://schema.org/MusicGroup">'
            f'<meta itemprop="name" content="{esc(name)}" /><meta itemprop="url" content="/{perm}" /></div>\n'
            "  </header>\n  <p>\n"
            f'    <img src="{esc(image or "")}" width="" height="" alt="{esc(title)}" itemprop="image">\n'
            f"    {esc(desc)}\n"
            f'    <meta itemprop="description" content="{esc(desc)}" />\n  </p>\n'
            + ('    <dl>\n      <dt>Genre</dt>\n'
               f'      <dd><a href="/tags/{quote(track["genre"])}">{esc(track["genre"])}</a></dd>\n    </dl>\n'
               if track["genre"] else "")
            + '\n    <section class="comments">\n' + comment_html + "    </section>\n"
            "</article></noscript>")
        hydration = self._hydration({"hydratable": "user", "data": self._hydrated_user(user)},
                                    {"hydratable": "sound", "data": track})
        return self._page(f"Stream {title} by {name} | Listen online for free on SoundCloud",
                          meta, url, hydration, noscript, theme="sc-classic")

    # ==================================================================================
    # a-v2.sndcdn.com
    # ==================================================================================
    def _assets_app(self) -> web.Application:
        app = web.Application(middlewares=[self.stats.count_status, self._route_counter])
        app.router.add_get("/assets/{name}", self._asset, name="assets_chunk")
        app.router.add_route("*", "/{tail:.*}", self._cdn_not_found, name="assets_not_found")
        return app

    def _config_module(self, client_id: str) -> str:
        web_base, api = self.urls["web"], self.urls["api"]
        return (
            'function(e,t,r){var n=e.exports=new(r(253)),i={api_v2_host:!0,api_auth_host:!0,'
            'secure_host:!0,env:!0,gql_host:!0};r(1).each({app_id:1e3*String(Date.now()).substr(-8)'
            '+Math.floor(1e3*Math.random()),app_version:null,'
            f'public_api_host:"{api}/",v2_host:"{web_base}",api_v2_host:"{api}/",'
            f'api_auth_host:"{api}/",auth_ui_host:"{web_base}/",secure_host:"{web_base}/",'
            f'client_application_id:46941,client_id:"{client_id}",client_is_expiring:!1,'
            f'env:"production",webi_host:"{web_base}",gql_host:"{api}/graphql",geoip:null,'
            'privacy_settings:null,playHistoryLength:50,maxComments:200,me:null,'
            'oauth_token:null,preferFlashAudio:!0,features:null,router:null},'
            '(function(e,t){i[t]?n.set(t,e):n.set(t,e)}))}')

    def _ensure_chunks(self, client_id: str) -> dict[int, str]:
        """Chunk file names for a client_id generation.  Names are content
        hashes, so a rotation renames the config chunk like a redeploy would;
        old chunks stay downloadable (immutable CDN files)."""
        with self._lock:
            names = self._chunk_names.get(client_id)
            if names is not None:
                return names
            seed = self.world.config.seed
            names = {}
            for n in (*_HEAD_CHUNKS, _LATE_FIRST, *_LATE_CHUNKS):
                if n != _CONFIG_CHUNK and self._chunk_names:
                    names[n] = next(iter(self._chunk_names.values()))[n]  # unchanged
                    continue
                rng = _rng(seed, "chunk", n)
                size = rng.randrange(40_000, 120_000)
                if n == _CONFIG_CHUNK:
                    data = js_chunk(rng, n, max(size, 60_000), self._config_module(client_id),
                                    rng.randrange(2_000, 30_000))
                else:
                    data = js_chunk(rng, n, size)
                name = f"{n}-{hashlib.sha256(data).hexdigest()[:8]}.js"
                self._chunks[name] = data
                names[n] = name
            self._chunk_names[client_id] = names
            return names

    async def _asset(self, request: web.Request) -> web.StreamResponse:
        name = request.match_info["name"]
        data = self._chunks.get(name)
        if data is None:
            return await self._cdn_not_found(request)
        headers = dict(_CDN_HEADERS)
        headers["Content-Type"] = "application/javascript"
        headers["ETag"] = '"' + hashlib.md5(data).hexdigest() + '"'
        headers["X-Amz-Cf-Id"] = _cf_id()
        return self._ranged(request, data, headers)

    @staticmethod
    def _ranged(request: web.Request, data: bytes, headers: dict[str, str]) -> web.Response:
        """Honour a single ``Range: bytes=a-b`` (also ``a-`` and ``-n``)."""
        rng = request.headers.get("Range", "")
        total = len(data)
        m = re.fullmatch(r"bytes=(\d*)-(\d*)", rng.strip())
        if not m or (m.group(1) == "" and m.group(2) == ""):
            return web.Response(body=data, headers=headers)
        if m.group(1) == "":
            start, end = max(total - int(m.group(2)), 0), total - 1
        else:
            start = int(m.group(1))
            end = min(int(m.group(2)), total - 1) if m.group(2) else total - 1
        if start >= total or end < start:
            headers["Content-Range"] = f"bytes */{total}"
            return web.Response(status=416, headers=headers)
        headers["Content-Range"] = f"bytes {start}-{end}/{total}"
        return web.Response(body=data[start:end + 1], status=206, headers=headers)

    async def _cdn_not_found(self, request: web.Request) -> web.Response:
        body = (f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>AccessDenied</Code>'
                f'<Message>Access Denied</Message><RequestId>{secrets.token_hex(8).upper()}</RequestId>'
                f'<HostId>{_cf_id()}</HostId></Error>')
        return web.Response(body=body.encode(), status=404, headers={
            "Content-Type": "application/xml", "Server": "AmazonS3",
            "X-Cache": "Error from cloudfront"})

    # ==================================================================================
    # i1.sndcdn.com
    # ==================================================================================
    def _images_app(self) -> web.Application:
        app = web.Application(middlewares=[self.stats.count_status, self._route_counter])
        app.router.add_get("/{tail:.*}", self._image, name="images_image")
        app.router.add_route("*", "/{tail:.*}", self._cdn_not_found, name="images_not_found")
        return app

    async def _image(self, request: web.Request) -> web.Response:
        path = request.path
        wave = _WAVE_RE.match(path)
        if wave:
            rng = _rng(self.world.config.seed, "wave", wave.group(1))
            samples = [rng.randrange(20, 140) for _ in range(1800)]
            body = _json_text({"width": 1800, "height": 140, "samples": samples})
            return web.Response(body=body.encode(), headers={
                "Content-Type": "application/json", "Server": "AmazonS3",
                "Cache-Control": "max-age=31536000"})
        m = _IMAGE_RE.match(path)
        d = _DEFAULT_AVATAR_RE.match(path) if m is None else None
        if m is None and d is None:
            return await self._cdn_not_found(request)
        size = IMAGE_SIZES[m.group(5) if m else d.group(1)]  # type: ignore[union-attr]
        ext = m.group(6) if m else "png"
        data = self._image_bytes(path, size, ext)
        headers = dict(_CDN_HEADERS)
        headers["Content-Type"] = "image/png" if ext == "png" else "image/jpeg"
        headers["ETag"] = '"' + hashlib.md5(data).hexdigest() + '"'
        headers["X-Amz-Cf-Id"] = _cf_id()
        return web.Response(body=data, headers=headers)

    def _image_bytes(self, path: str, size: int, ext: str) -> bytes:
        with self._lock:
            data = self._img_cache.get(path)
            if data is not None:
                self._img_cache.move_to_end(path)
                return data
        digest = hashlib.sha256(f"{self.world.config.seed}|{path}".encode()).digest()
        top, bottom = (digest[0], digest[1], digest[2]), (digest[3], digest[4], digest[5])
        comment = f"replica {path}".encode()
        data = (png_bytes(size, size, top, comment) if ext == "png"
                else jpeg_bytes(size, size, top, bottom, comment))
        with self._lock:
            self._img_cache[path] = data
            while len(self._img_cache) > 256:
                self._img_cache.popitem(last=False)
        return data


# Re-exported for callers that format cursors/dates the same way.
__all__ += ["iso", "iso_ms"]
