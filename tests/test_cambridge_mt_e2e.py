"""End to end: ``scrapy crawl cambridge_mt`` and ``scrapy crawl cambridge_forum``
against the Cambridge-MT replica (the real 616-song library, a generated
MyBB forum), into real PostgreSQL (a fresh database per test), with media in
a real S3 endpoint (moto server) or a local folder."""

from __future__ import annotations

import hashlib
from datetime import datetime
from pathlib import Path
from typing import Any

from replicas.cambridge_mt import CambridgeReplica, Forum, ForumConfig, Library, Quirks, build_forum, load_library
from replicas.cambridge_mt.world import GENRE_FORUMS
from soundscraping.media.paths import media_path
from soundscraping.sites.cambridge_mt.attachments import attachment_aid
from soundscraping.sites.cambridge_mt.urls import is_direct_audio
from tests.conftest import S3
from tests.crawl import query, run_crawl

FAST = {"RETRY_BACKOFF_BASE": 0.05, "RETRY_BACKOFF_MAX": 0.5, "MEDIA_STREAM_HOST_DELAY": 0,
        "CAMBRIDGE_FORUM_DELAY": 0}
SONG_COLUMNS = ("artist", "title", "composer", "genre", "sub_genre", "full_tracks", "excerpt_tracks", "multitrack_urls",
                "excerpt_urls", "full_preview_url", "excerpt_preview_url", "unmastered_wav_url", "forum_fid",
                "external_download", "registration_required")


def iso(value: datetime | None) -> str | None:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ") if value is not None else None


def md5(data: bytes) -> str:
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


def stored_songs(database_url: str) -> dict[tuple[str, str], dict[str, Any]]:
    rows = query(database_url, f"SELECT {', '.join(SONG_COLUMNS)} FROM cmt_songs")
    return {(r[0], r[1]): dict(zip(SONG_COLUMNS, r, strict=True)) for r in rows}


def test_library_into_postgres_with_previews_in_s3(tmp_path: Path, pg_url: str, s3: S3) -> None:
    library = load_library()
    with CambridgeReplica(library, build_forum(library, ForumConfig(genres=()))) as replica:
        result = run_crawl("cambridge_mt", tmp_path, env=s3.env, settings={
            "DATABASE_URL": pg_url, "FILES_STORE": f"s3://{s3.bucket}/media/",
            "MEDIA_STREAM_TEMP_DIR": tmp_path / "partial", **FAST, **replica.settings()})
        assert result.returncode == 0, result.log[-3000:]

        # Every song of the real metadata file, with the right links.
        songs = stored_songs(pg_url)
        assert len(songs) == 616
        for song in library.songs:
            assert songs[(song.artist, song.title)] == library.expected_song(song), song.raw_title
        assert sum(len(s["multitrack_urls"]) > 1 for s in songs.values()) == 3, "multi-part ZIPs, every part"

        # Every preview (MP3 through FilesPipeline, unmastered WAV streamed) in S3, one media_files row each.
        previews = library.preview_urls()
        rows = {r[0]: r[1:] for r in query(pg_url, "SELECT url, path, checksum, owner_table, owner_key "
                                                   "FROM media_files")}
        assert set(rows) == set(previews)
        keys = s3.keys("media/")
        for url, song in previews.items():
            path = media_path(url, "cmt_songs")
            assert rows[url] == (path, md5(replica.content(url)), "cmt_songs", f"{song.artist} / {song.title}")
            assert f"media/{path}" in keys
        wavs = sum(url.endswith(".wav") for url in previews)
        assert result.stat("soundscraping/media/stream/downloaded") == wavs
        assert result.stat("soundscraping/media/stored") == len(previews) - wavs
        assert not any(k.startswith("requests_mtkdata") or k.startswith("requests_multitracks")
                       for k in replica.stats), "previews mode never fetches a ZIP"
        assert replica.stats.get("requests_library") == 1
        assert "Traceback" not in result.log


def forum_rows(database_url: str) -> tuple[dict[int, tuple], dict[int, tuple], dict[tuple[str, int], tuple]]:
    threads = {r[0]: (r[1], r[2], r[3], iso(r[4]), *r[5:]) for r in query(
        database_url,
        "SELECT tid, forum_fid, title, author, started_at, views, replies, rating FROM cmt_forum_threads")}
    posts = {r[0]: (r[1], r[2], iso(r[3]), r[4]) for r in query(
        database_url, "SELECT pid, tid, author, posted_at, body_text FROM cmt_forum_posts")}
    mixes = {(r[0], r[1]): r[2:] for r in query(
        database_url, "SELECT url, pid, tid, kind, host, filename, stored_path FROM cmt_mixes")}
    return threads, posts, mixes


def assert_forum_stored(database_url: str, forum: Forum, library: Library, fids: list[int] | None = None) -> dict:
    threads, posts, mixes = forum_rows(database_url)
    want_threads = forum.expected_threads(fids)
    assert threads == want_threads
    assert posts == forum.expected_posts(fids)
    want_mixes = forum.expected_mixes(library, fids)
    assert {k: v[:4] for k, v in mixes.items()} == want_mixes
    return mixes


def test_forum_into_postgres_with_mixes(tmp_path: Path, pg_url: str) -> None:
    library = load_library()
    forum = build_forum(library)
    files = tmp_path / "files"
    with CambridgeReplica(library, forum) as replica:
        result = run_crawl("cambridge_forum", tmp_path, args={"download": "mixes"}, settings={
            "DATABASE_URL": pg_url, "FILES_STORE": files, **FAST, **replica.settings()})
        assert result.returncode == 0, result.log[-3000:]

        # Every thread, post and mix exactly once (nothing fetched or stored twice).
        mixes = assert_forum_stored(pg_url, forum, library)
        for table in ("cmt_forum_threads", "cmt_forum_posts", "cmt_mixes"):
            assert result.stat(f"soundscraping/dropped/duplicate/{table}") == 0, table
        assert result.stat("soundscraping/stored/cmt_forum_posts") == len(forum.posts)
        assert replica.stats["forum_max_in_flight"] == 1, "one request at a time to the forum"
        both = {sf.markup for sf in forum.song_forums.values() if sf.threads}
        assert both == {"2024", "2025"}
        # Attachment file names (issue 9): the name each template shows — for the player template the
        # text between "&nbsp;&nbsp;" and "&nbsp;--&nbsp;", never its "(Download: N MB)" link text.
        stored_names = {attachment_aid(url): row[3] for (url, _pid), row in mixes.items()
                        if row[1] in ("audio", "attachment")}
        assert stored_names == {aid: att.filename for aid, att in forum.attachments.items()}
        assert {att.style for att in forum.attachments.values()} == {"player", "stock"}
        assert result.stat("soundscraping/forum/mixes/attachment_without_filename") == 0

        # download=mixes: attachments and direct audio links stored, each its own file.
        downloadable = {key: row for key, row in mixes.items() if row[1] in ("attachment", "audio")
                        or is_direct_audio(key[0])}
        assert downloadable and all(row[4] for row in downloadable.values())
        media = {r[0]: r[1:] for r in query(pg_url, "SELECT url, path, checksum FROM media_files")}
        for (url, _pid), row in downloadable.items():
            data = replica.content(url)
            assert (files / row[4]).read_bytes() == data, url
            assert media[url] == (row[4], md5(data))
        assert all(row[4] is None for key, row in mixes.items() if key not in downloadable)
        same_name = [row for row in downloadable.values() if row[3] == "mix.mp3"]
        assert len(same_name) == 2 and len({row[4] for row in same_name}) == 2, "same author, same file name: two files"

        # Songs and threads are linked through the forum fid.
        library_run = run_crawl("cambridge_mt", tmp_path, args={"download": "none"}, run="library", settings={
            "DATABASE_URL": pg_url, **FAST, **replica.settings()})
        assert library_run.returncode == 0, library_run.log[-3000:]
        linked = query(pg_url, "SELECT count(*) FROM cmt_forum_threads t JOIN cmt_songs s ON s.forum_fid = t.forum_fid")
        assert linked[0][0] == len(forum.threads)
        assert "Traceback" not in result.log


def test_forum_subset_through_http_400_bursts(tmp_path: Path, pg_url: str) -> None:
    """-a forums=<genre fid>, with the forum answering 400 to bursts: the crawl
    backs off, retries, and still stores everything of that genre once."""
    library = load_library()
    genre = "Hip-Hop / R&B"
    forum = build_forum(library, ForumConfig(seed=5, genres=(genre,)))
    fid = GENRE_FORUMS[genre][0]
    song_fids = [sf.fid for g in forum.root if g.fid == fid for sf in g.forums]
    # Scaled down from the real forum (~30 s pause) to keep the test short.
    with CambridgeReplica(library, forum, Quirks(burst_400=(8, 0.4, 0.1))) as replica:
        result = run_crawl("cambridge_forum", tmp_path, args={"forums": str(fid)}, settings={
            "DATABASE_URL": pg_url, **FAST, "CAMBRIDGE_FORUM_BACKOFF": 0.12, "RETRY_TIMES": 8,
            **replica.settings()})
        assert result.returncode == 0, result.log[-3000:]
        assert_forum_stored(pg_url, forum, library, song_fids)
        assert query(pg_url, "SELECT count(DISTINCT forum_fid) FROM cmt_forum_threads")[0][0] >= 5
        assert replica.stats.get("status_400", 0) >= 1
        assert result.stat("soundscraping/retry/http_400") >= 1
        assert result.stat("soundscraping/forum/backoff") >= 1
        assert result.stat("soundscraping/gave_up/http_400") == 0
        assert not any(k.startswith("soundscraping/skipped/") for k in result.stats)


def test_forum_politeness_defaults() -> None:
    from scrapy.utils.project import get_project_settings

    from soundscraping.spiders.cambridge_forum import CambridgeForumSpider

    settings = get_project_settings()
    CambridgeForumSpider.update_settings(settings)
    assert settings.getint("CONCURRENT_REQUESTS_PER_DOMAIN") == 1
    assert settings.getfloat("DOWNLOAD_DELAY") == settings.getfloat("CAMBRIDGE_FORUM_DELAY") == 2.0
    assert settings.getbool("RANDOMIZE_DOWNLOAD_DELAY")
    assert {400, 429, 500, 503} <= {int(c) for c in settings.getlist("RETRY_HTTP_CODES")}
    assert settings.getfloat("CAMBRIDGE_FORUM_BACKOFF") >= 30
    # Only this spider retries 400s.
    assert 400 not in {int(c) for c in get_project_settings().getlist("RETRY_HTTP_CODES")}


def test_bad_arguments_fail_fast(tmp_path: Path) -> None:
    result = run_crawl("cambridge_mt", tmp_path, args={"download": "everything"},
                       settings={"DATABASE_URL": f"sqlite:///{tmp_path}/db.sqlite3"})
    assert result.returncode == 2 and "bad -a download=everything: must be one of none, previews, all" in result.log
    result = run_crawl("cambridge_forum", tmp_path, args={"forums": "rock"}, run="forum",
                       settings={"DATABASE_URL": f"sqlite:///{tmp_path}/db.sqlite3"})
    assert result.returncode == 2 and "bad -a forums=rock: 'rock' is not a number" in result.log


def test_files_an_s3_bucket_refuses_fail_the_crawl_and_every_row_is_stored(tmp_path: Path, pg_url: str,
                                                                            s3: S3) -> None:
    """FILES_STORE names a bucket that does not exist (S3 answers NoSuchBucket
    to every write): the previews (MP3s through FilesPipeline, unmastered WAVs
    streamed) are each fetched once and counted as not stored, as on a full
    disk; the songs are all stored, no media_files row names a file S3 does
    not hold, and the crawl fails in one clear line."""
    library = load_library()
    library = library.subset([s for s in library.songs if s.unmastered][:4])
    previews = library.preview_urls()
    uri = f"s3://{s3.bucket}-missing/media/"
    with CambridgeReplica(library, build_forum(library, ForumConfig(genres=()))) as replica:
        result = run_crawl("cambridge_mt", tmp_path, env=s3.env, settings={
            "DATABASE_URL": pg_url, "FILES_STORE": uri, "MEDIA_STREAM_TEMP_DIR": tmp_path / "partial",
            **FAST, **replica.settings()})
        fetched = {k: v for k, v in replica.stats.items() if k.startswith("requests_")}
    errors = [line for line in result.log.splitlines() if " ERROR: " in line]
    assert result.returncode == 1, result.log[-3000:]
    assert result.stats["finish_reason"] == "files_not_stored"
    assert result.stat("soundscraping/media/not_stored") == len(previews)
    assert any(u.endswith(".wav") for u in previews) and any(u.endswith(".mp3") for u in previews), "both paths"
    assert len(errors) == 2, errors
    assert ("Cannot write to FILES_STORE: An error occurred (NoSuchBucket) when calling the PutObject operation: "
            f"The specified bucket does not exist ({uri})") in errors[0]
    last = [line for line in result.log.splitlines() if line.strip()][-1]
    assert f"Crawl failed: {len(previews)} files not stored in FILES_STORE (An error occurred (NoSuchBucket)" in last
    assert "Traceback" not in result.log
    # Each file fetched once: a refused write is not retried as a failed download.
    assert sum(n for k, n in fetched.items() if k != "requests_library") == len(previews), fetched
    # Every row stored; no media_files row for a file that is not in S3.
    songs = stored_songs(pg_url)
    assert songs == {(s.artist, s.title): library.expected_song(s) for s in library.songs}
    assert query(pg_url, "SELECT url FROM media_files") == []
