"""The streaming path's pieces (soundscraping.media) against the replica's
file hosts, without a crawl: resume, stale part files, servers that ignore
Range, checksums, failures, the local store."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import resource
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest
from scrapy.settings import Settings
from scrapy.statscollectors import MemoryStatsCollector

from replicas.cambridge_mt import CambridgeReplica, ForumConfig, Library, Quirks, build_forum, load_library
from replicas.cambridge_mt.content import BLOCK
from soundscraping.media.http import FileStreamer, StreamFailed
from soundscraping.media.paths import media_path
from soundscraping.media.streaming import StreamingFilesPipeline, _Job

SIZE = 3 * BLOCK + 4321


@pytest.fixture(scope="module")
def library() -> Library:
    lib = load_library()
    # Enough songs for the generated forum to hold attachments.
    return lib.subset([*lib.songs[:40], lib.song("Riesling")])


@pytest.fixture(scope="module")
def replica(library: Library) -> Iterator[CambridgeReplica]:
    riesling = library.song("Riesling")
    quirks = Quirks(large_files={riesling.full_urls[0]: SIZE}, corrupt_once={riesling.full_urls[1]: 500})
    with CambridgeReplica(library, build_forum(library, ForumConfig(seed=4)), quirks) as r:
        yield r


@pytest.fixture
def streamer() -> FileStreamer:
    return FileStreamer(chunk_size=256 << 10, retry_times=3, backoff_base=0.01, backoff_max=0.05)


def big_url(replica: CambridgeReplica, library: Library) -> str:
    return library.url(library.song("Riesling").full_urls[0])


def test_fetch_from_scratch(tmp_path: Path, replica: CambridgeReplica, library: Library,
                            streamer: FileStreamer) -> None:
    url = big_url(replica, library)
    remote = streamer.head(url)
    assert remote.size == SIZE and remote.ranges and remote.md5 == replica.md5(url)
    got = streamer.fetch(url, tmp_path / "x.part", remote)
    assert (got.size, got.md5, got.resumes, got.received) == (SIZE, replica.md5(url), 0, SIZE)


def test_fetch_resumes_a_part_file_from_an_earlier_run(tmp_path: Path, replica: CambridgeReplica, library: Library,
                                                        streamer: FileStreamer) -> None:
    url = big_url(replica, library)
    remote = streamer.head(url)
    whole = b"".join(replica.served(url).stream.iter_range())  # type: ignore[union-attr]
    part = tmp_path / "x.part"
    part.write_bytes(whole[:BLOCK + 77])
    part.with_name("x.part.json").write_text(json.dumps({"url": url, "etag": remote.etag, "size": remote.size}))
    before = len(replica.stats["ranges"])
    got = streamer.fetch(url, part, remote)
    assert replica.stats["ranges"][before:] == [(url[len(replica.urls["mtkdata"]):], BLOCK + 77, remote.etag)]
    assert (got.md5, got.resumes, got.received) == (replica.md5(url), 1, SIZE - BLOCK - 77)


def test_a_part_file_of_another_version_is_discarded(tmp_path: Path, replica: CambridgeReplica, library: Library,
                                                      streamer: FileStreamer) -> None:
    url = big_url(replica, library)
    part = tmp_path / "x.part"
    part.write_bytes(b"old version" * 1000)
    part.with_name("x.part.json").write_text(json.dumps({"url": url, "etag": '"old"', "size": SIZE}))
    got = streamer.fetch(url, part, streamer.head(url))
    assert (got.md5, got.resumes, got.received) == (replica.md5(url), 0, SIZE)


def test_a_server_without_range_support_starts_over(tmp_path: Path, replica: CambridgeReplica,
                                                     streamer: FileStreamer) -> None:
    att = next(iter(replica.forum.attachments.values()))
    url = f"{replica.urls['forum']}/attachment.php?aid={att.aid}"
    data = replica.content(url)
    part = tmp_path / "a.part"
    remote = streamer.head(url)
    assert not remote.ranges
    part.write_bytes(data[:100])
    part.with_name("a.part.json").write_text(json.dumps({"url": url, "etag": remote.etag, "size": remote.size}))
    got = streamer.fetch(url, part, remote)
    assert part.read_bytes() == data and got.restarts == 1 and got.md5 == hashlib.md5(data).hexdigest()


def test_missing_file_fails_without_retries(tmp_path: Path, replica: CambridgeReplica, streamer: FileStreamer) -> None:
    with pytest.raises(StreamFailed, match="HTTP 404"):
        streamer.head(f"{replica.urls['mtkdata']}/MTK999/Nothing_Full.zip")


def test_unreachable_host_gives_up(tmp_path: Path, streamer: FileStreamer) -> None:
    with pytest.raises(StreamFailed, match="gave up"):
        streamer.head("http://127.0.0.1:9/x.zip")


class Crawlerless(SimpleNamespace):
    """What the pipeline reads of a crawler, before any crawl (hashable and
    weak-referenceable by identity: per-crawl components are keyed by it)."""

    __hash__ = object.__hash__


def pipeline(tmp_path: Path) -> StreamingFilesPipeline:
    settings = Settings({"FILES_STORE": str(tmp_path / "files"), "MEDIA_STREAM_HOST_DELAY": 0,
                         "RETRY_BACKOFF_BASE": 0.01, "MEDIA_STREAM_EXTENSIONS": [".zip"]})
    crawler = Crawlerless(settings=settings, stats=None, engine=None)
    crawler.stats = MemoryStatsCollector(crawler)  # type: ignore[arg-type]
    return StreamingFilesPipeline(crawler)  # type: ignore[arg-type]


def test_a_corrupt_download_is_fetched_again_then_up_to_date(tmp_path: Path, replica: CambridgeReplica,
                                                             library: Library) -> None:
    url = library.url(library.song("Riesling").full_urls[1])
    path = media_path(url, "cmt_songs")
    streaming = pipeline(tmp_path)
    job = _Job(url, path)
    streaming._work(job)
    assert replica.stats["corrupted"] == 1
    assert job.error is None and job.counters["checksum_mismatch"] == 1 and job.counters["restarted"] == 1
    assert job.result == {"url": url, "path": path, "checksum": replica.md5(url), "status": "downloaded"}
    assert (tmp_path / "files" / path).read_bytes() == replica.content(url)
    again = _Job(url, path)
    streaming._work(again)
    assert again.result is not None and again.result["status"] == "uptodate"
    assert again.result["checksum"] == replica.md5(url)
    assert not list((tmp_path / "files" / ".partial").glob("*"))


@contextlib.contextmanager
def files_limited_to(size: int) -> Iterator[None]:
    """This process may write no file larger than ``size`` bytes (EFBIG, as a
    full disk gives ENOSPC; Python ignores SIGXFSZ)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    resource.setrlimit(resource.RLIMIT_FSIZE, (size, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))


def test_a_full_disk_fails_the_file_at_once_and_counts_it(tmp_path: Path, replica: CambridgeReplica,
                                                          library: Library) -> None:
    """A write error is not a network error: no retry, no file under its
    name, the part kept for the next run, and the crawl's not-stored count."""
    url = big_url(replica, library)
    path = media_path(url, "cmt_songs")
    streaming = pipeline(tmp_path)
    ranges_before = len(replica.stats["ranges"])
    with files_limited_to(BLOCK):
        job = asyncio.run(streaming._run(url, path))
    assert job.result is None and job.error is not None and "[Errno 27] File too large" in job.error
    assert job.counters == {"not_stored": 1}
    assert replica.stats["ranges"][ranges_before:] == [], "no retry (it would resume with Range)"
    assert not (tmp_path / "files" / path).exists()
    assert [p.stat().st_size for p in (tmp_path / "files" / ".partial").glob("*.part")] == [BLOCK]
    assert streaming.stats.get_value("soundscraping/media/not_stored") == 1
    assert "File too large" in streaming.stats.get_value("soundscraping/media/not_stored_error")
