"""End to end: `scrapy crawl soundcloud_artists` against the SoundCloud replica,
into real PostgreSQL (a fresh database per test) or SQLite, with media in a
real S3 endpoint (moto server) or a local folder, and real Chromium for the
anti-bot pass."""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
from pathlib import Path
from typing import Any

import pytest

from replicas.common import Hold
from replicas.soundcloud import Quirks, SoundCloudReplica, World, WorldConfig, build_world
from soundscraping.media.paths import media_path
from soundscraping.sites.soundcloud.parsers import banner_url, image_variant
from soundscraping.storage import Database
from tests.conftest import S3
from tests.crawl import admin, admin_db, count_rows, finish, query, run_crawl, start_crawl, wait_until

needs_chromium = pytest.mark.skipif(shutil.which("chromium") is None and not Path("/usr/bin/chromium").exists(),
                                    reason="Debian's chromium is not installed (make test installs it)")

FAST_RETRIES = {"RETRY_BACKOFF_BASE": 0.05, "RETRY_BACKOFF_MAX": 0.5}


def site_env(replica: SoundCloudReplica) -> dict[str, str]:
    return {"SOUNDCLOUD_URL": replica.urls["web"], "SOUNDCLOUD_API_URL": replica.urls["api"]}


def artist_refs(world: World, replica: SoundCloudReplica) -> str:
    """Every way a user names artists: permalink, display name, profile URL."""
    a = world.artists
    refs = [a[0]["permalink"], a[1]["username"], f"{replica.urls['web']}/{a[2]['permalink']}"]
    refs += [u["permalink"] for u in a[3:]]
    return ",".join(refs + list(world.missing_permalinks))


def expected_tracks(world: World) -> dict[int, dict[str, Any]]:
    return {t["id"]: t for artist_id in world.artist_ids for t in world.tracks_of(artist_id)}


def expected_comments(world: World) -> dict[int, dict[str, Any]]:
    return {c["id"]: c for track_id in expected_tracks(world) for c in world.comments_of(track_id)}


def track_length(t: dict[str, Any]) -> int:
    """Preview-only (SNIP) tracks report the preview as duration; the length is full_duration."""
    return t["full_duration"] if t.get("policy") == "SNIP" else t["duration"]


def table(database_url: str, sql: str) -> dict[Any, tuple[Any, ...]]:
    return {row[0]: row[1:] for row in query(database_url, sql)}


def assert_dataset_matches_world(database_url: str, world: World) -> None:
    users = table(database_url, "SELECT id, permalink, username, full_name, description, city, country_code, "
                                "followers_count, followings_count, track_count, avatar_url, banner_url, "
                                "full_profile FROM soundcloud_users")
    for artist in world.artists:
        assert users[artist["id"]] == (
            artist["permalink"], artist["username"], artist["full_name"], artist["description"],
            artist["city"], artist["country_code"], artist["followers_count"], artist["followings_count"],
            artist["track_count"], artist["avatar_url"], banner_url(artist), True,
        ), f"artist {artist['permalink']}"

    tracks = table(database_url, "SELECT id, user_id, title, permalink_url, genre, tag_list, duration_ms, "
                                 "likes_count, reposts_count, playback_count, comment_count, artwork_url, "
                                 "is_dj_set FROM soundcloud_tracks")
    want_tracks = expected_tracks(world)
    assert set(tracks) == set(want_tracks), "every track of every artist, nothing else"
    for track_id, t in want_tracks.items():
        assert tracks[track_id][:-1] == (
            t["user_id"], t["title"], t["permalink_url"], t["genre"], t["tag_list"], track_length(t),
            t["likes_count"], t["reposts_count"], t["playback_count"], t["comment_count"], t["artwork_url"],
        ), f"track {track_id}"
        assert bool(tracks[track_id][-1]) == (track_length(t) >= 30 * 60_000), f"is_dj_set of {t['title']!r}"
    hidden = [i for i, t in want_tracks.items() if t["likes_count"] is None]
    assert hidden and all(tracks[i][6] is None for i in hidden), "hidden stats stay NULL"

    comments = table(database_url, "SELECT id, track_id, user_id, body, timestamp_ms FROM soundcloud_comments")
    want_comments = expected_comments(world)
    assert len(comments) == len(want_comments) and set(comments) == set(want_comments)
    for comment_id, c in want_comments.items():
        assert comments[comment_id] == (c["track_id"], c["user_id"], c["body"], c["timestamp"]), comment_id
    assert any(c["timestamp"] is None for c in want_comments.values()), "the world has unpinned comments"
    assert {c["user_id"] for c in want_comments.values()} <= set(users), "comment authors are users"

    artist_ids = set(world.artist_ids)
    partial = {uid for uid, row in users.items() if not row[-1]}
    assert not partial & artist_ids, "a mini user never replaced a full profile"


def expected_media(world: World) -> dict[str, str]:
    """URL → owner table of every image and waveform that must be stored."""
    media = {}
    for artist in world.artists:
        media[image_variant(artist["avatar_url"])] = "soundcloud_users"
        if banner_url(artist):
            media[banner_url(artist)] = "soundcloud_users"
    for t in expected_tracks(world).values():
        if t["artwork_url"]:
            media[image_variant(t["artwork_url"])] = "soundcloud_tracks"
        if t["waveform_url"]:
            media[t["waveform_url"]] = "soundcloud_tracks"
    return media


def row_counts(database_url: str) -> dict[str, int]:
    return {t: query(database_url, f"SELECT count(*) FROM {t}")[0][0]
            for t in ("soundcloud_users", "soundcloud_tracks", "soundcloud_comments", "media_files")}


@needs_chromium
def test_crawl_into_postgres_with_media_in_s3(tmp_path: Path, pg_url: str, s3: S3) -> None:
    world = build_world(WorldConfig(artists=5, tracks_per_artist=7, comments_per_track=25))
    quirks = Quirks(short_pages=True, datadome=True, rotate_client_id_after=40, error_5xx_every=6,
                    malformed_json_every=9, rate_limit=(60, 1.0))
    with SoundCloudReplica(world, quirks) as replica:
        settings = {"DATABASE_URL": pg_url, "FILES_STORE": f"s3://{s3.bucket}/media/", **FAST_RETRIES}
        env = {**site_env(replica), **s3.env}
        result = run_crawl("soundcloud_artists", tmp_path, args={"artists": artist_refs(world, replica)},
                           settings=settings, env=env)
        assert result.returncode == 0, result.log[-3000:]
        assert_dataset_matches_world(pg_url, world)

        # Images: every avatar, banner and artwork is in the bucket, one media_files row each.
        media = expected_media(world)
        rows = {r[0]: r[1:] for r in query(pg_url, "SELECT url, path, owner_table FROM media_files")}
        assert set(rows) == set(media)
        keys = s3.keys("media/")
        for url, owner_table in media.items():
            assert rows[url] == (media_path(url, owner_table), owner_table)
            assert f"media/{media_path(url, owner_table)}" in keys

        # The quirks were met, handled and counted.
        assert replica.stats["challenges_passed"] >= 1, "the anti-bot path ran a real browser"
        assert any("Chrome" in ua for ua in replica.stats["challenge_user_agents"])
        assert result.stat("soundscraping/antibot/solved") >= 1
        assert result.stat("soundscraping/client_id/refreshed") >= 1
        assert result.stat("soundscraping/retry/http_502") >= 1
        assert result.stat("soundscraping/retry/malformed_json") >= 1
        assert result.stat("soundscraping/skipped/artist_not_found") == 1
        assert "Artist 'ghost-artist-404' not found" in result.log
        assert "Traceback" not in result.log

        # A second crawl adds nothing twice.
        before = row_counts(pg_url)
        again = run_crawl("soundcloud_artists", tmp_path, args={"artists": artist_refs(world, replica)},
                          settings=settings, env=env, run="again")
        assert again.returncode == 0, again.log[-3000:]
        assert row_counts(pg_url) == before
        assert_dataset_matches_world(pg_url, world)


@needs_chromium
def test_crawl_into_sqlite_with_local_media(tmp_path: Path) -> None:
    world = build_world(WorldConfig(artists=3, tracks_per_artist=5, comments_per_track=10))
    database_url = f"sqlite:///{tmp_path}/soundscraping.sqlite3"
    files = tmp_path / "files"
    with SoundCloudReplica(world, Quirks()) as replica:
        result = run_crawl("soundcloud_artists", tmp_path, args={"artists": artist_refs(world, replica)},
                           settings={"DATABASE_URL": database_url, "FILES_STORE": files}, env=site_env(replica))
    assert result.returncode == 0, result.log[-3000:]
    assert_dataset_matches_world(database_url, world)
    for url, owner_table in expected_media(world).items():
        assert (files / media_path(url, owner_table)).stat().st_size > 0


def comparable_rows(database_url: str) -> dict[str, set[tuple[Any, ...]]]:
    return {
        "users": set(query(database_url, "SELECT id, permalink, username, followers_count, full_profile "
                                         "FROM soundcloud_users")),
        "tracks": set(query(database_url, "SELECT id, user_id, title, likes_count, is_dj_set FROM soundcloud_tracks")),
        "comments": set(query(database_url, "SELECT id, track_id, user_id, body, timestamp_ms "
                                            "FROM soundcloud_comments")),
    }


def test_killed_crawl_resumes_to_the_same_rows(tmp_path: Path, pg_url: str, pg_admin: str) -> None:
    world = build_world(WorldConfig(artists=4, tracks_per_artist=6, comments_per_track=30))
    reference_db = pg_url + "_ref"
    admin(f"CREATE DATABASE {reference_db.rsplit('/', 1)[1]}")
    try:
        with SoundCloudReplica(world, Quirks(datadome=False, latency_ms=20)) as replica:
            common = {"MEDIA_ENABLED": False, "STORAGE_BATCH_SIZE": 40, "CONCURRENT_REQUESTS_PER_DOMAIN": 2}
            args = {"artists": artist_refs(world, replica)}
            reference = run_crawl("soundcloud_artists", tmp_path / "ref", args=args, env=site_env(replica),
                                  settings={**common, "DATABASE_URL": reference_db})
            assert reference.returncode == 0, reference.log[-3000:]

            # The kill lands at a known point: one comments page is held while
            # the rows of every other page are stored.
            others = comments_of_other_tracks(world)
            settings = {**common, "DATABASE_URL": pg_url, "JOBDIR": tmp_path / "job"}
            _held, process, _log, _stats = start_crawl_with_comments_held(world, replica, tmp_path, settings,
                                                                          run="killed")
            units = len(args["artists"].split(","))  # every artist, the missing one too
            wait_until(lambda: count_rows(pg_url, "soundcloud_comments") == others
                       and count_rows(pg_url, "crawl_units") == units - 1,
                       "the other pages stored and every other artist finished")
            process.send_signal(signal.SIGKILL)
            process.wait(30)
            assert count_rows(pg_url, "soundcloud_comments") == others, "killed before the end"

            resumed = finish(*start_crawl("soundcloud_artists", tmp_path, args=args, env=site_env(replica),
                                          settings=settings, run="resumed"))
        assert resumed.returncode == 0, resumed.log[-3000:]
        assert "did not stop cleanly" in resumed.log
        # Only the artist in flight is crawled again.
        assert f"Resuming the job: {units - 1} of {units} artists were finished before and are skipped" in resumed.log
        held_artist = world.artists[-1]
        pages_of_held_artist = 1 + 1 + sum(1 for t in world.tracks_of(held_artist["id"]) if t["comment_count"] != 0)
        assert resumed.stat("response_received_count") <= pages_of_held_artist + 5, "client_id, short pages"
        assert resumed.stat("response_received_count") < reference.stat("response_received_count") / 2
        resumed_rows, reference_rows = comparable_rows(pg_url), comparable_rows(reference_db)
        for name in reference_rows:
            missing = reference_rows[name] - resumed_rows[name]
            extra = resumed_rows[name] - reference_rows[name]
            detail = f"{name}: {len(missing)} missing, {len(extra)} extra, e.g. {missing or extra}"
            assert not missing and not extra, detail[:800]
        assert_dataset_matches_world(pg_url, world)
    finally:
        admin(f"DROP DATABASE IF EXISTS {reference_db.rsplit('/', 1)[1]} WITH (FORCE)")


def test_database_unreachable_at_start_stops_before_crawling(tmp_path: Path) -> None:
    world = build_world(WorldConfig(artists=2, tracks_per_artist=2, comments_per_track=2))
    with SoundCloudReplica(world, Quirks(datadome=False)) as replica:
        result = run_crawl("soundcloud_artists", tmp_path, args={"artists": world.artists[0]["permalink"]},
                           env=site_env(replica),
                           settings={"DATABASE_URL": "postgresql://postgres:s3cret@127.0.0.1:9/nowhere"})
        api_requests = sum(v for k, v in replica.stats.items() if k.startswith("api_") and isinstance(v, int))
    assert result.returncode == 1
    errors = [line for line in result.log.splitlines() if " ERROR: " in line]
    assert len(errors) == 1 and "cannot connect to postgresql://postgres:***@127.0.0.1:9/nowhere" in errors[0]
    assert "s3cret" not in result.log
    assert result.stats["finish_reason"] == "database_unavailable"
    assert api_requests == 0


def held_comments_track(world: World) -> int:
    """A track with comments, crawled late: its first comments page is the
    request the fault tests hold."""
    return next(t["id"] for t in reversed(world.tracks_of(world.artist_ids[-1])) if world.comments_of(t["id"]))


def hold_comments(replica: SoundCloudReplica, track_id: int) -> Hold:
    return replica.holds.hold(lambda request: request.path == f"/tracks/{track_id}/comments")


def comments_of_other_tracks(world: World) -> int:
    """How many comments reach the database while the held track's page is held."""
    return len(expected_comments(world)) - len(world.comments_of(held_comments_track(world)))


def start_crawl_with_comments_held(world: World, replica: SoundCloudReplica, workdir: Path, settings: dict[str, Any],
                                   run: str = "crawl") -> tuple[Hold, subprocess.Popen[bytes], Path, Path]:
    """``start_crawl`` of soundcloud_artists over every artist of ``world``, returned once the
    replica holds the held track's first comments page: (hold, process, log file, stats file)."""
    held = hold_comments(replica, held_comments_track(world))
    process, log, stats = start_crawl("soundcloud_artists", workdir, args={"artists": artist_refs(world, replica)},
                                      env=site_env(replica), settings=settings, run=run)
    held.wait_arrived()
    return held, process, log, stats


def cut_database(dbname: str) -> None:
    """The database goes away: no new connections, existing ones cut."""
    admin(f"ALTER DATABASE {dbname} ALLOW_CONNECTIONS false")
    admin(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{dbname}'")


def unsaved_rows(unsaved_dir: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for f in unsaved_dir.glob("*.jsonl") for line in f.read_text().splitlines()]


def last_line(log: str) -> str:
    return [line for line in log.splitlines() if line.strip()][-1]


def test_rows_reach_the_database_within_seconds_on_a_slow_crawl(tmp_path: Path) -> None:
    """The issue's polite crawl: far fewer rows than a batch, and the crawl
    is still going (one page held by the replica).  Its rows are in the
    database anyway, written by the time trigger, long before the end."""
    world = build_world(WorldConfig(artists=3, tracks_per_artist=3, comments_per_track=5))
    database_url = f"sqlite:///{tmp_path}/slow.sqlite3"
    others = comments_of_other_tracks(world)
    with SoundCloudReplica(world, Quirks(datadome=False)) as replica:
        held, process, log, stats = start_crawl_with_comments_held(
            world, replica, tmp_path,
            {"DATABASE_URL": database_url, "MEDIA_ENABLED": False, "STORAGE_FLUSH_SECONDS": 1})
        wait_until(lambda: count_rows(database_url, "soundcloud_comments") == others,
                   "every row but the held page's stored while the crawl goes on")
        # The held track's row waits for its comments (a stored track row says its comments are in).
        assert count_rows(database_url, "soundcloud_tracks") == len(expected_tracks(world)) - 1
        assert process.poll() is None, "the crawl is still running"
        held.release()
        result = finish(process, log, stats)
    assert result.returncode == 0, result.log[-3000:]
    assert result.stat("soundscraping/storage/timed_flushes") >= 1
    assert_dataset_matches_world(database_url, world)


def test_database_lost_mid_crawl_fails_loudly_and_keeps_unsaved_rows(tmp_path: Path, pg_url: str) -> None:
    """The fault comes at a known point: one comments page is held by the
    replica while every other page's rows reach the database (by the time
    trigger: the batch size is never reached); then the database is cut and
    the page released, so its rows are the ones that cannot be stored."""
    world = build_world(WorldConfig(artists=4, tracks_per_artist=6, comments_per_track=40))
    dbname = pg_url.rsplit("/", 1)[1]
    unsaved_dir = tmp_path / "unsaved"
    held_track = held_comments_track(world)
    held_ids = {c["id"] for c in world.comments_of(held_track)}
    others = len(expected_comments(world)) - len(held_ids)
    with SoundCloudReplica(world, Quirks(datadome=False)) as replica:
        held, process, log, stats = start_crawl_with_comments_held(
            world, replica, tmp_path,
            {"DATABASE_URL": pg_url, "MEDIA_ENABLED": False, "STORAGE_BATCH_SIZE": 100_000,
             "STORAGE_FLUSH_SECONDS": 0.2, "STORAGE_RETRY_TIMES": 2, "STORAGE_UNSAVED_DIR": unsaved_dir})
        try:
            # Everything but the held track's comments, its row and its artist's
            # finished marker (another artist's marker may trail its rows by a flush).
            refs = artist_refs(world, replica).split(",")  # a missing artist is a finished unit too
            everything_else = (others, len(expected_tracks(world)) - 1, len(refs) - 1)
            wait_until(lambda: tuple(count_rows(pg_url, t) for t in ("soundcloud_comments", "soundcloud_tracks",
                                                                      "crawl_units")) == everything_else,
                       f"the {others} comments of every other track, every other track and the other "
                       "artists' finished markers stored while one page is held")
            cut_database(dbname)
            held.release()
            result = finish(process, log, stats, timeout=120)
        finally:
            admin(f"ALTER DATABASE {dbname} ALLOW_CONNECTIONS true")
    assert result.returncode == 1
    assert result.stats["finish_reason"] == "database_unavailable"
    assert "Database unavailable after 2 retries" in result.log
    stored = sum(result.stat(f"soundscraping/stored/{t}") for t in
                 ("soundcloud_users", "soundcloud_tracks", "soundcloud_comments"))
    in_db = sum(v for k, v in row_counts(pg_url).items() if k != "media_files")
    assert in_db == stored, "every row counted as stored is in the database, and only those"
    assert result.stat("soundscraping/stored/soundcloud_comments") == others
    unsaved = unsaved_rows(unsaved_dir)
    assert len(unsaved) == result.stat("soundscraping/storage/unsaved_rows")
    assert {r["row"]["id"] for r in unsaved if r["table"] == "soundcloud_comments"} == held_ids
    # The held artist's unit-finished marker travels with its last rows, never without them.
    markers = [r["row"]["unit"] for r in unsaved if r["table"] == "crawl_units"]
    assert markers in ([], [world.artists[-1]["permalink"]])
    assert all(r["table"].startswith("soundcloud_") and (r["row"].get("id") or r["row"].get("track_id"))
               for r in unsaved if r["table"] != "crawl_units")
    # The held track's row (and its stats row) waited for its comments: unsaved with them.
    assert [r["row"]["id"] for r in unsaved if r["table"] == "soundcloud_tracks"] == [held_track]
    assert f"{len(unsaved)} rows not saved" in last_line(result.log)
    assert str(next(unsaved_dir.glob("*.jsonl"))) in last_line(result.log)


def test_failed_final_flush_fails_the_crawl(tmp_path: Path, pg_url: str) -> None:
    """A crawl smaller than a batch writes once, at the end: the database is
    cut while the last page is held, so that one final flush fails."""
    world = build_world(WorldConfig(artists=3, tracks_per_artist=3, comments_per_track=5))
    dbname = pg_url.rsplit("/", 1)[1]
    unsaved_dir = tmp_path / "unsaved"
    with SoundCloudReplica(world, Quirks(datadome=False)) as replica:
        held, process, log, stats = start_crawl_with_comments_held(
            world, replica, tmp_path,
            {"DATABASE_URL": pg_url, "MEDIA_ENABLED": False, "STORAGE_FLUSH_SECONDS": 0,
             "STORAGE_RETRY_TIMES": 1, "STORAGE_UNSAVED_DIR": unsaved_dir})
        try:
            cut_database(dbname)
            held.release()
            result = finish(process, log, stats, timeout=120)
        finally:
            admin(f"ALTER DATABASE {dbname} ALLOW_CONNECTIONS true")
    assert result.returncode == 1, result.log[-2000:]
    assert result.stats["finish_reason"] == "database_unavailable"
    assert row_counts(pg_url)["soundcloud_comments"] == 0
    unsaved = unsaved_rows(unsaved_dir)
    comments = {r["row"]["id"] for r in unsaved if r["table"] == "soundcloud_comments"}
    assert comments == set(expected_comments(world)), "every row of the crawl is in the unsaved file"
    assert f"{len(unsaved)} rows not saved" in last_line(result.log)


def test_rejected_rows_fail_the_crawl_and_keep_the_rest(tmp_path: Path, pg_url: str) -> None:
    """PostgreSQL refuses some rows (a CHECK constraint a researcher added):
    the others are stored, the refused ones are kept, and the crawl fails."""
    world = build_world(WorldConfig(artists=3, tracks_per_artist=3, comments_per_track=5))
    refused = sorted(expected_comments(world))[:3]
    db = Database.from_url(pg_url)
    db.connect()
    db.ensure_schema()
    db.close()
    admin_db(pg_url, "ALTER TABLE soundcloud_comments ADD CONSTRAINT not_these "
                     f"CHECK (id NOT IN ({', '.join(map(str, refused))}))")
    unsaved_dir = tmp_path / "unsaved"
    with SoundCloudReplica(world, Quirks(datadome=False)) as replica:
        result = run_crawl("soundcloud_artists", tmp_path, args={"artists": artist_refs(world, replica)},
                           env=site_env(replica), settings={"DATABASE_URL": pg_url, "MEDIA_ENABLED": False,
                                                           "STORAGE_UNSAVED_DIR": unsaved_dir})
    assert result.returncode == 1, result.log[-2000:]
    assert result.stats["finish_reason"] == "rows_not_saved"
    assert result.stat("soundscraping/storage/rejected_rows") == len(refused)
    stored = {r[0] for r in query(pg_url, "SELECT id FROM soundcloud_comments")}
    assert stored == set(expected_comments(world)) - set(refused)
    assert {r["row"]["id"] for r in unsaved_rows(unsaved_dir)} == set(refused)
    assert f"{len(refused)} rows not saved" in last_line(result.log)
    assert "Traceback" not in result.log


def test_rate_limited_crawl_backs_off_and_loses_nothing(tmp_path: Path) -> None:
    world = build_world(WorldConfig(artists=3, tracks_per_artist=4, comments_per_track=6))
    database_url = f"sqlite:///{tmp_path}/rate.sqlite3"
    with SoundCloudReplica(world, Quirks(datadome=False, rate_limit=(8, 1.0))) as replica:
        # The limit (8 a second) is hit on purpose, so the ban and retry shares are far above what
        # the monitors allow a real crawl (they would rightly fail it): here the point is losing nothing.
        result = run_crawl("soundcloud_artists", tmp_path, args={"artists": artist_refs(world, replica)},
                           env=site_env(replica), settings={"DATABASE_URL": database_url, "MEDIA_ENABLED": False,
                                                           "RETRY_TIMES": 10, **FAST_RETRIES,
                                                           "MONITOR_MAX_BAN_SHARE": 1, "MONITOR_MAX_RETRY_SHARE": 1})
        served_429 = replica.stats["status_429"]
    assert result.returncode == 0, result.log[-3000:]
    assert served_429 >= 1 and result.stat("soundscraping/retry/http_429") == served_429
    assert "429 from" in result.log and "slowing that host" in result.log
    assert_dataset_matches_world(database_url, world)
