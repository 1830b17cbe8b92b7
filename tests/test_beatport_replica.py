"""The Beatport replica behaves like the real site (reference beatport.md §2,
§6, §8): redirects, 404s, the parentheses rule, empty searches, search
buckets, hyphenated per-page, images, and a challenge only a browser passes."""

from __future__ import annotations

import http.client
import json
import re
import struct
import urllib.request
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode, urlsplit

import pytest

from replicas.beatport import BeatportReplica, Quirks, build_catalogue
from replicas.process import start_replica_process, stop_replica_process
from soundscraping.sites.beatport.antibot import is_challenge_page
from soundscraping.sites.beatport.parsers import (
    next_data,
    page_props,
    page_queries,
    search_results,
    track_from_page,
    tracks_from_listing,
)
from tests.test_beatport_parsers_unit import key_shape, real_page, real_track

UA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"


class Reply:
    def __init__(self, status: int, headers: dict[str, str], body: bytes):
        self.status, self.headers, self.body = status, headers, body

    @property
    def data(self) -> dict[str, Any]:
        return next_data(self.body)


def get(base: str, path: str, *, ua: str = UA, cookie: str | None = None) -> Reply:
    conn = http.client.HTTPConnection(urlsplit(base).netloc, timeout=10)
    headers = {"User-Agent": ua, **({"Cookie": cookie} if cookie else {})}
    conn.request("GET", path, headers=headers)
    response = conn.getresponse()
    reply = Reply(response.status, {k.lower(): v for k, v in response.getheaders()}, response.read())
    conn.close()
    return reply


@pytest.fixture(scope="module")
def replica() -> Iterator[BeatportReplica]:
    with BeatportReplica(build_catalogue(), Quirks()) as bp:
        yield bp


def test_track_pages_redirect_to_the_canonical_slug_and_unknown_ids_are_404(replica: BeatportReplica) -> None:
    wrong = get(replica.url, "/track/whatever/20630687?utm=x")
    assert wrong.status == 308 and wrong.headers["location"] == "/track/tesla/20630687?utm=x"
    assert get(replica.url, "/track/-/20630687").status == 308
    page = get(replica.url, "/track/tesla/20630687")
    assert page.status == 200 and page.data["page"] == "/track/[description]/[id]"
    assert page.data["query"] == {"description": "tesla", "id": "20630687"}
    missing = get(replica.url, "/track/tesla/1")
    assert missing.status == 404 and missing.data["page"] == "/404"
    assert get(replica.url, "/track/tesla/abc").status == 404


def test_search_rules(replica: BeatportReplica) -> None:
    # More than one pair of parentheses: 403; one pair is fine.
    assert get(replica.url, "/search/tracks?" + urlencode({"q": "Cola (ARTBAT Remix) (Extended)"})).status == 403
    assert get(replica.url, "/search?" + urlencode({"q": "a (b) c (d)"})).status == 403
    assert get(replica.url, "/search/tracks?" + urlencode({"q": "Cola (ARTBAT Remix)"})).status == 200
    # No results: 200 with empty lists, in both search pages.
    empty = get(replica.url, "/search/tracks?q=qqxzv+wublump")
    assert empty.status == 200 and search_results(empty.data) == []
    everything = get(replica.url, "/search?q=qqxzv+wublump")
    buckets = page_queries(everything.data)[0]["state"]["data"]
    assert everything.status == 200 and buckets == {k: {"data": []} for k in
                                                    ("tracks", "releases", "artists", "labels", "charts")}
    # search-all: at most 15 per bucket, its query key as the real one.
    many = get(replica.url, "/search?q=mix")
    query = page_queries(many.data)[0]
    assert query["queryKey"][0] == "search-all" and query["queryKey"][1]["count"] == "15"
    assert 0 < len(query["state"]["data"]["tracks"]["data"]) <= 15
    # /search/tracks pages with the hyphenated per-page (per_page is not the site's).
    first = search_results(get(replica.url, "/search/tracks?q=mix&page=1&per-page=5").data)
    second = search_results(get(replica.url, "/search/tracks?q=mix&page=2&per-page=5").data)
    default = search_results(get(replica.url, "/search/tracks?q=mix&per_page=5").data)
    assert first and second and len(first) == 5 and len(default) == 25
    assert {i["track_id"] for i in first}.isdisjoint(i["track_id"] for i in second)
    item = first[0]
    assert {"track_id", "track_name", "mix_name", "artists", "length", "genre", "label", "release",
            "track_image_uri", "key_name", "bpm"} <= set(item)


def test_non_browser_user_agents_get_a_plain_403(replica: BeatportReplica) -> None:
    reply = get(replica.url, "/search/tracks?q=tesla", ua="python-requests/2.32")
    assert reply.status == 403 and b"<title>403</title>" in reply.body and "cf-mitigated" not in reply.headers


def test_images_have_the_real_sizes(replica: BeatportReplica) -> None:
    track = replica.catalogue.tracks[20630687]
    media = replica.urls["media"]
    wave = get(media, f"/image_size/1500x250/{track.waveform_uuid}.png")
    assert wave.status == 200 and wave.headers["content-type"] == "image/png"
    assert struct.unpack(">II", wave.body[16:24]) == (1500, 250)
    art = get(media, f"/image_size/1400x1400/{track.release.image_uuid}.jpg")
    assert art.status == 200 and art.body.startswith(b"\xff\xd8")
    sof = art.body.index(b"\xff\xc0")
    assert struct.unpack(">HH", art.body[sof + 5:sof + 9]) == (1400, 1400)
    assert get(media, "/image_size/1500x250/00000000-0000-4000-8000-000000000000.png").status == 404


def test_challenge_is_only_passed_with_a_clearance_bound_to_the_user_agent() -> None:
    with BeatportReplica(build_catalogue(), Quirks(challenge=True, clearance_ttl=60)) as bp:
        blocked = get(bp.url, "/search/tracks?q=tesla")
        assert blocked.status == 403 and blocked.headers["cf-mitigated"] == "challenge"
        assert b"<title>Just a moment...</title>" in blocked.body and b"window._cf_chl_opt" in blocked.body
        # A client that cannot run the script cannot forge the proof.
        conn = http.client.HTTPConnection(urlsplit(bp.url).netloc, timeout=10)
        conn.request("POST", "/cdn-cgi/challenge-platform/h/g/flow/ov1/x", headers={"User-Agent": UA},
                     body=json.dumps({"cH": "1.2.3", "n": 0, "ua": UA, "screen": "800x600"}))
        assert conn.getresponse().status == 403 and bp.stats["challenges_failed"] == 1
        assert get(bp.url, "/", cookie="cf_clearance=forged").status == 403
        token = bp.issue_clearance(UA)
        assert get(bp.url, "/search/tracks?q=tesla", cookie=f"cf_clearance={token}").status == 200
        other = get(bp.url, "/", ua=UA.replace("131", "132"), cookie=f"cf_clearance={token}")
        assert other.status == 403 and bp.stats["clearance_ua_mismatch"] == 1
        expired = bp.issue_clearance(UA, ttl=-1)
        assert get(bp.url, "/", cookie=f"cf_clearance={expired}").status == 403
        assert bp.stats["clearance_expired"] == 1 and bp.stats["clearance_accepted"] == 1
        assert get(bp.url, "/robots.txt").status == 200, "robots.txt is not challenged"
    with BeatportReplica(build_catalogue(), Quirks(challenge_after=2)) as bp:
        assert [get(bp.url, "/").status for _ in range(3)] == [200, 200, 403]


def test_command_line_replica_prints_one_json_line() -> None:
    process, info = start_replica_process("replicas.beatport", "--challenge-after", "100")
    try:
        assert set(info) == {"url", "media", "samples", "tracks", "build_id"} and info["tracks"] > 400
        robots = get(info["url"], "/robots.txt")
        assert robots.status == 200 and b"User-agent: *" in robots.body and b"GPTBot" in robots.body
        assert get(info["url"], "/top-100").status == 200
    finally:
        stop_replica_process(process)


def test_replica_pages_have_the_real_envelope_and_escaping() -> None:
    real = next_data(real_page())
    catalogue = build_catalogue()
    with BeatportReplica(catalogue, Quirks()) as replica:
        ua = {"User-Agent": "Mozilla/5.0 (X11; Linux x86_64) Chrome/131.0.0.0 Safari/537.36"}
        top = urllib.request.urlopen(urllib.request.Request(f"{replica.url}/top-100", headers=ua)).read()
        page = urllib.request.urlopen(urllib.request.Request(f"{replica.url}/track/x/20613902", headers=ua))
        body, final_url = page.read(), page.geturl()
    mine = next_data(top)
    assert list(mine) == list(real) and list(mine["props"]) == list(real["props"])
    mine_query, real_query = page_queries(mine)[0]["state"], page_queries(real)[0]["state"]
    assert key_shape(mine_query)["data"].keys() == key_shape(real_query)["data"].keys()
    assert set(key_shape(tracks_from_listing(mine)[0])) == set(key_shape(real_track()))
    script = re.search(rb'<script id="__NEXT_DATA__" type="application/json">(.*?)</script>', top, re.DOTALL)
    assert script and b"\\u0026" in script.group(1) and b"&" not in script.group(1)
    assert "£".encode() in script.group(1), "non-ASCII stays literal"
    # __NEXT_DATA__ at the end of <body>, followed only by Cloudflare's detection script,
    # whose challenge-platform path must not read as a challenge.
    assert body.index(b'id="__NEXT_DATA__"') > body.index(b"</main>")
    assert b"/cdn-cgi/challenge-platform/scripts/jsd/main.js" in body and not is_challenge_page(body)
    # A track page: pageProps.track and the track-<id> query hold the same object.
    data = next_data(body)
    assert final_url.endswith("/track/sakura/20613902")
    assert page_props(data)["track"] == page_queries(data)[0]["state"]["data"]
    assert page_queries(data)[0]["queryKey"] == ["track-20613902"]
    assert track_from_page(data, 20613902)["name"] == "Sakura"
