"""soundcloud_artists' callbacks on real recorded api-v2 answers (NewPipe's
mocks, tests/fixtures/soundcloud): the items each yields and the requests it
asks for next (URL, callback, meta)."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit

import pytest
from scrapy import Request, signals
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.python.failure import Failure

from soundscraping.items import SoundCloudComment, SoundCloudTrack, SoundCloudUser
from soundscraping.spiders.soundcloud_artists import TRACKS_ROUTES, SoundCloudArtistsSpider
from soundscraping.units import UnitTracker
from tests.fixtures import response_json
from tests.utils import fake_response, items_of, make_spider, output_of, query_params, requests_of

API = "https://api-v2.soundcloud.com"
PROFILE = "soundcloud/newpipe-mocks/soundcloudchannelextractor/dubmatix/generated_mock_4.json"
NOT_FOUND = "soundcloud/newpipe-mocks/soundcloudsubscriptionextractor/generated_mock_15.json"
SEARCH = "soundcloud/newpipe-mocks/search/soundcloudsearchextractor/users/generated_mock_0.json"
TRACKS = "soundcloud/newpipe-mocks/soundcloudchanneltabextractor/tracks/generated_mock_1.json"
COMMENTS = "soundcloud/newpipe-mocks/soundcloudcommentsextractor/trackwithcomments/generated_mock_4.json"


def spider() -> SoundCloudArtistsSpider:
    return make_spider(SoundCloudArtistsSpider, artists="dubmatix")



def test_a_permalink_is_resolved_and_a_name_is_searched() -> None:
    s = spider()
    resolve = s.artist_request("dubmatix")
    assert resolve.url.startswith(f"{API}/resolve?") and query_params(resolve.url)["url"] == ["https://soundcloud.com/dubmatix"]
    assert resolve.callback == s.parse_artist
    assert resolve.meta == {"artist": "dubmatix", "handle_httpstatus_list": [404]}
    search = s.artist_request("Lil Uzi Vert")
    assert search.url.startswith(f"{API}/search/users?") and query_params(search.url)["q"] == ["Lil Uzi Vert"]
    assert search.callback == s.parse_artist_search and search.meta == {"artist": "Lil Uzi Vert"}


def test_profile_asks_for_the_tracks_with_the_profile_riding_along() -> None:
    s = spider()
    out = output_of(s.parse_artist(fake_response(PROFILE, meta={"artist": "dubmatix"})))
    assert items_of(out) == [], "the profile is stored once its tracks say whether they are complete"
    (tracks,) = requests_of(out)
    assert urlsplit(tracks.url).path == "/users/542134/tracks"
    assert query_params(tracks.url)["limit"] == ["200"] and query_params(tracks.url)["linked_partitioning"] == ["1"]
    assert tracks.callback == s.parse_tracks and tracks.errback == s.on_tracks_error
    profile = tracks.meta["artist_profile"]
    assert isinstance(profile, SoundCloudUser) and profile.full_profile
    assert (profile.id, profile.permalink, profile.track_count) == (542134, "dubmatix", 292)
    assert {k: tracks.meta[k] for k in ("artist", "user_id", "tracks_route", "tracks_seen")} == {
        "artist": "dubmatix", "user_id": 542134, "tracks_route": "tracks", "tracks_seen": 0}
    assert s.crawler.stats.get_value("soundscraping/artists/found") == 1


def test_unknown_artist_is_skipped_and_counted() -> None:
    s = spider()
    response = fake_response(NOT_FOUND, f"{API}/resolve?url=https%3A%2F%2Fsoundcloud.com%2Fnobody",
                             meta={"artist": "nobody", "handle_httpstatus_list": [404]})
    assert response.status == 404
    assert output_of(s.parse_artist(response)) == []
    assert s.crawler.stats.get_value("soundscraping/skipped/artist_not_found") == 1


def test_a_body_that_is_not_json_is_retried_then_skipped() -> None:
    s = spider()
    page = "soundcloud/html-pages/soundcloud.com.bruceneilmusic.html"  # an HTML page where JSON was expected
    (retry,) = output_of(s.parse_artist(fake_response(page, f"{API}/resolve?url=x", meta={"artist": "x"})))
    assert retry.url == f"{API}/resolve?url=x" and retry.meta["retry_times"] == 1 and retry.dont_filter
    second = fake_response(page, retry.url, meta=retry.meta)
    (third,) = output_of(s.parse_artist(second))
    assert output_of(s.parse_artist(fake_response(page, third.url, meta=third.meta))) == []
    assert s.crawler.stats.get_value("soundscraping/skipped/malformed_json") == 1


def test_search_picks_the_user_of_that_name() -> None:
    s = spider()
    out = output_of(s.parse_artist_search(fake_response(SEARCH, meta={"artist": "Lil Uzi Vert"})))
    (tracks,) = requests_of(out)
    assert tracks.meta["user_id"] == 10494998 and tracks.meta["artist_profile"].permalink == "liluzivert"
    assert urlsplit(tracks.url).path == "/users/10494998/tracks"


def test_search_without_that_name_is_skipped() -> None:
    s = spider()
    assert output_of(s.parse_artist_search(fake_response(SEARCH, meta={"artist": "Nobody Of That Name"}))) == []
    assert s.crawler.stats.get_value("soundscraping/skipped/artist_not_found") == 1


def test_track_page_yields_tracks_their_author_once_comment_requests_and_the_next_page() -> None:
    s = spider()
    profile = SoundCloudUser(id=10494998, permalink="liluzivert", full_profile=True)
    first = s.tracks_request("tracks", {"artist": "liluzivert", "user_id": 10494998, "artist_profile": profile})
    recorded = response_json(TRACKS.removeprefix("soundcloud/newpipe-mocks/"))
    # The recorded answer to that request; the anti-bot middleware noted how it got through.
    recorded_url = fake_response(TRACKS).url
    out = list(s.parse_tracks(fake_response(TRACKS, recorded_url, {"access_route": "impersonate"}, request=first)))
    with_comments = [t["id"] for t in recorded["collection"] if t["comment_count"] != 0]
    # A track's row waits for its comments (it rides along their requests).
    assert [t.id for t in items_of(out, SoundCloudTrack)] == [t["id"] for t in recorded["collection"]
                                                               if t["id"] not in with_comments]
    assert [u.id for u in items_of(out, SoundCloudUser)] == [10494998], "the author's mini user, once"
    assert not any(u.full_profile for u in items_of(out, SoundCloudUser)), "the profile waits for the last page"
    *comments, next_page = requests_of(out)
    assert [r.meta["track_id"] for r in comments] == with_comments and len(with_comments) == 19
    for request, track_id in zip(comments, with_comments, strict=True):
        assert urlsplit(request.url).path == f"/tracks/{track_id}/comments"
        assert query_params(request.url)["threaded"] == ["0"] and request.callback == s.parse_comments
        assert query_params(request.url)["sort"] == ["newest"], "the page order relied on, asked for"
        assert request.errback == s.on_comments_error
        assert {k: request.meta[k] for k in ("artist", "track_id", "track_stored", "comments_since")} == {
            "artist": "liluzivert", "track_id": track_id, "track_stored": False, "comments_since": None}
        assert request.meta["track"].id == track_id
    assert next_page.url.startswith(recorded["next_href"]) and next_page.callback == s.parse_tracks
    assert query_params(next_page.url)["client_id"] == ["CkCiIyf14rHi27fhk7HxhPOzc85okfSJ"], "the answer's client_id"
    assert next_page.errback == s.on_tracks_error
    assert {k: next_page.meta[k] for k in ("user_id", "tracks_route", "tracks_seen", "tracks_via")} == {
        "user_id": 10494998, "tracks_route": "tracks", "tracks_seen": 20, "tracks_via": "impersonate"}
    assert next_page.meta["artist_profile"] is profile


def test_comment_page_yields_comments_of_the_track_and_the_next_page() -> None:
    s = spider()
    out = list(s.parse_comments(fake_response(COMMENTS, meta={"artist": "x", "track_id": 1670147625})))
    recorded = response_json(COMMENTS.removeprefix("soundcloud/newpipe-mocks/"))
    comments = items_of(out, SoundCloudComment)
    assert [c.id for c in comments] == [c["id"] for c in recorded["collection"]] and len(comments) == 4
    assert {c.track_id for c in comments} == {1670147625}
    assert [u.id for u in items_of(out, SoundCloudUser)] == list(dict.fromkeys(c["user_id"] for c in
                                                                                recorded["collection"]))
    (next_page,) = requests_of(out)
    assert next_page.url == recorded["next_href"] and next_page.callback == s.parse_comments
    assert next_page.meta == {"artist": "x", "track_id": 1670147625, "comments_since": None,
                              "comments_last": recorded["collection"][-1]["created_at"]}


# -- units: an artist is finished once every route's rows are through ----------------


def finished_units(s: SoundCloudArtistsSpider) -> list[str]:
    finished: list[str] = []
    UnitTracker.for_crawler(s.crawler).sinks.append(finished.append)
    return finished


def through_pipelines(s: SoundCloudArtistsSpider, output: list[Any]) -> None:
    for item in items_of(output):
        if not isinstance(item, Request):
            s.crawler.signals.send_catch_log(signals.item_scraped, item=item, response=None, spider=s)


def first_tracks_request(s: SoundCloudArtistsSpider, route: str) -> Request:
    """The artist's first request on ``route``, counted as parse_artist's output is."""
    profile = SoundCloudUser(id=10494998, permalink="liluzivert", full_profile=True)
    request = s.tracks_request(route, {"artist": "liluzivert", "user_id": 10494998, "artist_profile": profile})
    UnitTracker.for_crawler(s.crawler).request_sent("liluzivert")
    return request


def last_page_of(route: str, request: Request) -> Any:
    """The recorded tracks as ``route``'s last page (the stream wraps each in a post)."""
    tracks = response_json(TRACKS.removeprefix("soundcloud/newpipe-mocks/"))["collection"]
    collection = [{"type": "track", "track": t} for t in tracks] if route == "stream" else tracks
    return fake_response(TRACKS, request=request).replace(body=json.dumps({"collection": collection}).encode())


@pytest.mark.parametrize("route", TRACKS_ROUTES)
def test_an_artist_served_by_any_route_is_finished_once_its_last_row_is_through(route: str) -> None:
    s = spider()
    finished = finished_units(s)
    request = first_tracks_request(s, route)
    out = list(request.callback(last_page_of(route, request)))
    assert any(isinstance(x, SoundCloudUser) and x.full_profile for x in out), "the profile, on the last page"
    through_pipelines(s, out)
    comments = requests_of(out)
    assert len(comments) == 19
    for n, comments_request in enumerate(comments, 1):
        empty = fake_response(COMMENTS, request=comments_request).replace(body=b'{"collection": []}')
        ended = list(comments_request.callback(empty))
        assert [t.id for t in items_of(ended, SoundCloudTrack)] == [comments_request.meta["track_id"]]
        assert finished == [], f"not before its last track row ({n} of {len(comments)} comment pages read)"
        through_pipelines(s, ended)
    assert finished == ["liluzivert"]


def test_an_artist_whose_last_route_fails_is_finished_once_its_profile_is_through() -> None:
    s = spider()
    finished = finished_units(s)
    request = first_tracks_request(s, TRACKS_ROUTES[-1])
    failure = Failure(HttpError(fake_response(TRACKS, request=request, status=500)))
    failure.request = request  # as Scrapy hands an errback its failure
    (profile,) = request.errback(failure)
    assert profile.tracks_complete is False
    assert finished == [], "not before the profile row"
    through_pipelines(s, [profile])
    assert finished == ["liluzivert"]
