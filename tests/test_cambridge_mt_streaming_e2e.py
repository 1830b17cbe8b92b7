"""The streaming path for large files, end to end through ``scrapy crawl
cambridge_mt -a download=all`` against the replica (files generated on the
fly, never stored in the repository):

* a 1.5 GB multitrack ZIP streamed to a local FILES_STORE with the crawler's
  peak RSS under 300 MB (the crawler process's VmHWM);
* a 64 MB ZIP uploaded to S3 (moto server) with a multipart upload, after the
  replica dropped the connection once mid-file: the download resumed with
  ``Range`` at the exact byte the part file ended;
* a crawl killed mid-file: the next crawl resumes the part file with
  ``Range`` instead of starting over, and the checksum is right.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from replicas.cambridge_mt import CambridgeReplica, ForumConfig, Library, build_forum, load_library
from soundscraping.media.paths import media_path
from tests.conftest import S3
from tests.crawl import CrawlResult, finish, kill_when, query, start_crawl

FAST = {"RETRY_BACKOFF_BASE": 0.05, "RETRY_BACKOFF_MAX": 0.5, "MEDIA_STREAM_HOST_DELAY": 0}
GB15 = 1_500_000_000
MiB = 1 << 20



def one_song(title: str) -> tuple[Library, Any]:
    library = load_library()
    song = library.song(title)
    return library.subset([song]), song


def replica_for(library: Library, **quirks: Any) -> CambridgeReplica:
    from replicas.cambridge_mt import Quirks

    return CambridgeReplica(library, build_forum(library, ForumConfig(genres=())), Quirks(**quirks))


def peak_rss_mb(pid: int) -> float | None:
    """The kernel's high-water mark of the process's resident memory
    (VmHWM).  Unlike rusage's ru_maxrss it starts afresh at exec, so the
    test process's own size (the crawler is forked from it) does not count."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return None


def run_measured(spider: str, workdir: Path, *, args: Mapping[str, str], settings: Mapping[str, Any],
                 env: Mapping[str, str] | None = None, timeout: float = 300) -> tuple[CrawlResult, float, float]:
    """Run a crawl; return its result, its peak RSS (MB, VmHWM polled until
    the process exits) and its wall time."""
    started = time.monotonic()
    process, log_file, stats_file = start_crawl(spider, workdir, args=args, settings=settings, env=env)
    errors: list[bytes] = []
    reader = threading.Thread(target=lambda: errors.append(process.stderr.read()), daemon=True)  # type: ignore[union-attr]
    reader.start()
    deadline, peak = time.monotonic() + timeout, 0.0
    while process.poll() is None:  # VmHWM only grows: the last reading is the peak (to 20 ms)
        peak = max(peak, peak_rss_mb(process.pid) or 0.0)
        if time.monotonic() > deadline:
            process.kill()
            raise AssertionError("crawl timed out")
        time.sleep(0.02)
    reader.join(10)
    seconds = time.monotonic() - started
    result = finish(process, log_file, stats_file)
    result.log += b"".join(errors).decode("utf-8", "replace")
    assert peak > 0, "no memory reading"
    return result, peak, seconds


def md5_file(path: Path) -> str:
    digest = hashlib.md5(usedforsecurity=False)
    with path.open("rb") as f:
        while chunk := f.read(4 * MiB):
            digest.update(chunk)
    return digest.hexdigest()


def media_rows(database_url: str) -> dict[str, tuple[Any, ...]]:
    return {r[0]: r[1:] for r in query(database_url, "SELECT url, path, checksum, owner_table FROM media_files")}


def test_large_file_streams_with_flat_memory(tmp_path: Path, pg_url: str) -> None:
    library, song = one_song("Riesling")  # 79 tracks in 2 parts, an excerpt, 3 previews
    big = song.full_urls[0]
    with replica_for(library, large_files={big: GB15}) as replica:
        url = library.url(big)
        expected: dict[str, str] = {}
        hasher = threading.Thread(target=lambda: expected.update(md5=replica.md5(url)), daemon=True)
        hasher.start()  # the truth, computed while the crawl runs
        files = tmp_path / "files"
        result, peak_mb, seconds = run_measured(
            "cambridge_mt", tmp_path, args={"download": "all"},
            settings={"DATABASE_URL": pg_url, "FILES_STORE": files, **FAST, **replica.settings()})
        hasher.join()
        print(f"\n1.5 GB streamed in {seconds:.1f} s, crawler peak RSS {peak_mb:.0f} MB")
        assert result.returncode == 0, result.log[-3000:]
        assert peak_mb < 300, f"peak RSS {peak_mb:.0f} MB"
        stored = files / media_path(url, "cmt_songs")
        assert stored.stat().st_size == GB15
        assert md5_file(stored) == expected["md5"]
        rows = media_rows(pg_url)
        assert rows[url] == (media_path(url, "cmt_songs"), expected["md5"], "cmt_songs")
        want = {library.url(u) for u in song.full_urls + song.excerpt_urls
                + [song.full_preview, song.excerpt_preview, song.unmastered]}
        assert set(rows) == want
        for other in want - {url}:
            assert rows[other][1] == replica.md5(other)
            assert (files / rows[other][0]).read_bytes() == replica.content(other)
        assert not list((files / ".partial").glob("*")), "no part files left behind"
        assert result.stat("soundscraping/media/stream/downloaded") == 4  # 2 parts, the excerpt, the WAV
        assert result.stat("soundscraping/media/stored") == 2  # the MP3 previews (FilesPipeline)
        stored.unlink()  # 1.5 GB: do not wait for the tmp_path clean-up


def test_s3_multipart_upload_after_a_dropped_connection(tmp_path: Path, pg_url: str, s3: S3) -> None:
    library, song = one_song("Backroom In Tulsa")
    full = song.full_urls[0]
    size, drop = 64 * MiB, 24 * MiB
    with replica_for(library, large_files={full: size}, drop_after={full: drop}) as replica:
        url = library.url(full)
        result, peak_mb, seconds = run_measured(
            "cambridge_mt", tmp_path, args={"download": "all"}, env=s3.env,
            settings={"DATABASE_URL": pg_url, "FILES_STORE": f"s3://{s3.bucket}/media/",
                      "MEDIA_STREAM_TEMP_DIR": tmp_path / "partial", **FAST, **replica.settings()})
        print(f"\n64 MB to S3 in {seconds:.1f} s, crawler peak RSS {peak_mb:.0f} MB")
        assert result.returncode == 0, result.log[-3000:]
        path = media_path(url, "cmt_songs")
        head = s3.client.head_object(Bucket=s3.bucket, Key=f"media/{path}")
        expected_md5 = replica.md5(url)
        assert head["ContentLength"] == size
        assert head["Metadata"]["md5"] == expected_md5
        assert head["ETag"].strip('"').endswith("-4"), "uploaded in four 16 MB parts"
        assert media_rows(pg_url)[url] == (path, expected_md5, "cmt_songs")
        # The connection dropped once at 24 MB; the download went on from there.
        raw_path = url[len(replica.urls["mtkdata"]):]
        ranges = [r for r in replica.stats["ranges"] if r[0] == raw_path]
        assert [r[1] for r in ranges] == [drop], replica.stats["ranges"]
        assert ranges[0][2] is not None, "If-Range sent: a changed file would come back whole"
        assert result.stat("soundscraping/media/stream/resumed") == 1
        assert result.stat("soundscraping/media/stream/bytes") < size + 2 * MiB, "not downloaded twice"
        # Every other file of the song is in the bucket too; nothing left on disk.
        keys = s3.keys("media/")
        for other in [song.excerpt_urls[0], song.full_preview, song.excerpt_preview, song.unmastered]:
            assert f"media/{media_path(library.url(other), 'cmt_songs')}" in keys
        assert not list((tmp_path / "partial").glob("*"))


def test_killed_crawl_resumes_the_part_file(tmp_path: Path, pg_url: str) -> None:
    library, song = one_song("Flesh And Bone")
    full = song.full_urls[0]
    size = 384 * MiB
    # Throttled to ~4 s so the kill lands mid-file.
    with replica_for(library, large_files={full: size}, file_rate=96 * MiB) as replica:
        url = library.url(full)
        files = tmp_path / "files"
        settings = {"DATABASE_URL": pg_url, "FILES_STORE": files, **FAST, **replica.settings()}
        process, _log, _stats = start_crawl("cambridge_mt", tmp_path, args={"download": "all"}, settings=settings,
                                            run="killed")

        def part_files() -> list[Path]:
            return [p for p in (files / ".partial").glob("*.part") if p.stat().st_size > 0] \
                if (files / ".partial").exists() else []

        kill_when(process, lambda: any(p.stat().st_size >= 96 * MiB for p in part_files()), timeout=120)
        part = max(part_files(), key=lambda p: p.stat().st_size)
        at_kill = part.stat().st_size
        assert 0 < at_kill < size
        resumed = finish(*start_crawl("cambridge_mt", tmp_path, args={"download": "all"}, settings=settings,
                                      run="resumed"))
        assert resumed.returncode == 0, resumed.log[-3000:]
        raw_path = url[len(replica.urls["mtkdata"]):]
        assert [r[1] for r in replica.stats["ranges"] if r[0] == raw_path] == [at_kill]
        stored = files / media_path(url, "cmt_songs")
        assert stored.stat().st_size == size
        assert md5_file(stored) == replica.md5(url)
        assert media_rows(pg_url)[url][1] == replica.md5(url)
        assert resumed.stat("soundscraping/media/stream/resumed") == 1
        assert resumed.stat("soundscraping/media/stream/bytes") <= size - at_kill + MiB
        assert query(pg_url, "SELECT count(*) FROM cmt_songs")[0][0] == 1
        assert not part.exists()
        stored.unlink()  # 384 MB: do not keep it in pytest's retained tmp folders


def test_streaming_is_off_the_reactor_and_bounded() -> None:
    """The settings that keep it so: a small pool, ~1 MB reads."""
    from scrapy.utils.project import get_project_settings

    settings = get_project_settings()
    assert "soundscraping.media.streaming.StreamingFilesPipeline" in settings.getdict("ITEM_PIPELINES")
    assert settings.getint("MEDIA_STREAM_CONCURRENCY") <= 4
    assert settings.getint("MEDIA_STREAM_CHUNK_KB") <= 4096
    assert ".zip" in settings.getlist("MEDIA_STREAM_EXTENSIONS")
