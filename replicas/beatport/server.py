"""aiohttp apps replaying www.beatport.com and its image CDN.

Pages follow the real Next.js site (shared/reference/beatport.md §2-§3, §8):
``<script id="__NEXT_DATA__" type="application/json">`` at the end of
``<body>`` with the real envelope (``props.pageProps.dehydratedState.queries``,
``anonSession``, ``_nextI18Next``, ``props.__N_SSP``, ``buildId`` …), ``&``,
``<`` and ``>`` escaped as ``\\u0026``/``\\u003c``/``\\u003e`` inside strings and
non-ASCII literal.  Routes: ``/search?q=`` (search-all buckets, at most 15
each), ``/search/tracks?q=&page=&per-page=`` (hyphenated ``per-page``),
``/track/{slug}/{id}`` (any slug redirects to the canonical one, unknown id
404), ``/top-100``, ``/robots.txt``; images on a second port at
``/image_size/{w}x{h}/{uuid}.{png|jpg}``.

Real behaviour reproduced: HTTP 403 to a query with more than one pair of
parentheses; an empty search is 200 with empty lists; a plain 403 page for
non-browser User-Agents; and (``Quirks.challenge``) Cloudflare's managed
challenge — a 403 "Just a moment..." page with ``cf-mitigated: challenge``
whose script, run by a real browser, proves itself (SHA-256 work over a signed
nonce and the browser's User-Agent) and receives an HttpOnly ``cf_clearance``
cookie bound to that User-Agent.  Requests with the cookie but another UA are
challenged again (and counted).
"""

from __future__ import annotations

import asyncio
import hashlib
import html
import json
import re
import secrets
import threading
import time
from collections import OrderedDict, deque
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from replicas.beatport.world import Catalogue, Track
from replicas.common import Holds, Signer
from replicas.common import Stats as _Stats
from replicas.runner import AppThread, StartStop
from replicas.soundcloud.media import jpeg_bytes, png_bytes
from replicas.tls import https_gate

__all__ = ["BeatportReplica", "Quirks", "Stats"]

BUILD_ID = "l9SM3rZEoP7PyWHVo7I2W"
LOCALES = ["en", "de", "fr", "es", "it", "ja", "pt", "nl"]
_POW_PREFIX = "000"  # ~4,096 SHA-256 digests in the browser


@dataclass
class Quirks:
    """Switchable behaviour of the real site (defaults: what a residential
    browser-like client sees, no challenge)."""

    # Cloudflare managed challenge on every page without a valid cf_clearance
    # (what data-centre clients get since 2026) ...
    challenge: bool = False
    # ... or only after this many page requests.
    challenge_after: int | None = None
    # False: the challenge never hands out a clearance (an interactive
    # Turnstile no automated browser passes).
    challenge_passable: bool = True
    clearance_ttl: int = 1800
    # HTTPS for www (test CA made at start-up: ``replica.ca_file``).  Cloudflare
    # then judges the TLS ClientHello peeked before the handshake
    # (replicas/tls.py): a non-browser handshake gets the challenge
    # whatever cf_clearance it carries (the clearance is bound to the browser's
    # TLS fingerprint as well as its User-Agent [I, stricter case: bound to
    # the Chrome-like class, since Chrome shuffles its extensions]).
    https: bool = False
    # 403 when q holds more than one pair of parentheses (real rule).
    parens_403: bool = True
    # Plain "403 Forbidden" for User-Agents that are not browsers.
    block_bot_user_agents: bool = True
    # Track pages served without __NEXT_DATA__ (an App Router page): a
    # changed page shape.
    changed_shape_tracks: frozenset[int] = frozenset()
    # Search pages without __NEXT_DATA__.
    changed_shape_search: bool = False
    # Track pages whose v4 object lacks key, bpm, isrc, sub_genre and the
    # release image.
    missing_fields_tracks: frozenset[int] = frozenset()
    # Track ids whose page answers 404 although search lists them (delisted).
    delisted_tracks: frozenset[int] = frozenset()
    latency_ms: int = 0
    # (max requests, window seconds): above it 429 with Retry-After.
    rate_limit: tuple[int, float] | None = None
    build_id: str = BUILD_ID
    # Length of the synthesised previews (the real ones are 2 minutes; tests
    # use shorter ones to stay fast).
    preview_seconds: float = 120.0


class Stats(_Stats):
    """Live counters: requests per route, ``status_<code>``, ``queries``,
    ``challenges_served/passed/failed``, ``challenge_user_agents``,
    ``clearance_accepted``, ``clearance_ua_mismatch``, ``clearance_expired``,
    ``parens_403``, ``bot_ua_403`` …"""


_HTML_HEADERS = {
    "Content-Type": "text/html; charset=utf-8",
    "Cache-Control": "private, no-cache, no-store, max-age=0, must-revalidate",
    "Server": "cloudflare",
    "Vary": "Accept-Encoding",
    "X-Powered-By": "Next.js",
    "Strict-Transport-Security": "max-age=31536000",
}
_ROBOTS = """User-agent: ClaudeBot
Disallow: /

User-agent: GPTBot
Disallow: /

User-agent: CCBot
Disallow: /

User-agent: *
Content-Signal: search=yes
Allow: /

Sitemap: {base}/sitemap.xml
"""
_FORBIDDEN = "<html><head><title>403</title></head><body>403 Forbidden</body></html>"
_I18N = {"OriginalMix": "Original Mix", "Subgenre": "Subgenre",
         "Warning": {"NoResults": "Your search \"{{searchQuery}}\" did not return any results."}}

# Cloudflare's JavaScript detections, injected before </body> of ordinary pages.
_JSD = ("<script>(function(){function c(){var b=a.contentDocument||a.contentWindow.document;if(b){var d="
        "b.createElement('script');d.innerHTML=\"window.__CF$cv$params={r:'%s',t:'%s'};var a=document."
        "createElement('script');a.nonce='';a.src='/cdn-cgi/challenge-platform/scripts/jsd/main.js';document."
        "getElementsByTagName('head')[0].appendChild(a);\";b.getElementsByTagName('head')[0].appendChild(d)}}"
        "if(document.body){var a=document.createElement('iframe');a.height=1;a.width=1;a.style.position="
        "'absolute';a.style.top=0;a.style.left=0;a.style.border='none';a.style.visibility='hidden';"
        "document.body.appendChild(a);if('loading'!==document.readyState)c();else if(window.addEventListener)"
        "document.addEventListener('DOMContentLoaded',c)}})();</script>")

_ORCHESTRATE_JS = r"""/* replica of Cloudflare's challenge orchestrator: only a browser runs it */
(function () {
  "use strict";
  var o = window._cf_chl_opt;
  function fail(msg) {
    var el = document.getElementById("challenge-error-text");
    if (el) { el.textContent = msg; }
    window.__cf_chl_failed = msg;
  }
  if (!o || !window.crypto || !window.crypto.subtle || !window.fetch || !window.TextEncoder) {
    fail("Enable JavaScript and cookies to continue");
    return;
  }
  function hex(buf) {
    return Array.prototype.map.call(new Uint8Array(buf), function (b) {
      return ("0" + b.toString(16)).slice(-2);
    }).join("");
  }
  var ua = navigator.userAgent;
  var screenSize = screen.width + "x" + screen.height;
  var enc = new TextEncoder();
  async function solve() {
    var n = 0;
    for (;;) {
      var digest = await crypto.subtle.digest("SHA-256", enc.encode(o.cH + ":" + n + ":" + ua));
      if (hex(digest).indexOf(o.cPfx) === 0) { break; }
      n += 1;
    }
    var resp = await fetch("/cdn-cgi/challenge-platform/h/g/flow/ov1/" + o.cRay, {
      method: "POST", credentials: "same-origin", headers: {"Content-Type": "application/json"},
      body: JSON.stringify({cH: o.cH, n: n, ua: ua, screen: screenSize})
    });
    if (resp.status !== 200) { fail("Verification failed"); return; }
    window.__cf_chl_done = true;
    setTimeout(function () { location.reload(); }, 50);
  }
  setTimeout(function () { solve().catch(function (e) { fail(String(e)); }); }, 50);
})();
"""


def _script_json(obj: Any) -> str:
    """JSON as Next.js writes it into __NEXT_DATA__: non-ASCII literal,
    ``&``, ``<``, ``>`` (and the JS line separators) escaped."""
    text = json.dumps(obj, ensure_ascii=False, separators=(",", ":"))
    return (text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")
            .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


def _query(name: str | list[Any], data: Any, updated: int) -> dict[str, Any]:
    key = name if isinstance(name, list) else [name]
    return {"state": {"data": data, "dataUpdateCount": 1, "dataUpdatedAt": updated, "error": None,
                      "errorUpdateCount": 0, "errorUpdatedAt": 0, "fetchFailureCount": 0,
                      "fetchFailureReason": None, "fetchMeta": None, "isInvalidated": False,
                      "status": "success", "fetchStatus": "idle"},
            "queryKey": key, "queryHash": json.dumps(key, separators=(",", ":"))}


def _class(build: str, name: str) -> str:
    """styled-components style hashed class names that change with the build."""
    digest = hashlib.sha1(f"{build}:{name}".encode()).hexdigest()
    return f"{name}-sc-{digest[:8]}-{int(digest[8], 16) % 9} {digest[9:15]}"


class BeatportReplica(StartStop):
    """www (pages) and media (images) on 127.0.0.1, serving ``catalogue``."""

    def __init__(self, catalogue: Catalogue, quirks: Quirks | None = None, host: str = "127.0.0.1",
                 ports: dict[str, int] | None = None) -> None:
        self.catalogue = catalogue
        self.quirks = quirks or Quirks()
        self.stats = Stats(queries=[], challenges_served=0, challenges_passed=0, challenges_failed=0,
                           challenge_user_agents=[], clearance_accepted=0, clearance_ua_mismatch=0,
                           clearance_expired=0, page_user_agents={})
        self.urls: dict[str, str] = {"www": "https://www.beatport.com", "media": "https://geo-media.beatport.com",
                                     "samples": "https://geo-samples.beatport.com"}
        self._signer = Signer()
        self._clearances: dict[str, tuple[str, float]] = {}  # token -> (user agent, expires)
        self._pages_served = 0
        self._rate: deque[float] = deque()
        self._images: OrderedDict[str, bytes] = OrderedDict()
        self._lock = threading.Lock()
        self._previews: OrderedDict[str, bytes] = OrderedDict()
        # Requests a test holds until it has caused its fault (replicas/common.py).
        self.holds = Holds()
        self.apps = {"www": self._www_app(), "media": self._media_app(), "samples": self._samples_app()}
        self.ca, self.tls = https_gate(self.quirks.https, self.stats)
        self._thread = AppThread(self.apps, host=host, ports=ports,
                                 tls={"www": self.tls} if self.tls is not None else None)

    # -- lifecycle ---------------------------------------------------------------------
    def start(self) -> dict[str, str]:
        self.urls = self._thread.start_named()
        self.catalogue.bind(self.urls["media"], self.urls["samples"])
        return dict(self.urls)

    def stop(self) -> None:
        self.holds.release_all()
        self._thread.stop()

    @property
    def ca_file(self) -> str | None:
        """The test CA www's certificate is signed with (HTTPS mode)."""
        return str(self.ca.ca_file) if self.ca is not None else None

    @property
    def url(self) -> str:
        return self.urls["www"]

    def track_url(self, track: Track) -> str:
        return f"{self.url}/track/{track.slug}/{track.id}"

    # -- Cloudflare ------------------------------------------------------------------------
    def _sign(self, text: str) -> str:
        return self._signer.sign(text)

    def _nonce(self) -> str:
        return self._signer.make_nonce("chl")

    def _nonce_ok(self, nonce: str, max_age: int = 600) -> bool:
        return self._signer.nonce_ok(nonce, "chl", max_age)

    def issue_clearance(self, user_agent: str, ttl: int | None = None) -> str:
        """A valid cf_clearance for ``user_agent`` (what the challenge hands out)."""
        issued = int(time.time())
        token = f"{secrets.token_urlsafe(32)}-{issued}-1.2.1.1-{secrets.token_urlsafe(48)}"
        ttl = self.quirks.clearance_ttl if ttl is None else ttl
        with self._lock:
            self._clearances[token] = (user_agent, time.time() + ttl)
        return token

    def _clearance_state(self, request: web.Request) -> str:
        """"ok", "missing", "expired" or "ua_mismatch" (best of the cookies sent)."""
        ua = request.headers.get("User-Agent", "")
        states = []
        for part in request.headers.get("Cookie", "").split(";"):
            name, _, value = part.strip().partition("=")
            if name != "cf_clearance":
                continue
            known = self._clearances.get(value.strip().strip('"'))
            if known is None:
                states.append("missing")
            elif known[1] < time.time():
                states.append("expired")
            elif known[0] != ua:
                states.append("ua_mismatch")
            else:
                return "ok"
        for state in ("ua_mismatch", "expired"):
            if state in states:
                return state
        return "missing"

    def _challenge(self, request: web.Request) -> web.Response:
        self.stats.incr("challenges_served")
        ray = secrets.token_hex(8)
        target = request.path_qs
        opt = {
            "cvId": "3", "cZone": request.host, "cType": "managed", "cRay": ray, "cH": self._nonce(),
            "cPfx": _POW_PREFIX,
            "cUPMDTk": f"{target}{'&' if '?' in target else '?'}__cf_chl_tk={secrets.token_urlsafe(24)}",
            "cFPWv": "b", "cITimeS": str(int(time.time())), "cTTimeMs": "1000", "cMTimeMs": "390000",
            "cTplC": 0, "cTplV": 5, "cTplB": "cf", "cK": "", "md": secrets.token_urlsafe(60),
        }
        page = (
            '<!DOCTYPE html><html lang="en-US"><head><title>Just a moment...</title>'
            '<meta http-equiv="Content-Type" content="text/html; charset=UTF-8">'
            '<meta http-equiv="X-UA-Compatible" content="IE=Edge">'
            '<meta name="robots" content="noindex,nofollow">'
            '<meta name="viewport" content="width=device-width,initial-scale=1">'
            "<style>*{box-sizing:border-box;margin:0;padding:0}html{line-height:1.15}"
            "body{display:flex;flex-direction:column;height:100vh;min-height:100vh}"
            ".main-content{margin:8rem auto;padding-left:1.5rem;max-width:60rem}</style>"
            '<meta http-equiv="refresh" content="390"></head><body class="no-js">'
            '<div class="main-wrapper" role="main"><div class="main-content">'
            f'<h1 class="zone-name-title h1">{html.escape(request.host)}</h1>'
            '<h2 id="challenge-body-text" class="h2">Verifying you are human. This may take a few seconds.</h2>'
            '<noscript><div class="h2"><span id="challenge-error-text">Enable JavaScript and cookies to '
            'continue</span></div></noscript><div id="challenge-error-text"></div></div></div>'
            f"<script>(function(){{window._cf_chl_opt={json.dumps(opt)};"
            "var cpo=document.createElement('script');"
            f"cpo.src='/cdn-cgi/challenge-platform/h/g/orchestrate/chl_page/v1?ray={ray}';"
            "document.getElementsByTagName('head')[0].appendChild(cpo);}());</script>"
            '<div class="footer" role="contentinfo"><div class="footer-inner"><div class="clearfix diagnostic-wrapper">'
            f'<div class="ray-id">Ray ID: <code>{ray}</code></div></div>'
            '<div class="text-center" id="footer-text">Performance &amp; security by Cloudflare</div></div></div>'
            "</body></html>"
        )
        headers = {
            "Content-Type": "text/html; charset=UTF-8", "Server": "cloudflare", "cf-mitigated": "challenge",
            "CF-RAY": f"{ray}-FRA", "Cache-Control": "private, max-age=0, no-store, no-cache, must-revalidate, "
            "post-check=0, pre-check=0", "Cross-Origin-Embedder-Policy": "require-corp",
            "Cross-Origin-Opener-Policy": "same-origin", "Referrer-Policy": "same-origin",
            "X-Frame-Options": "SAMEORIGIN", "Permissions-Policy": "accelerometer=(),camera=(),geolocation=()",
        }
        return web.Response(body=page.encode("utf-8"), status=403, headers=headers)

    async def _orchestrate(self, request: web.Request) -> web.Response:
        return web.Response(body=_ORCHESTRATE_JS.encode(), headers={
            "Content-Type": "text/javascript; charset=UTF-8", "Server": "cloudflare", "Cache-Control": "no-cache"})

    async def _jsd(self, request: web.Request) -> web.Response:
        return web.Response(body=b"/* bot detection */", headers={"Content-Type": "text/javascript"})

    async def _verify(self, request: web.Request) -> web.Response:
        """Check the browser's work; hand out an HttpOnly cf_clearance bound
        to the User-Agent that did it."""
        try:
            data = await request.json()
            nonce, n, ua, screen = str(data["cH"]), int(data["n"]), str(data["ua"]), str(data["screen"])
        except (ValueError, KeyError, TypeError):
            data = None
        ok = False
        if data is not None:
            digest = hashlib.sha256(f"{nonce}:{n}:{ua}".encode()).hexdigest()
            ok = (self._nonce_ok(nonce) and digest.startswith(_POW_PREFIX)
                  and ua == request.headers.get("User-Agent", "") and bool(re.fullmatch(r"\d{2,5}x\d{2,5}", screen))
                  and self.quirks.challenge_passable)
        headers = {"Server": "cloudflare", "Cache-Control": "no-store", "Content-Type": "application/json"}
        if not ok:
            self.stats.incr("challenges_failed")
            return web.Response(body=b'{"success":false}', status=403, headers=headers)
        token = self.issue_clearance(ua)
        self.stats.incr("challenges_passed")
        self.stats["challenge_user_agents"].append(ua)
        ttl = self.quirks.clearance_ttl
        headers["Set-Cookie"] = f"cf_clearance={token}; Path=/; Max-Age={ttl}; HttpOnly; SameSite=Lax"
        return web.Response(body=b'{"success":true}', headers=headers)

    # -- www -----------------------------------------------------------------------------------
    def _www_app(self) -> web.Application:
        app = web.Application(middlewares=[self.stats.count_status, self._gate])
        r = app.router
        r.add_get("/__replica__/stats", self._stats_route, name="replica_stats")
        r.add_get("/robots.txt", self._robots, name="robots")
        r.add_get("/cdn-cgi/challenge-platform/h/g/orchestrate/chl_page/v1", self._orchestrate,
                  name="cdn_orchestrate")
        r.add_post("/cdn-cgi/challenge-platform/h/g/flow/ov1/{ray}", self._verify, name="cdn_verify")
        r.add_get("/cdn-cgi/challenge-platform/scripts/jsd/main.js", self._jsd, name="cdn_jsd")
        r.add_get("/", self._home, name="home")
        r.add_get("/search", self._search_all, name="search_all")
        r.add_get("/search/tracks", self._search_tracks, name="search_tracks")
        r.add_get("/track/{slug}/{id}", self._track, name="track")
        r.add_get("/top-100", self._top100, name="top100")
        r.add_route("*", "/{tail:.*}", self._not_found_route, name="not_found")
        return app

    @web.middleware
    async def _gate(self, request: web.Request, handler: Any) -> web.StreamResponse:
        """What Cloudflare does before the origin: bot UAs, the challenge,
        the parentheses rule, rate limits."""
        route = request.match_info.route.name or "not_found"
        self.stats.incr(route)
        if route.startswith(("replica_", "cdn_")) or route == "robots":
            return await handler(request)
        q = self.quirks
        if q.latency_ms:
            await asyncio.sleep(q.latency_ms / 1000)
        ua = request.headers.get("User-Agent", "")
        agents = self.stats["page_user_agents"]
        agents[ua] = agents.get(ua, 0) + 1
        if q.block_bot_user_agents and not re.search(r"Mozilla/5\.0 .*(Chrome|Firefox|Safari)/", ua):
            self.stats.incr("bot_ua_403")
            return web.Response(text=_FORBIDDEN, status=403, content_type="text/html")
        with self._lock:
            self._pages_served += 1
            served = self._pages_served
        if self.tls is not None and self.tls.client_class(request) != "chrome":
            self.stats.incr("tls_refused")
            return self._challenge(request)
        if q.challenge or (q.challenge_after is not None and served > q.challenge_after):
            state = self._clearance_state(request)
            if state != "ok":
                if state != "missing":
                    self.stats.incr(f"clearance_{state}")
                return self._challenge(request)
            self.stats.incr("clearance_accepted")
        if route in ("search_all", "search_tracks"):
            text = request.query.get("q", "")
            self.stats["queries"].append(text)
            if q.parens_403 and (text.count("(") > 1 or text.count(")") > 1):
                self.stats.incr("parens_403")
                return web.Response(text=_FORBIDDEN, status=403, content_type="text/html")
        if q.rate_limit:
            limit, window = q.rate_limit
            now = time.monotonic()
            while self._rate and self._rate[0] <= now - window:
                self._rate.popleft()
            if len(self._rate) >= limit:
                self.stats.incr("rate_limited")
                return web.Response(text="Too Many Requests", status=429, headers={"Retry-After": "1"})
            self._rate.append(now)
        return await handler(request)

    async def _stats_route(self, request: web.Request) -> web.Response:
        return web.json_response(self.stats.snapshot())

    async def _robots(self, request: web.Request) -> web.Response:
        return web.Response(text=_ROBOTS.format(base=self.url), content_type="text/plain")

    def _page(self, *, page: str, query: dict[str, Any], props: dict[str, Any], title: str, canonical: str,
              body: str = "", status: int = 200, next_data: bool = True) -> web.Response:
        """A Next.js page: head, rendered body, then __NEXT_DATA__ last in <body>."""
        build = self.quirks.build_id
        now_ms = int(time.time() * 1000)
        page_props = {
            **props,
            "anonSession": {"access_token": "REPLICA-RS256-JWT." + secrets.token_urlsafe(24), "expires_in": 3600,
                            "token_type": "Bearer", "scope": "app:prostore user:anon",
                            "create_date": time.strftime("%a %b %d %Y %H:%M:%S GMT+0000 (Coordinated Universal Time)",
                                                         time.gmtime()),
                            "expirationTime": now_ms + 3_600_000},
            "_nextI18Next": {"initialI18nStore": {"en": {"translation": _I18N}}, "initialLocale": "en",
                             "ns": ["translation"],
                             "userConfig": {"i18n": {"defaultLocale": "en", "locales": LOCALES},
                                            "defaultNS": "translation",
                                            "default": {"i18n": {"defaultLocale": "en", "locales": LOCALES},
                                                        "defaultNS": "translation"}}},
        }
        envelope = {"props": {"pageProps": page_props, "isPageExplicit": False, "__N_SSP": True},
                    "page": page, "query": query, "buildId": build, "isFallback": False,
                    "isExperimentalCompile": False, "gssp": True, "appGip": True, "locale": "en",
                    "locales": LOCALES, "defaultLocale": "en", "scriptLoader": []}
        esc = html.escape
        path = canonical.split("://", 1)[-1].split("/", 1)[-1]
        alternates = "".join(
            f'<link rel="alternate" hrefLang="{loc}" href="https://www.beatport.com/{loc}/{esc(path)}" '
            'data-next-head=""/>' for loc in LOCALES[1:])
        head = (
            '<!DOCTYPE html><html lang="en"><head><meta charSet="utf-8" data-next-head=""/>'
            '<meta name="viewport" content="width=device-width" data-next-head=""/>'
            f'<link rel="canonical" hrefLang="en" href="{esc(canonical)}" data-next-head=""/>{alternates}'
            f'<title data-next-head="">{esc(title)}</title>'
            f'<script src="/_next/static/{build}/_buildManifest.js" defer=""></script></head>'
        )
        if next_data:
            tail = f'<script id="__NEXT_DATA__" type="application/json">{_script_json(envelope)}</script>'
        else:
            # The App Router streams React Server Component rows instead.
            rsc = json.dumps([1, json.dumps({"page": page, "len": len(json.dumps(props))})])
            tail = f"<script>(self.__next_f=self.__next_f||[]).push({rsc})</script>"
        jsd = _JSD % (secrets.token_hex(8), secrets.token_urlsafe(16))
        text = f"{head}<body><div id=\"__next\"><main>{body}</main></div>{tail}{jsd}</body></html>"
        return web.Response(body=text.encode("utf-8"), status=status, headers=_HTML_HEADERS)

    def _rows(self, tracks: list[Track]) -> str:
        """Rendered rows (reference §3.5): match on data-testid/role/href only."""
        build, esc, out = self.quirks.build_id, html.escape, []
        for t in tracks:
            artists = ", ".join(f'<a title="{esc(a.name)}" href="/artist/{a.slug}/{a.id}">{esc(a.name)}</a>'
                                for a in t.artists)
            key = t.key_id and self.catalogue.v4_track(t)["key"]["name"]
            row_class = _class(build, "Table-style__TableRow")
            out.append(
                f'<div data-testid="tracks-table-row" class="{row_class} row tracks-table">'
                f'<div class="{_class(build, "Table-style__TableCell")} cell title" role="cell">'
                f'<a title="{esc(t.name.strip())}" href="/track/{t.slug}/{t.id}"><span>{esc(t.name)}<!-- --> '
                f"<span>{esc(t.mix_name)}</span> </span></a><div>{artists}</div></div>"
                f'<div class="cell label" role="cell"><a title="{esc(t.release.label.name)}" '
                f'href="/label/{t.release.label.slug}/{t.release.label.id}">{esc(t.release.label.name)}</a></div>'
                f'<div class="cell bpm" role="cell"><div>{t.bpm or ""}<!-- --> BPM <!-- -->- {esc(key or "")}'
                "</div></div>"
                f'<div class="cell date" role="cell">{t.release.publish_date}</div></div>')
        return "".join(out)

    async def _home(self, request: web.Request) -> web.Response:
        return self._page(page="/", query={}, props={"dehydratedState": {"mutations": [], "queries": []}},
                          title="Beatport: DJ & Dance Music, Tracks & Mixes", canonical="https://www.beatport.com/")

    def _results(self, q: str) -> list[tuple[Track, float]]:
        return self.catalogue.search(q)

    async def _search_tracks(self, request: web.Request) -> web.Response:
        q = request.query.get("q", "")
        try:
            page = max(1, int(request.query.get("page", "1")))
            per_page = max(1, min(150, int(request.query.get("per-page", "25"))))  # hyphen, as the site
        except ValueError:
            page, per_page = 1, 25
        results = self._results(q)
        window = results[(page - 1) * per_page: page * per_page]
        items = [self.catalogue.search_item(t, s) for t, s in window]
        data = {"data": items, "count": len(results), "page": f"{page}/{max(1, -(-len(results) // per_page))}",
                "per_page": per_page}
        key = ["tracks-search", {"q": q, "page": str(page), "per_page": str(per_page)}, "US"]
        props = {"dehydratedState": {"mutations": [], "queries": [_query(key, data, int(time.time() * 1000))]}}
        canonical = f"https://www.beatport.com/search/tracks?{urlencode({'q': q})}"
        return self._page(page="/search/tracks", query={"q": q, "page": str(page), "per-page": str(per_page)},
                          props=props, title=f"Search results for {q} :: Beatport", canonical=canonical,
                          body=self._rows([t for t, _ in window]), next_data=not self.quirks.changed_shape_search)

    async def _search_all(self, request: web.Request) -> web.Response:
        q = request.query.get("q", "")
        results = self._results(q)[:15]
        tracks = [t for t, _ in results]
        cat = self.catalogue
        words = set(q.lower().split())
        artists = {a.id: a for t in tracks for a in (*t.artists, *t.remixers)
                   if set(a.name.lower().split()) & words}
        releases = {t.release.id: t.release for t in tracks}
        labels = {r.label.id: r.label for r in releases.values() if set(r.label.name.lower().split()) & words}
        data = {
            "tracks": {"data": [cat.search_item(t, s) for t, s in results]},
            "releases": {"data": [{"release_id": r.id, "release_name": r.name,
                                   "release_image_uri": f"{cat.media_url}/image_size/1400x1400/{r.image_uuid}.jpg",
                                   "label": {"label_id": r.label.id, "label_name": r.label.name}}
                                  for r in list(releases.values())[:15]]},
            "artists": {"data": [{"artist_id": a.id, "artist_name": a.name,
                                  "artist_image_uri": f"{cat.media_url}/image_size/590x404/{a.image_uuid}.jpg"}
                                 for a in list(artists.values())[:15]]},
            "labels": {"data": [{"label_id": la.id, "label_name": la.name} for la in list(labels.values())[:15]]},
            "charts": {"data": []},
        }
        key = ["search-all", {"q": q, "count": "15", "is_approved": True, "preorder": True}, "US"]
        props = {"dehydratedState": {"mutations": [], "queries": [_query(key, data, int(time.time() * 1000))]}}
        return self._page(page="/search", query={"q": q}, props=props, title=f"Search results for {q} :: Beatport",
                          canonical=f"https://www.beatport.com/search?{urlencode({'q': q})}",
                          body=self._rows(tracks), next_data=not self.quirks.changed_shape_search)

    def _not_found(self) -> web.Response:
        return self._page(page="/404", query={}, props={"statusCode": 404}, title="Beatport | 404",
                          canonical="https://www.beatport.com/404",
                          body="<h1>Whoops! Looks like this page doesn't exist.</h1>", status=404)

    async def _not_found_route(self, request: web.Request) -> web.Response:
        return self._not_found()

    def track_json(self, track: Track) -> dict[str, Any]:
        """The v4 object as its page embeds it (after the missing-fields quirk)."""
        obj = self.catalogue.v4_track(track)
        if track.id in self.quirks.missing_fields_tracks:
            obj.update({"key": None, "bpm": None, "isrc": None, "sub_genre": None})
            obj["release"].pop("image", None)
        return obj

    async def _track(self, request: web.Request) -> web.StreamResponse:
        raw_id = request.match_info["id"]
        track = self.catalogue.tracks.get(int(raw_id)) if raw_id.isdigit() else None
        if track is None or track.id in self.quirks.delisted_tracks:
            return self._not_found()
        if request.match_info["slug"] != track.slug:
            location = f"/track/{track.slug}/{track.id}" + (f"?{request.query_string}" if request.query_string else "")
            self.stats.incr("track_redirects")
            raise web.HTTPPermanentRedirect(location)  # Next.js redirects with 308
        obj = self.track_json(track)
        props = {"track": obj,
                 "dehydratedState": {"mutations": [], "queries": [_query(f"track-{track.id}", obj,
                                                                         int(time.time() * 1000))]}}
        artists = ", ".join(a.name for a in track.artists)
        title = f"{track.name.strip()} ({track.mix_name}) by {artists} on Beatport"
        return self._page(page="/track/[description]/[id]", query={"description": track.slug, "id": str(track.id)},
                          props=props, title=title, canonical=f"https://www.beatport.com/track/{track.slug}/{track.id}",
                          body=self._rows([track]), next_data=track.id not in self.quirks.changed_shape_tracks)

    async def _top100(self, request: web.Request) -> web.Response:
        tracks = sorted(self.catalogue.tracks.values(), key=lambda t: (not t.seed, t.id))[:100]
        data = {"next": "api-internal.beatportprod.com/v4/catalog/tracks/top/100/?per_page=100&page=2",
                "previous": None, "count": 100, "page": "1", "per_page": 100,
                "results": [self.track_json(t) for t in tracks]}
        props = {"dehydratedState": {"mutations": [], "queries": [
            _query("top-100-tracks-per_page=100", data, int(time.time() * 1000))]}}
        return self._page(page="/top-100", query={}, props=props,
                          title="Beatport | Top 100 Songs & DJ Tracks | Music Downloads & Streaming",
                          canonical="https://www.beatport.com/top-100", body=self._rows(tracks))

    # -- media ---------------------------------------------------------------------------------
    def _media_app(self) -> web.Application:
        app = web.Application(middlewares=[self.stats.count_status, self.holds.middleware])
        app.router.add_get("/image_size/{w:\\d+}x{h:\\d+}/{name}", self._image, name="image")
        return app

    async def _image(self, request: web.Request) -> web.Response:
        self.stats.incr("images")
        w, h, name = int(request.match_info["w"]), int(request.match_info["h"]), request.match_info["name"]
        m = re.fullmatch(r"([0-9a-f-]{36})\.(png|jpg)", name)
        if not m or not (1 <= w <= 1500 and 1 <= h <= 1500):
            raise web.HTTPNotFound()
        uuid_, ext = m.groups()
        kind = self.catalogue.image_kind(uuid_)
        if kind is None and uuid_ != "ab2d1d04-233d-4b08-8234-9782b34dcab8":
            raise web.HTTPNotFound()
        key = f"{w}x{h}/{name}"
        with self._lock:
            body = self._images.get(key)
        if body is None:
            seed = hashlib.sha256(uuid_.encode()).digest()
            top, bottom = (seed[0], seed[1], seed[2]), (seed[3], seed[4], seed[5])
            body = png_bytes(w, h, top, comment=uuid_.encode()) if ext == "png" else jpeg_bytes(w, h, top, bottom)
            with self._lock:
                self._images[key] = body
                while len(self._images) > 256:
                    self._images.popitem(last=False)
        return web.Response(body=body, headers={
            "Content-Type": "image/png" if ext == "png" else "image/jpeg", "Cache-Control": "max-age=31536000",
            "Server": "nginx", "Access-Control-Allow-Origin": "*"})

    # -- previews (geo-samples) ------------------------------------------------------------------
    def _samples_app(self) -> web.Application:
        app = web.Application(middlewares=[self.stats.count_status])
        app.router.add_get("/track/{name}", self._preview, name="preview")
        return app

    def preview_clip(self, track: Track) -> Any:
        """The synthesised preview's ``Clip`` (tempo and key are the truth the
        audio tests check against).  numpy/lameenc are imported only here."""
        from replicas.audio.synth import Clip

        bpm, tonic, scale = self.catalogue.preview_truth(track)
        return Clip(bpm=bpm, tonic=tonic, scale=scale, seconds=self.quirks.preview_seconds, seed=track.id)

    async def _preview(self, request: web.Request) -> web.Response:
        """``/track/{uuid}.LOFI.mp3``: the track's preview, synthesised in its
        bpm and key (see replicas.audio.synth); unknown uuid 404 [I: the
        real CDN's answer to an unknown uuid is not documented; 404 is the
        stricter case for a client]."""
        self.stats.incr("previews")
        m = re.fullmatch(r"([0-9a-f-]{36})\.LOFI\.mp3", request.match_info["name"])
        track = self.catalogue.by_sample_uuid(m.group(1)) if m else None
        if track is None:
            raise web.HTTPNotFound()
        with self._lock:
            body = self._previews.get(track.sample_uuid)
        if body is None:
            from replicas.audio.synth import clip_mp3

            body = await asyncio.to_thread(clip_mp3, self.preview_clip(track))
            with self._lock:
                self._previews[track.sample_uuid] = body
                while len(self._previews) > 64:
                    self._previews.popitem(last=False)
        return web.Response(body=body, headers={"Content-Type": "audio/mpeg", "Accept-Ranges": "bytes",
                                                "Cache-Control": "max-age=31536000", "Server": "nginx",
                                                "Access-Control-Allow-Origin": "*"})
