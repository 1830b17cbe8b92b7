"""soundcloud_artists' routes to an artist's tracks, fed saved-shape responses:
the stream keeps the artist's own track posts only; a refused route hands on
to the next; the last one stores the profile with tracks_complete=false."""

from __future__ import annotations

import json
from typing import Any

from scrapy import Request
from scrapy.http import TextResponse
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.python.failure import Failure

from soundscraping.items import SoundCloudTrack, SoundCloudUser
from soundscraping.spiders.soundcloud_artists import SoundCloudArtistsSpider
from tests.utils import make_spider

API = "https://api-v2.soundcloud.com"
ARTIST = 42


def spider() -> SoundCloudArtistsSpider:
    return make_spider(SoundCloudArtistsSpider, artists="someone")


def track(tid: int, owner: int) -> dict[str, Any]:
    return {"id": tid, "kind": "track", "title": f"t{tid}", "user_id": owner, "duration": 200_000,
            "comment_count": 0, "user": {"id": owner, "kind": "user", "permalink": f"u{owner}"}}


def meta(route: str, **extra: Any) -> dict[str, Any]:
    return {"artist": "someone", "user_id": ARTIST, "tracks_route": route, "tracks_seen": 0,
            "artist_profile": SoundCloudUser(id=ARTIST, permalink="someone", full_profile=True), **extra}


def answer(url: str, body: Any, request_meta: dict[str, Any], status: int = 200) -> TextResponse:
    request = Request(url, meta=request_meta)
    return TextResponse(url, status=status, body=json.dumps(body).encode(), encoding="utf-8", request=request)


def test_stream_keeps_own_track_posts_and_ends_with_a_complete_profile() -> None:
    s = spider()
    page = {"collection": [
        {"type": "track", "track": track(1, ARTIST), "user": {"id": ARTIST}},
        {"type": "track-repost", "track": track(2, 7), "user": {"id": ARTIST}},
        {"type": "track", "track": track(3, 7), "user": {"id": 7}},  # someone else's post
        {"type": "playlist", "playlist": {"id": 9}, "user": {"id": ARTIST}},
        {"type": "track", "track": track(4, ARTIST), "user": {"id": ARTIST}},
    ], "next_href": None}
    out = list(s.parse_stream(answer(f"{API}/stream/users/{ARTIST}", page, meta("stream"))))
    assert [t.id for t in out if isinstance(t, SoundCloudTrack)] == [1, 4]
    (profile,) = [u for u in out if isinstance(u, SoundCloudUser) and u.full_profile]
    assert profile.id == ARTIST and profile.tracks_complete is True
    assert s.crawler.stats.get_value("soundscraping/access/soundcloud/artist_tracks/stream") == 1


def test_next_page_carries_the_profile_and_the_count() -> None:
    s = spider()
    page = {"collection": [track(1, ARTIST), track(2, ARTIST)], "next_href": f"{API}/users/{ARTIST}/tracks?offset=x"}
    response = answer(f"{API}/users/{ARTIST}/tracks", page, meta("tracks", access_route="impersonate"))
    (request,) = [r for r in s.parse_tracks(response) if isinstance(r, Request)]
    assert request.meta["tracks_seen"] == 2 and request.meta["tracks_via"] == "impersonate"
    assert request.meta["artist_profile"].id == ARTIST and request.meta["tracks_route"] == "tracks"
    last = answer(request.url, {"collection": [track(3, ARTIST)], "next_href": None},
                  {**request.meta, "access_route": "browser"})
    out = list(s.parse_tracks(last))
    assert [u.tracks_complete for u in out if isinstance(u, SoundCloudUser) and u.full_profile] == [True]
    # The artist needed the browser for its last page: that is its route.
    assert s.crawler.stats.get_value("soundscraping/access/soundcloud/artist_tracks/browser") == 1


def blocked(route: str, url: str, status: int = 403) -> Failure:
    response = answer(url, {"url": "captcha"}, meta(route, tracks_seen=3), status)
    return Failure(HttpError(response, "Ignoring non-200 response"))


def attach(failure: Failure) -> Failure:
    failure.request = failure.value.response.request  # what Scrapy sets on errback failures
    return failure


def test_a_refused_route_hands_on_and_the_last_one_stores_a_partial_profile() -> None:
    s = spider()
    (stream,) = s.on_tracks_error(attach(blocked("tracks", f"{API}/users/{ARTIST}/tracks")))
    assert stream.url.startswith(f"{API}/stream/users/{ARTIST}?") and stream.meta["tracks_route"] == "stream"
    assert stream.meta["tracks_seen"] == 0 and stream.meta["artist_profile"].id == ARTIST
    (top,) = s.on_tracks_error(attach(blocked("stream", stream.url)))
    assert top.url.startswith(f"{API}/users/{ARTIST}/toptracks?") and top.callback == s.parse_toptracks
    (profile,) = s.on_tracks_error(attach(blocked("toptracks", top.url)))
    assert isinstance(profile, SoundCloudUser) and profile.tracks_complete is False
    stats = s.crawler.stats
    assert stats.get_value("soundscraping/skipped/tracks_incomplete") == 1
    assert stats.get_value("soundscraping/access/soundcloud/refused/tracks") == 1
    assert stats.get_value("soundscraping/access/soundcloud/refused/stream") == 1


def test_other_failures_are_an_incomplete_artist_not_another_route() -> None:
    s = spider()
    (profile,) = s.on_tracks_error(attach(blocked("tracks", f"{API}/users/{ARTIST}/tracks", status=500)))
    assert isinstance(profile, SoundCloudUser) and profile.tracks_complete is False
    assert s.crawler.stats.get_value("soundscraping/skipped/tracks_incomplete") == 1
    assert s.crawler.stats.get_value("soundscraping/skipped/http_500") == 1


def test_toptracks_answer_is_stored_incomplete() -> None:
    s = spider()
    out = list(s.parse_toptracks(answer(f"{API}/users/{ARTIST}/toptracks",
                                        {"collection": [track(5, ARTIST)], "next_href": None}, meta("toptracks"))))
    assert [t.id for t in out if isinstance(t, SoundCloudTrack)] == [5]
    assert [u.tracks_complete for u in out if isinstance(u, SoundCloudUser) and u.full_profile] == [False]
    assert s.crawler.stats.get_value("soundscraping/skipped/tracks_incomplete") == 1
