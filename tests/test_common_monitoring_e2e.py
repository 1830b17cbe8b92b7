"""End to end: the monitors catch schema drift.  A replica switch changes the
site (a field renamed in api-v2 track objects; the forum's post markup
redesigned); ``scrapy crawl`` must end with a failed monitor that names the
field, a non-zero exit and a report.  The same small worlds without the
switch pass every monitor, hidden stats and unpinned comments included
(the site's own NULLs are not counted as lost)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from replicas.cambridge_mt import CambridgeReplica, ForumConfig, build_forum, load_library
from replicas.cambridge_mt.world import GENRE_FORUMS
from replicas.soundcloud import Quirks, SoundCloudReplica, WorldConfig, build_world
from tests.crawl import CrawlResult, run_crawl

FAST = {"RETRY_BACKOFF_BASE": 0.05, "RETRY_BACKOFF_MAX": 0.5, "CAMBRIDGE_FORUM_DELAY": 0, "MEDIA_ENABLED": False}


def report(result: CrawlResult) -> dict[str, Any]:
    """The job's JSON report (its path is in the stats), checked to have its HTML twin."""
    path = Path(result.stats["soundscraping/monitors/report"])
    assert path.with_suffix(".html").read_text(encoding="utf-8").lstrip().startswith("<")
    return json.loads(path.read_text(encoding="utf-8"))


def failed_monitors(data: dict[str, Any]) -> list[dict[str, Any]]:
    return [m for m in data["monitors"] if m["status"] != "OK"]


def monitor_error_lines(result: CrawlResult) -> list[str]:
    return [line for line in result.log.splitlines() if " ERROR: Monitors failed" in line]


def soundcloud_crawl(tmp_path: Path, config: WorldConfig) -> CrawlResult:
    world = build_world(config)
    artists = ",".join(a["permalink"] for a in world.artists)
    with SoundCloudReplica(world, Quirks(datadome=False)) as replica:
        return run_crawl("soundcloud_artists", tmp_path, args={"artists": artists},
                         env={"SOUNDCLOUD_URL": replica.urls["web"], "SOUNDCLOUD_API_URL": replica.urls["api"]},
                         settings={"DATABASE_URL": f"sqlite:///{tmp_path}/db.sqlite3", **FAST})


def test_renamed_track_field_fails_the_crawl_and_a_healthy_one_passes(tmp_path: Path) -> None:
    # Every 2nd track hides its stats, every 3rd comment is pinned to no moment.
    small = {"artists": 2, "tracks_per_artist": 5, "comments_per_track": 3, "hidden_stats_every": 2,
             "null_timestamp_every": 3, "missing_permalinks": ()}
    healthy = soundcloud_crawl(tmp_path / "healthy", WorldConfig(**small))
    assert healthy.returncode == 0, healthy.log[-3000:]
    data = report(healthy)
    assert data["passed"] and not failed_monitors(data), data["monitors"]
    coverage = {c["column"]: c for c in data["field_coverage"]}
    plays = coverage["soundcloud_tracks.playback_count"]
    assert plays["site_nulls"] == 5 and plays["judged"] == 5 and plays["share"] == 1.0, plays
    assert coverage["soundcloud_comments.timestamp_ms"]["site_nulls"] > 0
    assert "Monitors passed" in healthy.log

    drifted = soundcloud_crawl(tmp_path / "drift",
                               WorldConfig(**small, renamed_track_field=("playback_count", "play_count")))
    assert drifted.returncode == 1, drifted.log[-3000:]
    assert drifted.stats["finish_reason"] == "monitor_failed"
    [line] = monitor_error_lines(drifted)
    assert "Field coverage" in line and "soundcloud_tracks.playback_count: 0% filled" in line, line
    data = report(drifted)
    assert not data["passed"]
    [failed] = failed_monitors(data)
    assert failed["monitor"].startswith("Field coverage") and "soundcloud_tracks.playback_count" in failed["message"]
    # A renamed key is no NULL of the site's: every track counts, the hidden-stats ones too.
    plays = {c["column"]: c for c in data["field_coverage"]}["soundcloud_tracks.playback_count"]
    assert plays["judged"] == 10 and plays["filled"] == 0, plays


def test_changed_forum_post_markup_fails_the_crawl(tmp_path: Path) -> None:
    library = load_library()
    genre = "Hip-Hop / R&B"  # the smallest genre forum: 36 threads, 119 posts
    forum = build_forum(library, ForumConfig(genres=(genre,), changed_post_markup=True))
    fid = GENRE_FORUMS[genre][0]
    with CambridgeReplica(library, forum) as replica:
        result = run_crawl("cambridge_forum", tmp_path, args={"forums": str(fid), "download": "none"},
                           settings={"DATABASE_URL": f"sqlite:///{tmp_path}/db.sqlite3", **FAST,
                                     **replica.settings()})
    assert result.returncode == 1, result.log[-3000:]
    [line] = monitor_error_lines(result)
    assert "cmt_forum_posts.author: 0% filled" in line, line
    assert "cmt_forum_posts.posted_at" not in line  # the dates are still read: only the author block changed
    [failed] = failed_monitors(report(result))
    assert "cmt_forum_posts.author" in failed["message"]


def test_no_new_item_for_the_set_time_closes_the_crawl(tmp_path: Path) -> None:
    """The periodic monitor (every second here) finds no item for more than
    MONITOR_NO_ITEM_SECONDS: the replica holds every api-v2 answer 4 s, so
    the first item cannot come before the monitor's second run."""
    world = build_world(WorldConfig(artists=1, tracks_per_artist=1, comments_per_track=0, missing_permalinks=()))
    with SoundCloudReplica(world, Quirks(datadome=False, latency_ms=4000)) as replica:
        result = run_crawl("soundcloud_artists", tmp_path, args={"artists": world.artists[0]["permalink"]},
                           env={"SOUNDCLOUD_URL": replica.urls["web"], "SOUNDCLOUD_API_URL": replica.urls["api"]},
                           settings={"DATABASE_URL": f"sqlite:///{tmp_path}/db.sqlite3", **FAST,
                                     "MONITOR_NO_ITEM_SECONDS": 1.5,
                                     "SPIDERMON_PERIODIC_MONITORS": json.dumps(
                                         {"soundscraping.monitoring.monitors.PeriodicSuite": 1})})
    assert result.returncode == 1, result.log[-3000:]
    assert result.stats["finish_reason"] == "no_new_items"
    [line] = [line for line in result.log.splitlines() if " ERROR: " in line]
    assert "Closing the crawl: New items/" in line and "(MONITOR_NO_ITEM_SECONDS=1.5)" in line, line
    assert not report(result)["passed"]
    assert "Traceback" not in result.log
