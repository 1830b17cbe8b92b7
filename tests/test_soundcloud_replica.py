"""Self-tests of the SoundCloud replica (replicas/soundcloud): it must
answer like the real site, quirks included, so the crawler's offline tests mean
something.  Plain urllib clients; every test is well under 2 s."""

from __future__ import annotations

import hashlib
import itertools
import json
import re
import shutil
import struct
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import pytest
from aiohttp import web

from replicas.runner import AppThread
from replicas.soundcloud import Quirks, SoundCloudReplica, World, WorldConfig, build_world

REPO = Path(__file__).resolve().parents[1]
CLIENT_ID_RE = re.compile(r',client_id:"([0-9a-zA-Z]{32})"')
ASSET_RE = re.compile(r'<script crossorigin src="([^"]+/assets/\d+-[0-9a-f]{8}\.js)"></script>')


class Resp:
    def __init__(self, status: int, headers: Any, body: bytes) -> None:
        self.status, self.headers, self.body = status, headers, body

    @property
    def text(self) -> str:
        return self.body.decode("utf-8")

    def json(self) -> Any:
        return json.loads(self.body)


def fetch(url: str, headers: dict[str, str] | None = None, method: str = "GET",
          data: bytes | None = None) -> Resp:
    req = urllib.request.Request(url, headers=headers or {}, method=method, data=data)
    try:
        with urllib.request.urlopen(req, timeout=5) as r:
            return Resp(r.status, r.headers, r.read())
    except urllib.error.HTTPError as e:
        return Resp(e.code, e.headers, e.read())


def hydration(html: str) -> list[dict[str, Any]]:
    m = re.search(r"window\.__sc_hydration = (\[.*?\]);</script>", html, re.S)
    assert m, "no __sc_hydration"
    return json.loads(m.group(1))


@pytest.fixture(scope="module")
def world() -> World:
    return build_world(WorldConfig())


@pytest.fixture(scope="module")
def sc(world: World) -> Iterator[SoundCloudReplica]:
    with SoundCloudReplica(world, Quirks()) as replica:
        yield replica


def small_replica(**quirks: Any) -> SoundCloudReplica:
    return SoundCloudReplica(build_world(WorldConfig(artists=2, tracks_per_artist=6)), Quirks(**quirks))


def api(sc: SoundCloudReplica, path: str, client_id: str | None = None, **kw: Any) -> Resp:
    sep = "&" if "?" in path else "?"
    return fetch(f"{sc.urls['api']}{path}{sep}client_id={client_id or sc.client_id}", **kw)


def cookie(sc: SoundCloudReplica) -> dict[str, str]:
    return {"Cookie": f"datadome={sc.sign_datadome_cookie()}"}


def walk(sc: SoundCloudReplica, url: str, headers: dict[str, str] | None = None,
         add_client_id: bool = True) -> list[dict[str, Any]]:
    """All pages of a collection, following next_href."""
    pages = []
    seen = set()
    while url:
        assert url not in seen, "next_href repeated"
        seen.add(url)
        if add_client_id:
            url += ("&" if "?" in url else "?") + f"client_id={sc.client_id}"
        r = fetch(url, headers)
        assert r.status == 200, (r.status, url, r.text[:200])
        page = r.json()
        pages.append(page)
        url = page.get("next_href")
    return pages


# --- home page, client_id, assets --------------------------------------------------------

def test_home_has_api_client_and_a_late_chunk_has_client_id(sc: SoundCloudReplica) -> None:
    r = fetch(sc.urls["web"] + "/")
    assert r.status == 200 and r.headers["Content-Type"].startswith("text/html")
    assert r.headers["Server"] == "am/2" and r.headers["X-Frame-Options"] == "SAMEORIGIN"
    html = r.text
    assert re.search(r'<script>window\.__sc_version="\d{10}"</script>', html)
    entries = hydration(html)
    kinds = [e["hydratable"] for e in entries]
    for k in ("anonymousId", "features", "geoip", "privacySettings", "trackingBrowserTabId", "apiClient"):
        assert k in kinds
    api_client = next(e["data"] for e in entries if e["hydratable"] == "apiClient")
    assert api_client == {"id": sc.client_id, "isExpiring": False}
    # Asset scripts come after the hydration, on the assets host.
    after = html[html.index("window.__sc_hydration"):]
    chunks = ASSET_RE.findall(after)
    assert len(chunks) >= 5 and all(c.startswith(sc.urls["assets"] + "/assets/") for c in chunks)
    all_chunks = re.findall(r'<script[^>]*src="([^"]+/assets/[^"]+\.js)"', html)
    found = None
    for i, url in enumerate(reversed(all_chunks)):  # like yt-dlp / NewPipe
        part = fetch(url, {"Range": "bytes=0-50000"})
        assert part.status == 206
        total = int(part.headers["Content-Range"].rsplit("/", 1)[1])
        assert part.headers["Content-Range"] == f"bytes 0-50000/{total}" and total > 50001
        assert len(part.body) == 50001 and part.headers["Content-Type"] == "application/javascript"
        m = CLIENT_ID_RE.search(part.text)
        if m:
            found = (i, m.group(1))
            break
    assert found is not None and found[0] <= 1, "client_id must be in one of the last chunks"
    assert found[1] == sc.client_id
    full = fetch(all_chunks[-1])
    assert full.status == 200 and len(full.body) > 30_000


def test_asset_range_variants_and_unknown_asset(sc: SoundCloudReplica) -> None:
    url = ASSET_RE.findall(fetch(sc.urls["web"] + "/").text)[-1]
    whole = fetch(url).body
    assert fetch(url, {"Range": "bytes=100-"}).body == whole[100:]
    assert fetch(url, {"Range": "bytes=-10"}).body == whole[-10:]
    assert fetch(url, {"Range": f"bytes={len(whole)}-"}).status == 416
    assert fetch(sc.urls["assets"] + "/assets/99-deadbeef.js").status == 404


# --- resolve / users / tracks -------------------------------------------------------------

def test_resolve_user_track_and_404(sc: SoundCloudReplica, world: World) -> None:
    artist = world.artists[1]
    for base in (sc.urls["web"], "https://soundcloud.com"):
        r = api(sc, f"/resolve?url={quote(base + '/' + artist['permalink'], safe='')}")
        assert r.status == 200 and r.headers["Content-Type"] == "application/json; charset=utf-8"
        assert r.json() == artist
    user = r.json()
    for key in ("description", "followings_count", "track_count", "visuals", "reposts_count", "badges", "urn"):
        assert key in user
    assert user["permalink_url"] == f"{sc.urls['web']}/{artist['permalink']}"
    track = world.tracks_of(artist["id"])[2]
    r = api(sc, f"/resolve?url={quote(track['permalink_url'], safe='')}")
    assert r.status == 200
    got = r.json()
    assert got["kind"] == "track" and got["id"] == track["id"]
    assert "followings_count" in got["user"]  # resolve embeds the full user
    assert got["uri"].endswith(f"/tracks/soundcloud%3Atracks%3A{track['id']}")
    for missing in (f"{sc.urls['web']}/{world.missing_permalinks[0]}",
                    f"{sc.urls['web']}/{artist['permalink']}/no-such-track",
                    "https://example.com/whatever"):
        r = api(sc, f"/resolve?url={quote(missing, safe='')}")
        assert r.status == 404 and r.body == b"{}"
        assert r.headers["Content-Type"] == "application/json; charset=utf-8"
    assert api(sc, f"/users/{artist['id']}").json() == artist
    assert api(sc, "/users/1").status == 404 and api(sc, "/users/1").body == b"{}"
    assert api(sc, f"/tracks/{track['id']}").json()["title"] == track["title"]
    assert api(sc, "/tracks/42").body == b"{}"
    assert api(sc, "/charts?kind=top").status == 404


def test_tracks_batch_is_a_bare_array(sc: SoundCloudReplica, world: World) -> None:
    ids = [t["id"] for t in world.all_tracks()[:3]]
    r = api(sc, "/tracks?ids=" + quote(",".join(map(str, [*ids, 7])), safe=""))
    data = r.json()
    assert isinstance(data, list) and [t["id"] for t in data] == ids
    assert "followings_count" not in data[0]["user"]  # mini user


def test_private_track_needs_secret_token(sc: SoundCloudReplica, world: World) -> None:
    private = world.private_tracks()[0]
    assert private["sharing"] == "private" and private["secret_token"].startswith("s-")
    assert api(sc, f"/tracks/{private['id']}").status == 404
    assert api(sc, f"/tracks/{private['id']}?secret_token={private['secret_token']}").status == 200
    r = api(sc, f"/resolve?url={quote(private['permalink_url'], safe='')}")
    assert r.status == 200 and r.json()["id"] == private["id"]


# --- pagination ---------------------------------------------------------------------------

CURSOR_RE = re.compile(r"/users/\d+/tracks\?offset=\d{4}-\d\d-\d\dT\d\d%3A\d\d%3A\d\d\.000Z%2Ctracks%2C\d{20}&limit=3$")


def test_user_tracks_cursor_pages_short_and_one_empty(sc: SoundCloudReplica, world: World) -> None:
    artist = world.artists[0]
    url = f"{sc.urls['api']}/users/{artist['id']}/tracks?limit=3&linked_partitioning=1"
    pages = walk(sc, url, cookie(sc))
    for p in pages:
        assert set(p) == {"collection", "next_href", "query_urn"} and p["query_urn"] is None
        if p["next_href"]:
            assert "client_id" not in p["next_href"] and "linked_partitioning" not in p["next_href"]
            assert CURSOR_RE.search(p["next_href"]), p["next_href"]
    assert pages[-1]["next_href"] is None
    sizes = [len(p["collection"]) for p in pages]
    assert sizes.count(0) == 1 and sizes[-1] != 0
    assert any(0 < s < 3 for s in sizes[:-1]), sizes  # a short page that is not the last
    ids = [t["id"] for p in pages for t in p["collection"]]
    expected = [t["id"] for t in world.tracks_of(artist["id"])]
    assert ids == expected and len(set(ids)) == len(ids)
    created = [t["created_at"] for p in pages for t in p["collection"]]
    assert created == sorted(created, reverse=True)
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", c) for c in created)
    assert "followings_count" not in pages[0]["collection"][0]["user"]  # mini users in lists


@pytest.mark.parametrize("limit", [1, 20, 200, 5000])
def test_user_tracks_every_artist_every_limit(sc: SoundCloudReplica, world: World, limit: int) -> None:
    for artist in world.artists:
        pages = walk(sc, f"{sc.urls['api']}/users/{artist['id']}/tracks?limit={limit}", cookie(sc))
        sizes = [len(p["collection"]) for p in pages]
        assert sizes.count(0) == 1 and max(sizes) <= min(limit, 200)
        ids = [t["id"] for p in pages for t in p["collection"]]
        assert ids == [t["id"] for t in world.tracks_of(artist["id"])]


def test_user_tracks_without_short_pages_quirk() -> None:
    with small_replica(short_pages=False, datadome=False) as sc:
        aid = sc.world.artists[0]["id"]
        pages = walk(sc, f"{sc.urls['api']}/users/{aid}/tracks?limit=4")
        assert [len(p["collection"]) for p in pages] == [4, 2]
        assert [t["id"] for p in pages for t in p["collection"]] == sc.world.track_ids_of(aid)


def test_toptracks_is_not_protected_and_pages(sc: SoundCloudReplica, world: World) -> None:
    aid = world.artists[0]["id"]
    pages = walk(sc, f"{sc.urls['api']}/users/{aid}/toptracks?limit=3")
    ids = [t["id"] for p in pages for t in p["collection"]]
    assert sorted(ids) == sorted(world.track_ids_of(aid))
    assert "offset=3&limit=3" in pages[0]["next_href"]


def test_comments_pagination_next_href_has_client_id(sc: SoundCloudReplica, world: World) -> None:
    track = next(t for t in world.all_tracks() if len(world.comments_of(t["id"])) > 12)
    pages = [api(sc, f"/tracks/{track['id']}/comments?threaded=0&limit=5").json()]
    nxt = pages[0]["next_href"]
    while nxt:  # next_href already carries client_id: use it as is
        assert f"client_id={sc.client_id}" in nxt and nxt.count("client_id=") == 1
        assert re.search(r"/comments\?client_id=\w+&offset=\d+&threaded=0&limit=5$", nxt)
        page = fetch(nxt).json()
        pages.append(page)
        nxt = page["next_href"]
    got = [c["id"] for p in pages for c in p["collection"]]
    want = [c["id"] for c in world.comments_of(track["id"])]
    assert got == want and len(set(got)) == len(got)
    c = pages[0]["collection"][0]
    assert set(c) == {"kind", "id", "body", "created_at", "timestamp", "track_id", "user_id", "self", "user"}
    assert c["self"] == {"urn": f"soundcloud:comments:{c['id']}"} and c["kind"] == "comment"
    # threaded=1 returns the same comments, replies right after their parent.
    threaded = walk(sc, f"{sc.urls['api']}/tracks/{track['id']}/comments?threaded=1&limit=200&client_id={sc.client_id}",
                    add_client_id=False)
    assert sorted(c["id"] for p in threaded for c in p["collection"]) == sorted(want)


def test_comments_empty_and_filter_replies(sc: SoundCloudReplica, world: World) -> None:
    empty = next(t for t in world.all_tracks() if not world.comments_of(t["id"]))
    r = api(sc, f"/tracks/{empty['id']}/comments?threaded=0&filter_replies=1")
    assert r.body == b'{"collection":[],"next_href":null,"query_urn":null}'
    track = next(t for t in world.all_tracks() if len(world.comments_of(t["id"])) >= 12)
    page = api(sc, f"/tracks/{track['id']}/comments?threaded=0&filter_replies=1&limit=200").json()
    n_replies = sum(1 for c in world.comments_of(track["id"]) if c["body"].startswith("@"))
    assert n_replies and len(page["collection"]) <= len(world.comments_of(track["id"])) - n_replies


def test_search_users_last_page_has_no_next_href_key(sc: SoundCloudReplica, world: World) -> None:
    q = "e"
    expected = [u for u in world.users.values()
                if any(q in (u.get(k) or "").lower() for k in ("username", "permalink", "full_name"))]
    url = f"{sc.urls['api']}/search/users?q={q}&limit=10&offset=0"
    pages = []
    while True:
        page = fetch(url + ("" if "client_id=" in url else f"&client_id={sc.client_id}")).json()
        pages.append(page)
        assert page["total_results"] == len(expected)
        assert re.fullmatch(r"soundcloud:search:[0-9a-f]{32}", page["query_urn"])
        if "next_href" not in page:
            break
        assert page["next_href"] is not None and "client_id" not in page["next_href"]
        assert re.search(r"/search/users\?query_urn=soundcloud%3Asearch%3A[0-9a-f]{32}&limit=10&offset=\d+&q=e$",
                         page["next_href"])
        url = page["next_href"] + f"&client_id={sc.client_id}"
    assert len(pages) > 1
    ids = [u["id"] for p in pages for u in p["collection"]]
    assert sorted(ids) == sorted(u["id"] for u in expected)
    one = api(sc, f"/search/users?q={quote(world.artists[0]['username'])}").json()
    assert "next_href" not in one and world.artists[0]["id"] in [u["id"] for u in one["collection"]]


# --- data quirks ----------------------------------------------------------------------------

def test_hidden_stats_null_timestamps_replies_visuals(sc: SoundCloudReplica, world: World) -> None:
    hidden = [t for t in world.all_tracks() if t["playback_count"] is None]
    assert hidden and all(t["likes_count"] is None and t["reposts_count"] is None
                          and t["comment_count"] is None for t in hidden)
    assert api(sc, f"/tracks/{hidden[0]['id']}").json()["likes_count"] is None
    shown = [t for t in world.all_tracks() if t["comment_count"] is not None]
    assert all(t["comment_count"] == len(world.comments_of(t["id"])) for t in shown)
    comments = [c for t in world.all_tracks() for c in world.comments_of(t["id"])]
    assert any(c["timestamp"] is None for c in comments)
    assert any("🔥" in c["body"] for c in comments) and any("\n" in c["body"] for c in comments)
    for t in world.all_tracks():
        chrono = list(reversed(world.comments_of(t["id"])))
        for prev, cur in itertools.pairwise(chrono):
            if cur["body"].startswith("@"):
                assert cur["timestamp"] == prev["timestamp"]
        for c in chrono:
            assert c["timestamp"] is None or 0 <= c["timestamp"] < t["duration"]
    assert any(a["visuals"] is None for a in world.artists)
    assert any(a["visuals"] for a in world.artists)
    assert all(a["reposts_count"] is None for a in world.artists)
    dj = [t for t in world.all_tracks() if t["genre"] == "Mix"]
    assert dj and all(45 * 60_000 <= t["duration"] <= 120 * 60_000 for t in dj)
    assert any(t["policy"] == "BLOCK" and t["media"]["transcodings"] == [] for t in world.all_tracks())


def test_world_is_deterministic_lazy_and_cheap() -> None:
    a = json.dumps(build_world(WorldConfig(seed=7)).all_tracks(), ensure_ascii=False)
    b = json.dumps(build_world(WorldConfig(seed=7)).all_tracks(), ensure_ascii=False)
    assert a == b and a != json.dumps(build_world(WorldConfig(seed=8)).all_tracks(), ensure_ascii=False)
    big = build_world(WorldConfig(artists=200, tracks_per_artist=30, comments_per_track=50))
    assert big.counts()["comments"] == 300_000 and big.counts()["tracks"] == 6000
    # Lazy: counting 300,000 comments built none of them (blocks are made on demand).
    assert len(big._comment_cache) == 0
    tid = big.all_tracks()[1234]["id"]
    assert big.comments_of(tid) == big.comments_of(tid)
    artists = big.artists
    assert len({u["id"] for u in big.users.values()}) == len(big.users)
    assert all(re.fullmatch(r"[a-z0-9_-]+", a["permalink"]) for a in artists)
    assert max(a["followers_count"] for a in artists) > 1_000_000
    assert any(not a["username"].isascii() for a in artists)


# --- auth, rate limits, faults -----------------------------------------------------------------

def test_401_for_missing_or_unknown_client_id(sc: SoundCloudReplica, world: World) -> None:
    aid = world.artists[0]["id"]
    before = sc.stats.get("status_401", 0)
    r = fetch(f"{sc.urls['api']}/users/{aid}")
    assert r.status == 401 and r.headers["Content-Type"] == "application/json; charset=utf-8"
    assert isinstance(r.json(), dict)
    assert api(sc, f"/users/{aid}", client_id="a3e059563d7fd3372b49b37f00a00bcf").status == 401
    assert sc.stats["status_401"] == before + 2


def test_client_id_rotation() -> None:
    with small_replica(rotate_client_id_after=3, datadome=False) as sc:
        aid = sc.world.artists[0]["id"]
        old = sc.client_id
        assert [api(sc, f"/users/{aid}", old).status for _ in range(3)] == [200, 200, 200]
        assert api(sc, f"/users/{aid}", old).status == 401
        html = fetch(sc.urls["web"] + "/").text
        new = next(e["data"]["id"] for e in hydration(html) if e["hydratable"] == "apiClient")
        assert new != old and new == sc.client_id
        chunk_text = "".join(fetch(u).text for u in ASSET_RE.findall(html)[-2:])
        assert f'client_id:"{new}"' in chunk_text and old not in chunk_text
        assert api(sc, f"/users/{aid}", new).status == 200
        assert sc.stats["client_id_rotations"] == 1


def test_rate_limit_429_without_retry_after() -> None:
    with small_replica(rate_limit=(3, 60), datadome=False) as sc:
        aid = sc.world.artists[0]["id"]
        assert [api(sc, f"/users/{aid}").status for _ in range(3)] == [200, 200, 200]
        r1, r2 = api(sc, f"/users/{aid}"), api(sc, f"/users/{aid}")
        assert r1.status == r2.status == 429
        assert "Retry-After" not in r1.headers and "Retry-After" not in r2.headers
        assert {r1.text, r2.text} == {"Please slow down.", '{"error":"Rate Limit Exceeded"}'}
        assert sc.stats["status_429"] == 2


def test_502_first_then_ok_and_malformed_json() -> None:
    with small_replica(error_5xx_every=1, datadome=False) as sc:
        aid = sc.world.artists[0]["id"]
        r = api(sc, f"/users/{aid}/tracks?limit=2")
        assert r.status == 502 and r.headers["X-Cache"] == "Error from cloudfront"
        assert r.headers["Content-Type"].startswith("text/html") and "CloudFront" in r.text
        assert api(sc, f"/users/{aid}/tracks?limit=2").status == 200
        assert api(sc, f"/users/{aid}").status == 200  # not a paged endpoint
        assert sc.stats["status_502"] == 1
    with small_replica(malformed_json_every=2, datadome=False) as sc:
        aid = sc.world.artists[0]["id"]
        assert api(sc, f"/users/{aid}/toptracks?limit=1").json()  # 1st distinct URL: fine
        bad = api(sc, f"/users/{aid}/toptracks?limit=2")  # 2nd distinct URL: truncated once
        assert bad.status == 200
        with pytest.raises(ValueError):
            bad.json()
        assert api(sc, f"/users/{aid}/toptracks?limit=2").json()["collection"]


# --- DataDome ------------------------------------------------------------------------------------

DATADOME_SET_COOKIE = re.compile(  # reference §1/§7, attribute for attribute
    r"datadome=[^;]+; Max-Age=31536000; Domain=127\.0\.0\.1; Path=/; Secure; SameSite=Lax")


def test_datadome_blocks_user_tracks_without_valid_cookie(sc: SoundCloudReplica, world: World) -> None:
    aid = world.artists[0]["id"]
    r = api(sc, f"/users/{aid}/tracks?limit=20")
    assert r.status == 403 and r.headers["X-Datadome"] == "protected"
    assert DATADOME_SET_COOKIE.fullmatch(r.headers["Set-Cookie"])
    url = r.json()["url"]
    assert url.startswith(f"{sc.urls['web']}/captcha/?initialCid=")
    assert parse_qs(urlsplit(url).query)["referer"][0].startswith(f"{sc.urls['api']}/users/{aid}/tracks")
    junk = r.headers["Set-Cookie"].split(";")[0]
    assert api(sc, f"/users/{aid}/tracks", headers={"Cookie": junk}).status == 403
    expired = sc.sign_datadome_cookie(ttl=-5)
    assert api(sc, f"/users/{aid}/tracks", headers={"Cookie": f"datadome={expired}"}).status == 403
    valid = sc.sign_datadome_cookie()
    ok = api(sc, f"/users/{aid}/tracks", headers={"Cookie": f"other=1; datadome={valid}"})
    assert ok.status == 200 and ok.headers["X-Datadome"] == "protected"
    # Protected 200s re-issue the cookie: a fresh value, same attributes.
    assert DATADOME_SET_COOKIE.fullmatch(ok.headers["Set-Cookie"])
    fresh = ok.headers["Set-Cookie"].split(";")[0].split("=", 1)[1]
    assert fresh != valid and sc.verify_datadome_cookie(fresh)
    # Two different datadome values in one header: blocked, even if one is valid.
    two = api(sc, f"/users/{aid}/tracks", headers={"Cookie": f"datadome={valid}; x=1; datadome={fresh}"})
    assert two.status == 403 and sc.stats["datadome_blocked_two_cookies"] >= 1
    junk_and_valid = api(sc, f"/users/{aid}/tracks", headers={"Cookie": f"{junk}; datadome={valid}"})
    assert junk_and_valid.status == 403
    assert api(sc, f"/users/{aid}/tracks", headers={"Cookie": f"datadome={valid}; datadome={valid}"}).status == 200
    assert api(sc, f"/users/{aid}/toptracks").status == 200
    assert api(sc, f"/users/{aid}").status == 200


def test_datadome_challenge_endpoint_and_pages(sc: SoundCloudReplica, world: World) -> None:
    for path in ("/", f"/{world.artists[0]['permalink']}", "/captcha/?initialCid=x"):
        html = fetch(sc.urls["web"] + path).text
        assert f'<script src="{sc.urls["web"]}/datadome/tags.js"></script>' in html
        assert re.search(r"nonce: '\d+\.[0-9a-f]{16}\.[0-9a-f]{24}'", html)
    js = fetch(sc.urls["web"] + "/datadome/tags.js")
    assert js.status == 200 and "crypto.subtle.digest" in js.text and "document.cookie" in js.text
    html = fetch(sc.urls["web"] + "/").text
    nonce = re.search(r"nonce: '([^']+)'", html).group(1)  # type: ignore[union-attr]
    ua = "Mozilla/5.0 (X11; Linux x86_64) replica-test"
    endpoint = sc.urls["web"] + "/datadome/js/"
    bad = {"nonce": nonce, "ua": ua, "screen": "1920x1080", "proof": "0" * 64}
    assert fetch(endpoint, {"User-Agent": ua, "Content-Type": "application/json"}, "POST",
                 json.dumps(bad).encode()).status == 403
    good = dict(bad, proof=hashlib.sha256(f"{nonce}|{ua}|1920x1080".encode()).hexdigest())
    before = sc.stats["challenges_passed"]
    r = fetch(endpoint, {"User-Agent": ua, "Content-Type": "application/json"}, "POST", json.dumps(good).encode())
    assert r.status == 200 and r.json()["status"] == 200
    assert "Set-Cookie" not in r.headers  # the page's JS sets it via document.cookie
    value = r.json()["cookie"]
    assert DATADOME_SET_COOKIE.fullmatch(value)
    assert sc.stats["challenges_passed"] == before + 1 and ua in sc.stats["challenge_user_agents"]
    aid = world.artists[1]["id"]
    assert api(sc, f"/users/{aid}/tracks", headers={"Cookie": value.split(";")[0]}).status == 200
    # A proof made for another User-Agent is refused.
    assert fetch(endpoint, {"User-Agent": "curl/8", "Content-Type": "application/json"}, "POST",
                 json.dumps(good).encode()).status == 403


def _chromium() -> str | None:
    try:
        import playwright  # noqa: F401
    except ImportError:
        return None
    return shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.e2e  # a real Chromium
@pytest.mark.skipif(_chromium() is None, reason="needs playwright and a chromium binary")
def test_datadome_passes_in_a_real_browser(sc: SoundCloudReplica, world: World) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=_chromium(), args=["--no-sandbox"])
        try:
            page = browser.new_page()
            page.goto(f"{sc.urls['web']}/{world.artists[2]['permalink']}")
            page.wait_for_function("window.__datadome_passed !== undefined", timeout=5000)
            assert page.evaluate("window.__datadome_passed") is True
            url = f"{sc.urls['api']}/users/{world.artists[2]['id']}/tracks?client_id={sc.client_id}"
            status = page.evaluate("async u => (await fetch(u, {credentials: 'include'})).status", url)
            assert status == 200  # the cookie set on the web port is sent to the api port
        finally:
            browser.close()


# --- web pages, images, misc ------------------------------------------------------------------------

def test_profile_and_track_pages(sc: SoundCloudReplica, world: World) -> None:
    artist = world.artists[0]
    r = fetch(f"{sc.urls['web']}/{artist['permalink']}")
    assert r.status == 200
    entries = hydration(r.text)
    user = next(e["data"] for e in entries if e["hydratable"] == "user")
    assert user["id"] == artist["id"] and user["url"] == f"/{artist['permalink']}"
    assert 'itemtype="http://schema.org/MusicGroup"' in r.text and "<noscript>" in r.text
    assert f'<meta property="soundcloud:sound_count" content="{artist["track_count"]}">' in r.text
    assert '<meta property="og:type" content="music.musician">' in r.text
    assert f'content="soundcloud://users:{artist["id"]}"' in r.text
    track = world.tracks_of(artist["id"])[0]
    r = fetch(track["permalink_url"])
    kinds = [e["hydratable"] for e in hydration(r.text)]
    assert kinds[-2:] == ["user", "sound"]
    assert hydration(r.text)[-1]["data"]["id"] == track["id"]
    assert 'itemtype="http://schema.org/MusicRecording"' in r.text
    assert fetch(f"{sc.urls['web']}/{artist['permalink']}/likes").status == 200
    for path in (f"/{world.missing_permalinks[0]}", f"/{artist['permalink']}/nope", "/a/b/c/d"):
        bad = fetch(sc.urls["web"] + path)
        assert bad.status == 404 and bad.headers["Content-Type"].startswith("text/html")
    robots = fetch(sc.urls["web"] + "/robots.txt").text
    assert "User-Agent: GPTBot\nDisallow: /" in robots and f"sitemap: {sc.urls['web']}/sitemap.xml" in robots


def _jpeg_size(data: bytes) -> tuple[int, int]:
    assert data[:2] == b"\xff\xd8" and data[-2:] == b"\xff\xd9"
    i = 2
    while i < len(data):
        marker, length = data[i + 1], struct.unpack(">H", data[i + 2:i + 4])[0]
        if marker == 0xC0:
            h, w = struct.unpack(">HH", data[i + 5:i + 9])
            return w, h
        i += 2 + length
    raise AssertionError("no SOF0")


def test_images_are_valid_and_distinct(sc: SoundCloudReplica, world: World) -> None:
    avatars = [a["avatar_url"] for a in world.artists]
    custom = next(u for u in avatars if "/avatars-" in u)
    default = next(u for u in (x["avatar_url"] for x in world.users.values()) if "default_avatar" in u)
    assert custom.startswith(sc.urls["images"] + "/avatars-") and default.startswith(sc.urls["images"])
    r = fetch(custom)
    assert r.status == 200 and r.headers["Content-Type"] == "image/jpeg" and _jpeg_size(r.body) == (100, 100)
    big = fetch(custom.replace("-large.", "-t500x500."))
    assert _jpeg_size(big.body) == (500, 500)
    art = next(t["artwork_url"] for t in world.all_tracks() if t["artwork_url"] and t["artwork_url"].endswith(".jpg"))
    assert fetch(art).body != r.body
    banner = next(a["visuals"]["visuals"][0]["visual_url"] for a in world.artists if a["visuals"])
    assert re.search(r"/visuals-\d{12}-[A-Za-z0-9]+-original\.jpg$", banner)
    assert fetch(banner).headers["Content-Type"] == "image/jpeg"
    png = fetch(default)
    assert png.headers["Content-Type"] == "image/png" and png.body[:8] == b"\x89PNG\r\n\x1a\n"
    assert struct.unpack(">II", png.body[16:24]) == (100, 100)
    assert fetch(sc.urls["images"] + "/nothing-here.jpg").status == 404
    assert fetch(custom.replace("-large.", "-huge.")).status == 404


def test_stats_endpoint_and_runner() -> None:
    with small_replica(datadome=False) as sc:
        aid = sc.world.artists[0]["id"]
        api(sc, f"/users/{aid}")
        stats = fetch(sc.urls["api"] + "/__replica__/stats").json()
        assert stats["api_user"] == 1 and stats["status_200"] >= 1
        assert stats["current_client_id"] == sc.client_id and stats["challenges_passed"] == 0

    async def hello(request: web.Request) -> web.Response:
        return web.Response(text="hi")

    app = web.Application()
    app.router.add_get("/", hello)
    with AppThread([app]) as runner:
        (url,) = runner.urls
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+", url) and fetch(url + "/").text == "hi"


def test_cli_prints_one_json_line_and_serves() -> None:
    proc = subprocess.Popen([sys.executable, "-m", "replicas.soundcloud", "--artists", "3"],
                            cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        assert proc.stdout is not None
        info = json.loads(proc.stdout.readline())
        assert set(info) >= {"web", "api", "assets", "images", "artists"} and len(info["artists"]) == 3
        home = fetch(info["web"] + "/").text
        cid = next(e["data"]["id"] for e in hydration(home) if e["hydratable"] == "apiClient")
        r = fetch(f"{info['api']}/resolve?url={quote(info['web'] + '/' + info['artists'][0], safe='')}&client_id={cid}")
        assert r.status == 200 and r.json()["permalink"] == info["artists"][0]
    finally:
        proc.terminate()
        assert proc.wait(10) == 0


# --- HTTPS mode: DataDome judges the TLS ClientHello -------------------------------------------


def test_https_mode_judges_the_client_hello_not_the_cookie(world: World) -> None:
    import ssl

    from curl_cffi import requests as curl_requests

    with SoundCloudReplica(world, Quirks(https=True)) as sc:
        assert sc.urls["api"].startswith("https://") and sc.urls["web"].startswith("http://")
        aid = world.artists[0]["id"]
        url = f"{sc.urls['api']}/users/{aid}/tracks?limit=5&client_id={sc.client_id}"
        context = ssl.create_default_context(cafile=sc.ca_file)
        valid = sc.sign_datadome_cookie()

        def python_ssl(cookie: str | None) -> int:
            request = urllib.request.Request(url, headers={"Cookie": f"datadome={cookie}"} if cookie else {})
            try:
                with urllib.request.urlopen(request, timeout=5, context=context) as r:
                    return r.status
            except urllib.error.HTTPError as e:
                return e.code

        # A non-browser handshake is refused whatever cookie it carries ...
        assert python_ssl(None) == 403 and python_ssl(valid) == 403
        assert sc.stats["datadome_blocked_tls_fingerprint"] == 2
        # ... routes DataDome does not guard still answer it.
        with urllib.request.urlopen(f"{sc.urls['api']}/users/{aid}?client_id={sc.client_id}", timeout=5,
                                    context=context) as r:
            assert r.status == 200
        # A Chrome-like one (curl_cffi) passes without any cookie, over one connection.
        with curl_requests.Session(impersonate="chrome", verify=sc.ca_file) as session:
            answers = [session.get(url) for _ in range(4)]
        assert [a.status_code for a in answers] == [200] * 4
        assert DATADOME_SET_COOKIE.fullmatch(answers[0].headers["set-cookie"])
        assert sc.tls is not None and sc.tls.handshakes("chrome") == 1 and sc.tls.handshakes("other") == 3
    with SoundCloudReplica(world, Quirks(https=True, impersonation_refused=True)) as sc:
        url = f"{sc.urls['api']}/users/{aid}/tracks?limit=5&client_id={sc.client_id}"
        # (the session's own jar is off: it would add the 403's junk value, a second datadome)
        with curl_requests.Session(impersonate="chrome", verify=sc.ca_file, discard_cookies=True) as session:
            assert session.get(url).status_code == 403
            assert session.get(url, headers={"Cookie": f"datadome={sc.sign_datadome_cookie()}"}).status_code == 200


def test_stream_of_posts_and_refusal_switches(world: World) -> None:
    aid, other = world.artist_ids[0], world.artist_ids[1]
    with SoundCloudReplica(world, Quirks(tracks_refused_users=frozenset({aid}),
                                         stream_refused_users=frozenset({other}))) as sc:
        pages = walk(sc, f"{sc.urls['api']}/stream/users/{aid}?limit=3")
        items = [i for p in pages for i in p["collection"]]
        assert {i["type"] for i in items} == {"track", "track-repost"}
        own = [i["track"]["id"] for i in items if i["type"] == "track"]
        assert sorted(own) == sorted(t["id"] for t in world.tracks_of(aid))
        assert all(i["track"]["user_id"] != aid for i in items if i["type"] == "track-repost")
        assert all(i["user"]["id"] == aid for i in items)
        assert len(pages) > 1 and pages[-1]["next_href"] is None
        cursor = parse_qs(urlsplit(pages[0]["next_href"]).query)["offset"][0]
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z,stream-item,\d{20}", cursor)
        # Refused to everyone, valid cookie or not.
        assert api(sc, f"/users/{aid}/tracks", headers=cookie(sc)).status == 403
        assert api(sc, f"/stream/users/{other}", headers=cookie(sc)).status == 403
        assert api(sc, f"/stream/users/{aid}").status == 200
        assert api(sc, f"/users/{other}/toptracks").status == 200


def test_protected_answer_matches_the_real_recording(world: World) -> None:
    """NewPipe's recording of a real /users/{id}/tracks 200 (21 Feb 2026): the
    replica sends the same DataDome headers and the same cookie attributes."""
    from tests.fixtures import exchange

    real = exchange("soundcloudchanneltabextractor/tracks/generated_mock_1.json")["response"]["responseHeaders"]
    (real_cookie,) = real["set-cookie"]
    attributes = real_cookie.split(";", 1)[1]
    assert SoundCloudReplica(world).datadome_set_cookie("v") == "datadome=v;" + attributes  # unbound: real hosts
    with SoundCloudReplica(world, Quirks(https=True)) as sc:
        from curl_cffi import requests as curl_requests

        url = f"{sc.urls['api']}/users/{world.artist_ids[0]}/tracks?limit=20&client_id={sc.client_id}"
        answer = curl_requests.get(url, impersonate="chrome", verify=sc.ca_file, timeout=10)
    assert answer.status_code == 200
    for name in ("x-datadome", "accept-ch", "content-type", "cache-control", "server", "vary"):
        assert answer.headers[name] == real[name][0], name
    replica_cookie = answer.headers["set-cookie"]
    assert replica_cookie.split(";", 1)[1] == attributes.replace(".soundcloud.com", "127.0.0.1")
