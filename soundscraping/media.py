"""Media: every file a crawl keeps goes to FILES_STORE (a local folder or
``s3://bucket/prefix/``) and becomes a ``media_files`` row (written by the
store pipeline from the item's ``files``).  Two paths, one module:

* ``MediaFilesPipeline`` — Scrapy's FilesPipeline: images, previews,
  forum attachments.  Small files; each is held in memory while it is
  fetched through Scrapy's downloader (so the spider's politeness applies).
* ``StreamingFilesPipeline`` — large files (multitrack ZIPs up to 2.2 GB,
  uncompressed audio): URLs whose path ends in ``MEDIA_STREAM_EXTENSIONS``.
  HEAD, then a streamed GET written to a part file in chunks (memory stays
  flat whatever the size), resumed with ``Range`` after a dropped connection
  or a killed crawl, size and checksum verified, then moved into a local
  store or uploaded to S3 in parts (boto3 multipart).  The HTTP and disk
  work runs on a small thread pool (``MEDIA_STREAM_CONCURRENCY``), never on
  the reactor thread.

The streaming pipeline runs first, takes its URLs out of ``file_urls`` and
puts its results in ``files``; FilesPipeline then fetches the rest and adds
its own results.  Both name files the same way (``media_path``).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import http.client
import json
import logging
import mimetypes
import os
import random
import re
import shutil
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import unquote, urlsplit

import urllib3
from itemadapter import ItemAdapter
from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.pipelines.files import FilesPipeline

logger = logging.getLogger(__name__)


def media_path(url: str, owner_table: str | None, filename: str | None = None) -> str:
    """Where a file lands in the store: ``<owner table>/<sha1 of url><ext>``.
    Deterministic, so a re-crawl (or another worker) finds it already stored;
    two different URLs never share a path (two mixes both called "mix.mp3"
    by one author stay two files).  The extension comes from ``filename``
    when the URL has none (``attachment.php?aid=…``)."""
    guid = hashlib.sha1(url.encode("utf-8")).hexdigest()  # noqa: S324 - a name, not a secret
    ext = PurePosixPath(urlsplit(url).path).suffix.lower()
    if ext not in mimetypes.types_map and filename:
        ext = PurePosixPath(filename).suffix.lower()
    if ext not in mimetypes.types_map:
        ext = ""
    return f"{owner_table or 'misc'}/{guid}{ext}"


def file_role(item: Any, url: str | None) -> str | None:
    """``media_files.role`` of a file stored for ``item``: the role its item
    class gives (``FILE_ROLES``: field -> role) to the field holding ``url``
    (a URL field or a list of URLs); None when no field claims it."""
    roles: dict[str, str] = getattr(type(item), "FILE_ROLES", {})
    for name, role in roles.items():
        value = getattr(item, name, None)
        if value == url or (isinstance(value, list | tuple) and url in value):
            return role
    return None


def urlparse_path(url: str) -> str:
    return unquote(urlsplit(url).path)


def note_stored_path(item: Any) -> None:
    """Items with a ``stored_path`` column (mixes) get the path of their
    stored file."""
    adapter = ItemAdapter(item)
    if "stored_path" not in adapter.field_names() or adapter.get("stored_path"):
        return
    files = adapter.get("files") or []
    if files:
        adapter["stored_path"] = files[0].get("path")


class MediaFilesPipeline(FilesPipeline):
    @classmethod
    def from_crawler(cls, crawler: Crawler) -> MediaFilesPipeline:
        if not crawler.settings.getbool("MEDIA_ENABLED", True):
            raise NotConfigured("MEDIA_ENABLED is off")
        if not crawler.settings.get("FILES_STORE"):
            raise NotConfigured("FILES_STORE is not set")
        return super().from_crawler(crawler)

    async def process_item(self, item: Any, spider: Any = None) -> Any:
        # Most items (comments, mini users) carry no media: skip the machinery.
        adapter = ItemAdapter(item)
        if not adapter.get(self.files_urls_field):
            return item
        return await super().process_item(item)

    def file_path(self, request: Request, response: Any = None, info: Any = None, *, item: Any = None) -> str:
        return media_path(request.url, getattr(item, "table", None), getattr(item, "filename", None))

    def item_completed(self, results: list[Any], item: Any, info: Any) -> Any:
        stats = self.crawler.stats
        for ok, result in results:
            if ok:
                stats.inc_value("soundscraping/media/stored")
            else:
                stats.inc_value("soundscraping/media/failed")
                logger.warning("Media not stored for %s %s: %s", getattr(item, "table", "item"),
                               getattr(item, "id", None) or getattr(item, "url", "?"), result.getErrorMessage())
        # Keep what the streaming pipeline already stored for this item.
        adapter = ItemAdapter(item)
        earlier = list(adapter.get(self.files_result_field) or [])
        item = super().item_completed(results, item, info)
        if earlier:
            adapter[self.files_result_field] = earlier + list(adapter.get(self.files_result_field) or [])
        note_stored_path(item)
        return item


# --- streaming large files -------------------------------------------------------------

# Statuses worth another try after a pause (the forum answers 400 to bursts).
RETRY_STATUSES = frozenset({400, 408, 425, 429, 500, 502, 503, 504, 520, 521, 522, 523, 524})
_MD5_ETAG = re.compile(r'^"?([0-9a-fA-F]{32})"?$')


class StreamFailed(RuntimeError):
    """A file that could not be fetched (after the retries)."""


class StreamCancelled(StreamFailed):
    """The crawl is stopping; the part file is kept for the next run."""


class _Retry(Exception):
    pass


@dataclass
class Remote:
    """What HEAD said about a file."""

    size: int | None = None
    etag: str | None = None
    ranges: bool = False

    @property
    def md5(self) -> str | None:
        """The ETag when it is a plain MD5 of the content (not a weak or
        multipart ETag)."""
        m = _MD5_ETAG.match(self.etag or "")
        return m.group(1).lower() if m else None


@dataclass
class Fetched:
    size: int
    md5: str
    resumes: int = 0  # ranged requests that continued a part file
    restarts: int = 0  # times the part file was thrown away (changed file, bad checksum, Range ignored)
    received: int = 0  # bytes over the network this time


@dataclass
class Stored:
    size: int
    modified: float
    checksum: str | None


class HostThrottle:
    """At least ``delay`` seconds between request starts to one host (threads)."""

    def __init__(self, delay: float):
        self.delay = delay
        self._next: dict[str, float] = {}
        self._lock = threading.Lock()

    def wait(self, host: str, stop: Callable[[], bool]) -> None:
        if self.delay <= 0:
            return
        with self._lock:
            now = time.monotonic()
            at = max(now, self._next.get(host, 0.0))
            self._next[host] = at + self.delay
        _sleep(at - now, stop)


def _sleep(seconds: float, stop: Callable[[], bool]) -> None:
    """Sleep, waking early when the crawl stops."""
    deadline = time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        if stop():
            raise StreamCancelled("crawl stopping")
        time.sleep(min(left, 0.2))


def _content_range(value: str | None) -> tuple[int, int, int | None] | None:
    m = re.match(r"bytes\s+(\d+)-(\d+)/(\d+|\*)", value or "")
    if not m:
        return None
    return int(m.group(1)), int(m.group(2)), (int(m.group(3)) if m.group(3) != "*" else None)


class FileStreamer:
    """Blocking HTTP side of the streaming path (runs in worker threads):
    one URL to a verified local part file, in chunks, resumable."""

    def __init__(self, *, chunk_size: int = 1 << 20, timeout: float = 60, retry_times: int = 10,
                 backoff_base: float = 1.0, backoff_max: float = 60.0, host_delay: float = 0.0,
                 user_agent: str | None = None, stop: Callable[[], bool] = lambda: False):
        self.chunk_size = chunk_size
        self.retry_times = retry_times
        self.backoff_base = backoff_base
        self.backoff_max = backoff_max
        self.user_agent = user_agent
        self.stop = stop
        self.throttle = HostThrottle(host_delay)
        # Redirects followed (CDNs); connection errors and statuses are retried
        # here, with back-off and Range.
        retries = urllib3.Retry(total=None, connect=2, read=0, status=0, other=0, redirect=5)
        self.http = urllib3.PoolManager(num_pools=16, maxsize=4, retries=retries,
                                        timeout=urllib3.Timeout(connect=min(timeout, 30), read=timeout))

    def _headers(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        headers = {"Accept-Encoding": "identity"}  # the bytes as stored, never re-encoded
        if self.user_agent:
            headers["User-Agent"] = self.user_agent
        return {**headers, **(extra or {})}

    def _request(self, method: str, url: str, headers: dict[str, str]) -> Any:
        self.throttle.wait(urlsplit(url).netloc, self.stop)
        return self.http.request(method, url, headers=self._headers(headers), preload_content=False)

    def _pause(self, attempt: int, url: str, why: Any) -> None:
        if attempt > self.retry_times:
            raise StreamFailed(f"gave up on {url} after {self.retry_times} retries: {why}")
        delay = min(self.backoff_max, self.backoff_base * 2 ** (attempt - 1)) * random.uniform(0.75, 1.25)  # noqa: S311
        logger.info("Download of %s interrupted (%s); retrying in %.1f s (%d/%d)", url, why, delay, attempt,
                    self.retry_times)
        _sleep(delay, self.stop)

    def head(self, url: str) -> Remote:
        attempt = 0
        while True:
            try:
                response = self._request("HEAD", url, {})
                response.drain_conn()
                response.release_conn()
                status = response.status
                if status in (200, 204):
                    length = response.headers.get("Content-Length")
                    return Remote(size=int(length) if length and length.isdigit() else None,
                                  etag=response.headers.get("ETag"),
                                  ranges=response.headers.get("Accept-Ranges", "").lower() == "bytes")
                if status in (403, 405, 501):
                    return Remote()  # HEAD refused: learn the size from the GET
                if status in RETRY_STATUSES:
                    raise _Retry(f"HTTP {status}")
                raise StreamFailed(f"HTTP {status} for {url}")
            except (_Retry, urllib3.exceptions.HTTPError, http.client.HTTPException, OSError) as exc:
                attempt += 1
                self._pause(attempt, url, exc)

    def fetch(self, url: str, part: Path, remote: Remote) -> Fetched:
        """Download ``url`` into ``part``, continuing what an earlier attempt
        or an earlier crawl left there when the file has not changed."""
        state_file = part.with_name(part.name + ".json")
        state = {"url": url, "etag": remote.etag, "size": remote.size}
        if part.exists():
            try:
                old = json.loads(state_file.read_text())
            except (OSError, ValueError):
                old = None
            if old != state:
                logger.info("Discarding a stale part file for %s (the remote file changed)", url)
                part.unlink()
        part.parent.mkdir(parents=True, exist_ok=True)
        state_file.write_text(json.dumps(state))
        total = remote.size
        digest, hashed = hashlib.md5(usedforsecurity=False), 0
        result = Fetched(size=0, md5="")
        attempt = 0
        while True:
            if self.stop():
                raise StreamCancelled("crawl stopping")
            offset = part.stat().st_size if part.exists() else 0
            if total is not None and offset > total:
                part.unlink()
                offset = 0
            if total is not None and offset == total and offset > 0:
                break  # complete (an earlier run got every byte)
            if hashed != offset:
                digest, hashed = _hash_prefix(part, offset), offset
            headers = {}
            if offset:
                headers["Range"] = f"bytes={offset}-"
                if remote.etag and not remote.etag.startswith("W/"):
                    headers["If-Range"] = remote.etag  # a changed file comes back whole (200)
            try:
                response = self._request("GET", url, headers)
                try:
                    status = response.status
                    if status == 206 and offset:
                        span = _content_range(response.headers.get("Content-Range"))
                        if span is None or span[0] != offset:
                            raise _Retry(f"Content-Range {response.headers.get('Content-Range')!r} for byte {offset}")
                        total = span[2] if span[2] is not None else total
                        result.resumes += 1
                        logger.info("Resuming %s at byte %d of %s", url, offset, total)
                        mode = "ab"
                    elif status == 200:
                        if offset:
                            logger.warning("%s: Range not honoured (or the file changed): starting over", url)
                            result.restarts += 1
                        offset, digest, hashed, mode = 0, hashlib.md5(usedforsecurity=False), 0, "wb"
                        length = response.headers.get("Content-Length")
                        total = int(length) if length and length.isdigit() else total
                    elif status == 416:
                        part.unlink(missing_ok=True)
                        raise _Retry("HTTP 416")
                    elif status in RETRY_STATUSES:
                        raise _Retry(f"HTTP {status}")
                    else:
                        raise StreamFailed(f"HTTP {status} for {url}")
                    with part.open(mode) as out:
                        while chunk := response.read1(self.chunk_size):
                            out.write(chunk)
                            digest.update(chunk)
                            hashed += len(chunk)
                            result.received += len(chunk)
                            if self.stop():
                                raise StreamCancelled("crawl stopping")
                except BaseException:
                    response.close()
                    raise
                response.release_conn()
                size = part.stat().st_size
                if total is None or size == total:
                    break
                raise _Retry(f"short body: {size} of {total} bytes")
            except (_Retry, urllib3.exceptions.HTTPError, http.client.HTTPException, OSError) as exc:
                attempt += 1
                self._pause(attempt, url, exc)
        size = part.stat().st_size
        if hashed != size:
            digest = _hash_prefix(part, size)
        result.size, result.md5 = size, digest.hexdigest()
        return result


def _hash_prefix(part: Path, length: int) -> Any:
    """MD5 state of the first ``length`` bytes of ``part`` (to continue a
    resumed download's checksum)."""
    digest = hashlib.md5(usedforsecurity=False)
    if length <= 0:
        return digest
    left = length
    with part.open("rb") as f:
        while left and (chunk := f.read(min(1 << 20, left))):
            digest.update(chunk)
            left -= len(chunk)
    return digest


def discard_part(part: Path) -> None:
    part.unlink(missing_ok=True)
    part.with_name(part.name + ".json").unlink(missing_ok=True)


class LocalStreamStore:
    """A folder.  The MD5 of each streamed file is kept beside it
    (``<file>.md5``) so a re-run need not re-read gigabytes to know it."""

    def __init__(self, root: Path):
        self.root = root

    def stat(self, path: str) -> Stored | None:
        target = self.root / path
        try:
            info = target.stat()
        except OSError:
            return None
        sidecar = target.with_name(target.name + ".md5")
        checksum = sidecar.read_text().split()[0] if sidecar.exists() else None
        return Stored(info.st_size, info.st_mtime, checksum)

    def put(self, local: Path, path: str, checksum: str, size: int) -> None:
        target = self.root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.replace(local, target)  # same file system: a rename, no copy
        except OSError:
            shutil.move(str(local), target)
        target.with_name(target.name + ".md5").write_text(f"{checksum}  {target.name}\n")

    def read(self, path: str) -> bytes | None:
        try:
            return (self.root / path).read_bytes()
        except FileNotFoundError:
            return None


class S3StreamStore:
    """``s3://bucket/prefix/`` through boto3's multipart upload (parts of
    ``part_size`` bytes, ``threads`` at a time: memory ≈ part_size × threads).
    The MD5 of the whole file is stored as object metadata (``md5``): an S3
    multipart ETag is not one."""

    def __init__(self, uri: str, settings: Any, part_size: int, threads: int):
        import boto3
        from boto3.s3.transfer import TransferConfig

        if not uri.startswith("s3://") or "/" not in uri[5:]:
            raise NotConfigured(f"bad FILES_STORE {uri!r}: use s3://bucket/prefix/ (trailing slash)")
        self.bucket, self.prefix = uri[5:].split("/", 1)
        self.acl = settings.get("FILES_STORE_S3_ACL") or "private"
        options: dict[str, Any] = {}
        if settings.get("AWS_USE_SSL") is not None:
            options["use_ssl"] = settings.getbool("AWS_USE_SSL")
        if settings.get("AWS_VERIFY") is not None:
            options["verify"] = settings.get("AWS_VERIFY")
        # Credentials come from settings/environment only and are never logged.
        self.client = boto3.client(
            "s3", endpoint_url=settings.get("AWS_ENDPOINT_URL") or None,
            aws_access_key_id=settings.get("AWS_ACCESS_KEY_ID") or None,
            aws_secret_access_key=settings.get("AWS_SECRET_ACCESS_KEY") or None,
            aws_session_token=settings.get("AWS_SESSION_TOKEN") or None,
            region_name=settings.get("AWS_REGION_NAME") or None, **options)
        self.transfer = TransferConfig(multipart_threshold=part_size, multipart_chunksize=part_size,
                                       max_concurrency=threads, use_threads=threads > 1)

    def stat(self, path: str) -> Stored | None:
        from botocore.exceptions import ClientError

        try:
            head = self.client.head_object(Bucket=self.bucket, Key=self.prefix + path)
        except ClientError:
            return None
        etag = Remote(etag=head.get("ETag")).md5
        checksum = (head.get("Metadata") or {}).get("md5") or etag
        return Stored(head["ContentLength"], head["LastModified"].timestamp(), checksum)

    def put(self, local: Path, path: str, checksum: str, size: int) -> None:
        key = self.prefix + path
        extra = {"Metadata": {"md5": checksum}, "ACL": self.acl}
        if size < self.transfer.multipart_threshold:
            # One PUT, streamed from the file; its ETag is the MD5: verified.
            with local.open("rb") as body:
                etag = self.client.put_object(Bucket=self.bucket, Key=key, Body=body, **extra).get("ETag")
            if Remote(etag=etag).md5 not in (None, checksum):
                raise StreamFailed(f"S3 object {key}: ETag {etag} does not match MD5 {checksum}")
        else:
            self.client.upload_file(str(local), self.bucket, key, Config=self.transfer, ExtraArgs=extra)
            head = self.client.head_object(Bucket=self.bucket, Key=key)
            if head["ContentLength"] != size:
                raise StreamFailed(f"S3 object {key} has {head['ContentLength']} bytes, expected {size}")
        local.unlink(missing_ok=True)

    def read(self, path: str) -> bytes | None:
        from botocore.exceptions import ClientError

        try:
            return self.client.get_object(Bucket=self.bucket, Key=self.prefix + path)["Body"].read()
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                return None
            raise


def read_stored_file(files_store: str, path: str, settings: Any) -> bytes | None:
    """The bytes of a file the media pipelines stored at ``path`` (a
    ``media_files.path``) under ``files_store`` (a folder or
    ``s3://bucket/prefix/``), or None when it is not there: small files only
    (it is read whole)."""
    if files_store.startswith("s3://"):
        return S3StreamStore(files_store, settings, part_size=5 << 20, threads=1).read(path)
    return LocalStreamStore(Path(files_store)).read(path)


@dataclass
class _Job:
    url: str
    path: str
    result: dict[str, Any] | None = None
    fetched: Fetched | None = None
    error: str | None = None
    counters: dict[str, int] = field(default_factory=dict)


class StreamingFilesPipeline:
    """Large files of an item (``file_urls`` entries whose path ends in one of
    ``MEDIA_STREAM_EXTENSIONS``), streamed to FILES_STORE.  See the module
    docstring; settings ``MEDIA_STREAM_*``."""

    def __init__(self, crawler: Crawler):
        settings = crawler.settings
        if not settings.getbool("MEDIA_ENABLED", True):
            raise NotConfigured("MEDIA_ENABLED is off")
        uri = settings.get("FILES_STORE")
        if not uri:
            raise NotConfigured("FILES_STORE is not set")
        self.crawler = crawler
        self.stats = crawler.stats
        self.extensions = tuple(e.lower() for e in settings.getlist("MEDIA_STREAM_EXTENSIONS", [".zip"]))
        self.concurrency = max(1, settings.getint("MEDIA_STREAM_CONCURRENCY", 2))
        self.expires = settings.getfloat("FILES_EXPIRES", 90) * 86400
        part_size = max(5, settings.getint("MEDIA_STREAM_PART_SIZE_MB", 16)) << 20  # S3's minimum part is 5 MB
        threads = max(1, settings.getint("MEDIA_STREAM_UPLOAD_THREADS", 4))
        self._store: LocalStreamStore | S3StreamStore | None = None
        self._store_args = (str(uri), settings, part_size, threads)
        self._store_lock = threading.Lock()
        if str(uri).startswith("s3://"):
            default_temp = Path("data/partial")
        else:
            default_temp = Path(uri) / ".partial"  # same file system: finished files are renamed, not copied
        self.temp_dir = Path(settings.get("MEDIA_STREAM_TEMP_DIR") or default_temp)
        self.streamer = FileStreamer(
            chunk_size=max(64 << 10, settings.getint("MEDIA_STREAM_CHUNK_KB", 1024) << 10),
            timeout=settings.getfloat("MEDIA_STREAM_TIMEOUT", 60),
            retry_times=settings.getint("MEDIA_STREAM_RETRY_TIMES", 10),
            backoff_base=settings.getfloat("RETRY_BACKOFF_BASE", 1.0),
            backoff_max=settings.getfloat("RETRY_BACKOFF_MAX", 60.0),
            host_delay=settings.getfloat("MEDIA_STREAM_HOST_DELAY", 1.0),
            user_agent=settings.get("USER_AGENT"), stop=self._stopping)
        self._closing = False
        self._executor: ThreadPoolExecutor | None = None
        self._semaphore: asyncio.Semaphore | None = None
        self._tasks: dict[str, asyncio.Future[_Job]] = {}

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> StreamingFilesPipeline:
        return cls(crawler)

    @property
    def store(self) -> LocalStreamStore | S3StreamStore:
        """Made on first use: crawls without large files never load boto3."""
        with self._store_lock:
            if self._store is None:
                uri, settings, part_size, threads = self._store_args
                self._store = S3StreamStore(uri, settings, part_size, threads) if uri.startswith("s3://") \
                    else LocalStreamStore(Path(uri))
            return self._store

    def open_spider(self, spider: Any = None) -> None:
        self._executor = ThreadPoolExecutor(max_workers=self.concurrency, thread_name_prefix="media-stream")

    def close_spider(self, spider: Any = None) -> None:
        self._closing = True
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)

    def _stopping(self) -> bool:
        """The crawl is closing (Ctrl-C, a stop for a lost database, …):
        downloads stop and keep their part files for the next run."""
        if self._closing:
            return True
        engine = self.crawler.engine
        if engine is None:
            return False
        slot = getattr(engine, "_slot", None)
        return not engine.running or (slot is not None and getattr(slot, "closing", None) is not None)

    def wants(self, url: str) -> bool:
        return urlparse_path(url).lower().endswith(self.extensions)

    async def process_item(self, item: Any, spider: Any = None) -> Any:
        # Hot path (10^5 comments, edges): one attribute read, no adapter.
        urls = item.get("file_urls") if isinstance(item, dict) else getattr(item, "file_urls", None)
        if not urls:
            return item
        large = [u for u in urls if self.wants(u)]
        if not large:
            return item
        adapter = ItemAdapter(item)
        adapter["file_urls"] = [u for u in urls if u not in large]
        owner = getattr(item, "table", None)
        filename = getattr(item, "filename", None)
        jobs = await asyncio.gather(*(self._job(url, media_path(url, owner, filename)) for url in large))
        results = [job.result for job in jobs if job.result]
        for job in jobs:
            if job.error:
                logger.warning("Large file not stored for %s: %s (%s)", owner or "item", job.url, job.error)
        if results:
            adapter["files"] = list(adapter.get("files") or []) + results
            note_stored_path(item)
        return item

    async def _job(self, url: str, path: str) -> _Job:
        """One download per URL per crawl, however many items name it."""
        task = self._tasks.get(url)
        if task is None:
            task = asyncio.ensure_future(self._run(url, path))
            self._tasks[url] = task
        return await asyncio.shield(task)

    async def _run(self, url: str, path: str) -> _Job:
        if self._semaphore is None:
            self._semaphore = asyncio.Semaphore(self.concurrency)
        if self._executor is None:
            self.open_spider()
        job = _Job(url, path)
        async with self._semaphore:
            loop = asyncio.get_running_loop()
            await loop.run_in_executor(self._executor, self._work, job)
        for key, n in job.counters.items():
            self.stats.inc_value(f"soundscraping/media/stream/{key}", n)
        return job

    def _work(self, job: _Job) -> None:
        """Blocking: HEAD, up-to-date check, fetch, verify, store."""
        started = time.monotonic()
        try:
            remote = self.streamer.head(job.url)
            stored = self.store.stat(job.path)
            if (stored is not None and stored.checksum and time.time() - stored.modified < self.expires
                    and (remote.size is None or stored.size == remote.size)):
                job.result = {"url": job.url, "path": job.path, "checksum": stored.checksum, "status": "uptodate"}
                job.counters["uptodate"] = 1
                return
            part = self.temp_dir / (hashlib.sha1(job.url.encode()).hexdigest() + ".part")  # noqa: S324
            logger.info("Streaming %s (%s) to %s", job.url,
                        f"{remote.size / 1e6:.1f} MB" if remote.size is not None else "size unknown", job.path)
            fetched = self.streamer.fetch(job.url, part, remote)
            if remote.md5 and fetched.md5 != remote.md5:
                # A corrupt part (e.g. from a crashed run): once more from zero.
                logger.warning("Checksum mismatch for %s (%s, server says %s): downloading again", job.url,
                               fetched.md5, remote.md5)
                job.counters["checksum_mismatch"] = 1
                discard_part(part)
                again = self.streamer.fetch(job.url, part, remote)
                again.restarts += fetched.restarts + 1
                again.received += fetched.received
                fetched = again
                if fetched.md5 != remote.md5:
                    discard_part(part)
                    raise StreamFailed(f"checksum {fetched.md5} does not match the server's {remote.md5}")
            self.store.put(part, job.path, fetched.md5, fetched.size)
            discard_part(part)
            job.fetched = fetched
            job.result = {"url": job.url, "path": job.path, "checksum": fetched.md5, "status": "downloaded"}
            seconds = time.monotonic() - started
            job.counters.update(downloaded=1, bytes=fetched.received, resumed=fetched.resumes,
                                restarted=fetched.restarts)
            logger.info("Stored %s (%.1f MB in %.1f s%s)", job.path, fetched.size / 1e6, seconds,
                        f", resumed {fetched.resumes}×" if fetched.resumes else "")
        except StreamCancelled:
            job.error = "crawl stopped; the part file is kept and resumed next time"
            job.counters["cancelled"] = 1
        except Exception as exc:  # one file's failure must not stop the crawl
            job.error = f"{type(exc).__name__}: {exc}"
            job.counters["failed"] = 1
            with contextlib.suppress(Exception):
                logger.debug("Streaming failure details", exc_info=True)
