"""End to end: a re-crawl (``-a recrawl_after``) of a changed replica world
into SQLite: only the new comments are fetched, each re-visited track gets a
new stats row, unchanged artists cost their profile and tracks pages, and
units finished recently are not visited at all."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from replicas.soundcloud import Quirks, SoundCloudReplica, WorldConfig, build_world
from tests.crawl import query, run_crawl
from tests.test_soundcloud_artists_e2e import assert_dataset_matches_world, site_env


def api_requests(before: dict[str, Any], after: dict[str, Any]) -> dict[str, int]:
    """api-v2 requests per route between two replica snapshots."""
    return {k: after[k] - before.get(k, 0) for k in after
            if k.startswith("api_") and isinstance(after[k], int) and after[k] != before.get(k, 0)}


def test_recrawl_fetches_only_what_changed(tmp_path: Path) -> None:
    world = build_world(WorldConfig(artists=3, tracks_per_artist=5, comments_per_track=6))
    database_url = f"sqlite:///{tmp_path / 'sc.sqlite3'}"
    settings = {"DATABASE_URL": database_url, "MEDIA_ENABLED": False}
    first, second, third = world.artists
    args = {"artists": ",".join(a["permalink"] for a in world.artists)}
    with SoundCloudReplica(world, Quirks(datadome=False)) as replica:
        crawl = run_crawl("soundcloud_artists", tmp_path, args=args, env=site_env(replica), settings=settings,
                          run="first")
        assert crawl.returncode == 0, crawl.log[-3000:]
        first_crawl = api_requests({}, replica.stats.snapshot())
        # The replica's short track pages (4, 2, 1, 0 items) make several per artist.
        track_pages = first_crawl["api_user_tracks"]
        assert first_crawl["api_track_comments"] > 10 and track_pages > 3

        # The world moves on: new comments and plays on one track of the
        # first artist, more plays on one of the second's; the third is unchanged.
        visible = [t for t in world.tracks_of(first["id"]) if t["comment_count"]]
        commented, played = visible[0]["id"], world.tracks_of(second["id"])[0]["id"]
        assert world.tracks_of(second["id"])[0]["playback_count"] is not None
        new_ids = world.add_comments(commented, 3)
        world.set_counts(commented, playback=visible[0]["playback_count"] + 100)
        world.set_counts(played, playback=world.track(played)["playback_count"] + 50)
        hidden = [t["id"] for a in world.artists for t in world.tracks_of(a["id"]) if t["comment_count"] is None]
        assert hidden, "the world has tracks whose uploader hides their counts"

        before = replica.stats.snapshot()
        recrawl = run_crawl("soundcloud_artists", tmp_path, args={**args, "recrawl_after": "0s"},
                            env=site_env(replica), settings=settings, run="recrawl")
        requests = api_requests(before, replica.stats.snapshot())
        assert recrawl.returncode == 0, recrawl.log[-3000:]

        # Each artist: its profile and its track pages (one at full page size:
        # `make bench`); one comments page for the one track whose count
        # changed, none for the rest.
        assert requests == {"api_resolve": 3, "api_user_tracks": track_pages, "api_track_comments": 1}, requests
        assert recrawl.stat("soundscraping/recrawl/tracks/new") == 1
        assert recrawl.stat("soundscraping/recrawl/comments_stopped_early") == 1
        stored_comments = {r[0] for r in query(database_url, "SELECT id FROM soundcloud_comments")}
        assert set(new_ids) <= stored_comments
        assert_dataset_matches_world(database_url, world)

        # Popularity over time: a second stats row for every re-visited track.
        stats = {}
        for track_id, playback, comments in query(database_url, "SELECT track_id, playback_count, comment_count "
                                                                "FROM soundcloud_track_stats ORDER BY scraped_at"):
            stats.setdefault(track_id, []).append((playback, comments))
        assert stats[commented][-1] == (visible[0]["playback_count"] + 100, visible[0]["comment_count"] + 3)
        assert len(stats[commented]) == 2 and stats[commented][0][1] == visible[0]["comment_count"]
        assert [p for p, _ in stats[played]] == [world.track(played)["playback_count"] - 50,
                                                 world.track(played)["playback_count"]]
        revisited = {t["id"] for a in world.artists for t in world.tracks_of(a["id"])} - set(hidden)
        assert all(len(stats[t]) == 2 for t in revisited)
        # Hidden counts cannot show a change: looked at every
        # SOUNDCLOUD_RECRAWL_HIDDEN_STATS_AFTER (30 days), their rows kept until then.
        assert all(len(stats[t]) == 1 for t in hidden)

        # Again, re-visiting only artists last finished more than an hour ago: none.
        before = replica.stats.snapshot()
        skipped = run_crawl("soundcloud_artists", tmp_path, args={**args, "recrawl_after": "1h"},
                            env=site_env(replica), settings=settings, run="skipped")
        assert skipped.returncode == 0, skipped.log[-3000:]
        assert api_requests(before, replica.stats.snapshot()) == {}
        assert "Re-crawl: 3 of 3 artists were finished less than 1:00:00 ago and are skipped" in skipped.log
    assert third["id"] not in (commented, played)
