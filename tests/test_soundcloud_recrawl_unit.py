"""Re-crawls (``-a recrawl_after``): the duration argument, which units are
due, and what soundcloud_artists fetches again for a stored artist, decided
on real recorded api-v2 answers (tests/fixtures/soundcloud)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from soundscraping.items import SoundCloudComment, SoundCloudTrack, SoundCloudUser
from soundscraping.sites.soundcloud.recrawl import Plan, StoredTrack, comments_page, comments_since, track_plan
from soundscraping.spider_args import SpiderArgumentError, duration
from soundscraping.spiders.cambridge_forum import CambridgeForumSpider
from soundscraping.spiders.soundcloud_artists import SoundCloudArtistsSpider
from soundscraping.storage import Database, finished_units, graph_visits
from soundscraping.units import recrawl_cutoff
from tests.fixtures import response_json
from tests.utils import fake_response, items_of, make_spider, query_params, requests_of

TRACKS = "soundcloud/newpipe-mocks/soundcloudchanneltabextractor/tracks/generated_mock_1.json"
COMMENTS = "soundcloud/newpipe-mocks/soundcloudcommentsextractor/trackwithcomments/generated_mock_4.json"


def recorded(path: str) -> dict:
    return response_json(path.removeprefix("soundcloud/newpipe-mocks/"))


# -- the argument -------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "expected"), [
    ("7d", timedelta(days=7)), ("12h", timedelta(hours=12)), ("30m", timedelta(minutes=30)),
    ("0s", timedelta(0)), ("1w", timedelta(weeks=1)), ("1d12h", timedelta(days=1, hours=12)),
    (" 2D ", timedelta(days=2)),
])
def test_durations_are_read_in_one_place(text: str, expected: timedelta) -> None:
    assert duration(text) == expected


@pytest.mark.parametrize("text", ["7", "d", "7x", "", "-1d", "7 days", "1.5h"])
def test_a_bad_duration_is_one_line(text: str) -> None:
    with pytest.raises(ValueError, match="not a duration"):
        duration(text)
    with pytest.raises(SpiderArgumentError) as error:
        SoundCloudArtistsSpider.parse_arguments({"artists": "a", "recrawl_after": text})
    assert "\n" not in str(error.value) and f"bad -a recrawl_after={text}" in str(error.value)


def test_every_spider_takes_recrawl_after() -> None:
    assert SoundCloudArtistsSpider.parse_arguments({"artists": "a", "recrawl_after": "7d"})["recrawl_after"] == \
        timedelta(days=7)
    assert CambridgeForumSpider.parse_arguments({"recrawl_after": "12h"})["recrawl_after"] == timedelta(hours=12)
    assert CambridgeForumSpider.parse_arguments({})["recrawl_after"] is None
    with pytest.raises(SpiderArgumentError, match="recrawl_after"):  # listed among the valid names
        CambridgeForumSpider.parse_arguments({"bogus": "1"})


# -- which units are due --------------------------------------------------------------------


def test_finished_units_by_job_and_by_time_across_jobs(tmp_path: Path) -> None:
    db = Database.from_url(f"sqlite:///{tmp_path / 'units.sqlite3'}")
    db.connect()
    db.ensure_schema()
    db.write({"crawl_units": [
        ("soundcloud_artists", "/jobs/a", "old", "2026-01-01T00:00:00Z"),
        ("soundcloud_artists", "/jobs/a", "recent", "2026-03-01T00:00:00Z"),
        ("soundcloud_artists", "", "elsewhere", "2026-03-02T00:00:00Z"),
        ("soundcloud_artists", "", "old", "2026-01-05T00:00:00Z"),
        ("cambridge_forum", "", "349", "2026-03-02T00:00:00Z"),
    ]})
    cutoff = recrawl_cutoff(timedelta(days=7), now=datetime(2026, 3, 5, tzinfo=UTC))
    assert cutoff == "2026-02-26T00:00:00Z"
    # Resuming job a: what it finished, whenever.
    assert finished_units(db, "soundcloud_artists", "/jobs/a") == {"old", "recent"}
    # A re-crawl: what any job finished after the cutoff (the last completion counts).
    assert finished_units(db, "soundcloud_artists", None, cutoff) == {"recent", "elsewhere"}
    # Both: a resumed re-crawl job.
    assert finished_units(db, "soundcloud_artists", "/jobs/a", cutoff) == {"old", "recent", "elsewhere"}
    assert finished_units(db, "soundcloud_artists", None, None) == set(), "no rule: nothing skipped"
    assert finished_units(db, "cambridge_forum", None, cutoff) == {"349"}
    db.close()


# -- what a stored track costs ------------------------------------------------------------


def test_track_plans() -> None:
    stored = StoredTrack(comment_count=8, scraped_at="2026-03-01T00:00:00Z")
    due = "2026-02-01T00:00:00Z"  # hidden-stats tracks stored before this are due a look
    assert track_plan(8, None, due) is Plan.FULL, "not stored: read in full"
    assert track_plan(8, stored, due) is Plan.STORE, "same count: no comment request"
    assert track_plan(9, stored, due) is Plan.NEW, "count changed: the new comments"
    assert track_plan(7, stored, due) is Plan.NEW, "a deletion and new comments can leave it lower"
    assert track_plan(0, stored, due) is Plan.STORE, "no comments left: nothing to read"
    assert track_plan(None, stored, due) is Plan.KEEP, "hidden count, looked at recently"
    assert track_plan(None, StoredTrack(None, "2026-01-01T00:00:00Z"), due) is Plan.NEW, "hidden, due a look"
    assert track_plan(3, StoredTrack(None, "2026-03-01T00:00:00Z"), due) is Plan.NEW, "count no longer hidden"


def test_the_recorded_comment_page_is_newest_first_and_stops_at_the_stored_time() -> None:
    created = [c["created_at"] for c in recorded(COMMENTS)["collection"]]
    ids = [c["id"] for c in recorded(COMMENTS)["collection"]]
    assert ids == sorted(ids, reverse=True) and created == sorted(created, reverse=True), "what is relied on"
    # New comments since 2024-08-01: the page reaches an older one, so no next page.
    verdict = comments_page(created, "2024-08-01T00:00:00Z", None)
    assert verdict.stop and verdict.in_order and verdict.last == created[-1]
    # Nothing on this page is older than the stored row: read on.
    assert not comments_page(created, "2024-01-01T00:00:00Z", None).stop
    # The next page must carry on the order of the page before.
    assert not comments_page(created, "2024-08-01T00:00:00Z", "2024-05-01T00:00:00Z").in_order
    out_of_order = comments_page(list(reversed(created)), "2024-08-01T00:00:00Z", None)
    assert not out_of_order.in_order and not out_of_order.stop, "not newest first: read to the end"
    assert comments_since(StoredTrack(3, "2024-08-01T12:00:00Z")) == "2024-08-01T11:00:00Z", "a margin"


def recrawl_spider() -> SoundCloudArtistsSpider:
    return make_spider(SoundCloudArtistsSpider, artists="liluzivert", recrawl_after="0s")


def test_a_recrawled_track_page_asks_only_for_comments_whose_count_changed() -> None:
    s = recrawl_spider()
    page = recorded(TRACKS)["collection"]
    unchanged, changed, new = page[0], page[1], page[2]
    assert all(t["comment_count"] for t in (unchanged, changed, new))
    baseline = {
        unchanged["id"]: StoredTrack(unchanged["comment_count"], "2026-03-01T00:00:00Z"),
        changed["id"]: StoredTrack(changed["comment_count"] - 2, "2026-03-01T00:00:00Z"),
        **{t["id"]: StoredTrack(t["comment_count"], "2026-03-01T00:00:00Z") for t in page[3:]},
    }
    profile = SoundCloudUser(id=10494998, permalink="liluzivert", full_profile=True)
    first = s.tracks_request("tracks", {"artist": "liluzivert", "user_id": 10494998, "artist_profile": profile,
                                        "baseline": baseline})
    out = list(s.parse_tracks(fake_response(TRACKS, fake_response(TRACKS).url, request=first)))
    *comments, next_page = requests_of(out)
    assert [r.meta["track_id"] for r in comments] == [changed["id"], new["id"]]
    changed_request, new_request = comments
    assert changed_request.meta["comments_since"] == "2026-02-28T23:00:00Z", "an hour before the stored row"
    assert changed_request.meta["track_stored"] and not new_request.meta["track_stored"]
    assert new_request.meta["comments_since"] is None, "a track not stored yet: every comment"
    assert query_params(changed_request.url)["sort"] == ["newest"]
    stored_again = [t.id for t in items_of(out, SoundCloudTrack)]
    assert stored_again == [t["id"] for t in page if t["id"] not in (changed["id"], new["id"])], \
        "unchanged tracks are stored again at once (a new stats row), with no comment request"
    assert next_page.meta["baseline"] is baseline, "the next track page plans with the same baseline"
    assert s.crawler.stats.get_value("soundscraping/recrawl/tracks/store") == len(page) - 2


def test_new_comments_stop_at_the_stored_time_and_then_the_track_row_is_stored() -> None:
    s = recrawl_spider()
    track = SoundCloudTrack(id=1670147625, comment_count=8)
    meta = {"artist": "x", "track_id": 1670147625, "track": track, "track_stored": True,
            "comments_since": "2024-08-01T00:00:00Z"}
    out = list(s.parse_comments(fake_response(COMMENTS, meta=meta)))
    assert requests_of(out) == [], "the page reached a comment older than the stored row: no next page"
    assert [c.id for c in items_of(out, SoundCloudComment)] == [c["id"] for c in recorded(COMMENTS)["collection"]]
    assert items_of(out, SoundCloudTrack) == [track], "its comments read, the track row goes last"
    assert s.crawler.stats.get_value("soundscraping/recrawl/comments_stopped_early") == 1

    # Comments older than the stored row not reached yet: the next page, the row still waiting.
    out = list(s.parse_comments(fake_response(COMMENTS, meta={**meta, "comments_since": "2024-01-01T00:00:00Z"})))
    (next_page,) = requests_of(out)
    assert items_of(out, SoundCloudTrack) == [] and next_page.meta["track"] is track
    assert urlsplit(next_page.url).path == "/tracks/1670147625/comments"


def test_a_stored_track_whose_comments_failed_keeps_its_previous_row() -> None:
    s = recrawl_spider()
    track = SoundCloudTrack(id=1, comment_count=9)
    assert list(s.comments_ended({"track": track, "track_stored": True, "track_id": 1}, complete=False)) == []
    assert s.crawler.stats.get_value("soundscraping/skipped/comments_incomplete") == 1
    # Never stored before: the row is stored all the same (the failure is counted where it happened).
    assert list(s.comments_ended({"track": track, "track_stored": False}, complete=False)) == [track]


def test_graph_visits_older_than_the_duration_count_as_not_visited(tmp_path: Path) -> None:
    db = Database.from_url(f"sqlite:///{tmp_path / 'graph.sqlite3'}")
    db.connect()
    db.ensure_schema()
    db.write({"soundcloud_graph_visits": [
        (1, 0, 5.0, 300, 10, "2026-01-01T00:00:00Z", "2026-01-01T00:10:00Z"),
        (2, 1, 4.0, 300, 10, "2026-03-01T00:00:00Z", "2026-03-01T00:10:00Z"),
    ]})
    assert {r[0] for r in graph_visits(db)} == {1, 2}
    assert {r[0] for r in graph_visits(db, finished_after="2026-02-26T00:00:00Z")} == {2}
    db.close()
