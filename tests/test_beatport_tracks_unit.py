"""beatport_tracks' callbacks on Beatport pages saved from the replica (no real
search or track page was recorded; tests/fixtures/README.md): a search asks
for the best candidate's track page, the track page becomes the stored track
and the match row; no match records no_match; a challenge stops the crawl."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from scrapy import signals
from scrapy.exceptions import CloseSpider

from soundscraping.items import BeatportMatch, BeatportTrack
from soundscraping.spiders.beatport_tracks import BeatportTracksSpider
from soundscraping.units import UnitTracker
from tests.utils import fake_response, items_of, make_spider, query_params, requests_of, start_requests_of

BASE = "https://www.beatport.com"
SEARCH = "beatport/replica_search_tracks.html"  # q="Locklead Sakura": 17 results, Sakura (Original Mix) first
TRACK = "beatport/replica_track_20613902.html"
TOP100 = "beatport/beatport_top100_2026-01-25_excerpt.html"  # a real page, not a search page
SOUNDCLOUD_ID = 777


def spider() -> BeatportTracksSpider:
    return make_spider(BeatportTracksSpider, {"STORAGE_ENABLED": False})


def test_a_query_run_stores_the_track_without_a_match_row() -> None:
    s = make_spider(BeatportTracksSpider, {"STORAGE_ENABLED": False}, query="Locklead - Sakura")
    (search,) = start_requests_of(s)
    assert search.callback == s.parse_search and search.meta["song"] == "Locklead - Sakura"
    assert "track_id" not in search.meta, "an ad-hoc query has no SoundCloud track"
    out = list(s.parse_search(fake_response(SEARCH, request=search)))
    (page_request,) = out
    stored = list(s.parse_track(fake_response(TRACK, request=page_request)))
    assert [(t.id, t.soundcloud_track_id) for t in items_of(stored, BeatportTrack)] == [(20613902, None)]
    assert items_of(stored, BeatportMatch) == []


def test_search_request_asks_for_the_cleaned_title() -> None:
    s = spider()
    target = s.make_target(SOUNDCLOUD_ID, "Locklead - Sakura (Original Mix) [UP THE STUSS]", "Locklead", 296_000)
    request = s.search_request(target)
    url = urlsplit(request.url)
    assert f"{url.scheme}://{url.netloc}{url.path}" == f"{BASE}/search/tracks"
    assert query_params(request.url) == {"q": [target.queries[0]], "page": ["1"], "per-page": ["25"]}
    assert "Sakura" in target.queries[0] and "[" not in target.queries[0]
    assert request.callback == s.parse_search and request.errback == s.request_failed and request.dont_filter
    assert request.meta == {"target": target, "query": target.queries[0], "track_id": SOUNDCLOUD_ID}


def test_a_match_asks_for_its_track_page_then_stores_the_track_and_the_match() -> None:
    s = spider()
    target = s.make_target(SOUNDCLOUD_ID, "Locklead - Sakura", "Locklead", 296_000)
    search = s.search_request(target)
    (page_request,) = s.parse_search(fake_response(SEARCH, request=search))
    assert page_request.url == f"{BASE}/track/sakura/20613902", "a guessed slug (the search gives none)"
    assert page_request.callback == s.parse_track and page_request.errback == s.request_failed
    assert page_request.meta == {"beatport_id": 20613902, "handle_httpstatus_list": [404], "track_id": SOUNDCLOUD_ID}
    out = list(s.parse_track(fake_response(TRACK, request=page_request)))
    assert requests_of(out) == []
    (track,) = items_of(out, BeatportTrack)
    assert (track.id, track.name, track.mix_name, track.bpm, track.isrc) == (20613902, "Sakura", "Original Mix", 130,
                                                                             "DEZMM2233432")
    assert track.artists == ["Locklead", "Chris Stussy", "Across Boundaries"] and track.label == "Up the Stuss"
    assert track.soundcloud_track_id == SOUNDCLOUD_ID and track.match_score is not None and track.match_score >= 0.75
    assert track.url == f"{BASE}/track/sakura/20613902" and track.length_ms == 296882
    (match,) = items_of(out, BeatportMatch)
    assert (match.soundcloud_track_id, match.status, match.beatport_track_id) == (SOUNDCLOUD_ID, "matched", 20613902)
    assert match.candidates == 17 and match.query == target.queries[0] and match.match_score == track.match_score
    assert s.crawler.stats.get_value("soundscraping/beatport/matched") == 1


def test_a_second_upload_of_the_same_release_costs_no_second_page() -> None:
    s = spider()
    first, second = (s.make_target(tid, "Locklead - Sakura", "Locklead", 296_000) for tid in (1, 2))
    (page_request,) = s.parse_search(fake_response(SEARCH, request=s.search_request(first)))
    assert list(s.parse_search(fake_response(SEARCH, request=s.search_request(second)))) == [], "it waits"
    out = list(s.parse_track(fake_response(TRACK, request=page_request)))
    assert len(items_of(out, BeatportTrack)) == 1
    assert sorted(m.soundcloud_track_id for m in items_of(out, BeatportMatch)) == [1, 2]


def test_no_acceptable_candidate_tries_the_next_query_then_records_no_match() -> None:
    s = spider()
    target = s.make_target(SOUNDCLOUD_ID, "Somebody Else - Sakura (Hard Techno Bootleg)", "Somebody Else", 90_000)
    out = list(s.parse_search(fake_response(SEARCH, request=s.search_request(target))))
    while requests_of(out):  # the title-only query, answered with the same page
        (again,) = requests_of(out)
        assert again.callback == s.parse_search and again.meta["query"] != target.queries[0]
        out = list(s.parse_search(fake_response(SEARCH, request=again)))
    (row,) = items_of(out, BeatportMatch)
    assert (row.status, row.beatport_track_id, row.soundcloud_track_id) == ("no_match", None, SOUNDCLOUD_ID)
    assert row.query == " | ".join(target.queries) and row.candidates == 17 * len(target.queries)
    assert s.crawler.stats.get_value("soundscraping/beatport/no_match") == 1


def test_a_page_without_search_results_records_nothing() -> None:
    s = spider()
    target = s.make_target(SOUNDCLOUD_ID, "Locklead - Sakura", "Locklead", 296_000)
    assert list(s.parse_search(fake_response(TOP100, request=s.search_request(target)))) == []
    assert s.crawler.stats.get_value("soundscraping/skipped/changed_page") == 1


def test_a_challenge_served_with_200_stops_the_crawl() -> None:
    s = spider()
    target = s.make_target(SOUNDCLOUD_ID, "Locklead - Sakura", "Locklead", 296_000)
    challenge = fake_response(TRACK, request=s.search_request(target))
    challenge = challenge.replace(body=b"<html><head><title>Just a moment...</title></head><body>"
                                       b"<script src=\"/cdn-cgi/challenge-platform/h/g/orchestrate/chl_page/v1\">"
                                       b"</script></body></html>")
    with pytest.raises(CloseSpider) as stop:
        list(s.parse_search(challenge))
    assert stop.value.reason == "antibot_blocked"
    assert s.crawler.stats.get_value("soundscraping/beatport/blocked") == 1


def through_pipelines(s: BeatportTracksSpider, *items: object) -> None:
    for item in items:
        s.crawler.signals.send_catch_log(signals.item_scraped, item=item, response=None, spider=s)


@pytest.mark.parametrize("track_through_first", [False, True])
def test_distributed_a_search_is_finished_once_the_track_row_it_names_is_through(track_through_first: bool) -> None:
    """Distributed mode (REDIS_URL; no Redis is asked here): a search's unit
    waits for its match row and the beatport_tracks row it names, also when
    that row was fetched for another upload of the same release."""
    s = make_spider(BeatportTracksSpider, {"REDIS_URL": "redis://127.0.0.1:1/0"})
    finished: list[str] = []
    UnitTracker.for_crawler(s.crawler).sinks.append(finished.append)
    payload = ["Locklead - Sakura", 296_000, "Locklead"]
    (first,) = s.claimed_search("1", payload, False)
    (page_request,) = s.parse_search(fake_response(SEARCH, request=first))
    out = list(s.parse_track(fake_response(TRACK, request=page_request)))
    (track,), (match,) = items_of(out, BeatportTrack), items_of(out, BeatportMatch)
    if track_through_first:
        through_pipelines(s, track)
    (second,) = s.claimed_search("2", payload, False)
    (match_2,) = s.parse_search(fake_response(SEARCH, request=second))
    assert (match_2.soundcloud_track_id, match_2.beatport_track_id) == (2, track.id), "no second page"
    through_pipelines(s, match, match_2)
    if not track_through_first:
        assert finished == [], "neither before the track row both matches name"
        through_pipelines(s, track)
    assert sorted(finished) == ["1", "2"]


def test_alone_no_unit_is_recorded() -> None:
    s = spider()
    finished: list[str] = []
    UnitTracker.for_crawler(s.crawler).sinks.append(finished.append)
    (page_request,) = s.parse_search(fake_response(SEARCH, request=s.search_request(s.make_target(
        SOUNDCLOUD_ID, "Locklead - Sakura", "Locklead", 296_000))))
    through_pipelines(s, *s.parse_track(fake_response(TRACK, request=page_request)))
    assert s.shared is None and finished == [], "without REDIS_URL the rows alone say a search is done"
