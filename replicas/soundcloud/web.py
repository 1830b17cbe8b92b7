"""soundcloud.com on the SoundCloud replica: the home page with its asset chunks,
profile and track pages with ``__sc_hydration``, robots.txt, DataDome's JS tag and captcha."""

from __future__ import annotations

import hashlib
import hmac
import html
import re
import secrets
from typing import Any
from urllib.parse import quote, urlsplit

from aiohttp import web

from replicas.soundcloud.responses import HEAD_CHUNKS, LATE_CHUNKS, LATE_FIRST, json_text
from replicas.soundcloud.world import (
    RESERVED_SUBPAGES,
)

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

def _script_json(obj: Any) -> str:
    """JSON safe inside <script> (no premature </script>)."""
    return json_text(obj).replace("</", "<\\/")

def _iso_duration(secs: int) -> str:
    """schema.org duration as the real pages write it: PT00H05M02S."""
    return f"PT{secs // 3600:02d}H{secs // 60 % 60:02d}M{secs % 60:02d}S"


class WebHost:
    """The soundcloud.com host of SoundCloudReplica (state set up in its ``__init__``)."""

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
        return ([base + names[n] for n in HEAD_CHUNKS], base + names[LATE_FIRST],
                [base + names[n] for n in LATE_CHUNKS])

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
        return web.Response(body=json_text({"status": 200, "cookie": cookie}).encode(),
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
