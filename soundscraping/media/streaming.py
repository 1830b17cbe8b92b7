"""Large files of an item (multitrack ZIPs up to 2.2 GB, uncompressed
audio), streamed to FILES_STORE on a small thread pool: HEAD, an up-to-date
check against the store, the fetch (``media.http``), verification, the store
(``media.stores``).  Memory stays flat whatever the size."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from itemadapter import ItemAdapter
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured

from soundscraping.crawl_state import crawl_closing
from soundscraping.host_gate import GateClosed, HostGate
from soundscraping.media.errors import FileNotStored, count_not_stored
from soundscraping.media.http import Fetched, FileStreamer, StreamCancelled, StreamFailed, discard_part
from soundscraping.media.paths import media_path, note_stored_path, urlparse_path
from soundscraping.media.stores import StreamStore, store_class
from soundscraping.watchdog import keep_alive

logger = logging.getLogger(__name__)


@dataclass
class _Job:
    url: str
    path: str
    result: dict[str, Any] | None = None
    fetched: Fetched | None = None
    error: str | None = None
    not_stored: FileNotStored | None = None  # fetched (in part) but could not be written
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
        self._store_class = store_class(str(uri))  # a bad FILES_STORE fails at start, not at the first file
        self._store: StreamStore | None = None
        self._store_args = (str(uri), settings)
        self._store_lock = threading.Lock()
        default_temp = self._store_class.partial_dir(str(uri))
        self.temp_dir = Path(settings.get("MEDIA_STREAM_TEMP_DIR") or default_temp)
        self.streamer = FileStreamer(
            chunk_size=max(64 << 10, settings.getint("MEDIA_STREAM_CHUNK_KB", 1024) << 10),
            timeout=settings.getfloat("MEDIA_STREAM_TIMEOUT", 60),
            retry_times=settings.getint("MEDIA_STREAM_RETRY_TIMES", 10),
            backoff_base=settings.getfloat("RETRY_BACKOFF_BASE", 1.0),
            backoff_max=settings.getfloat("RETRY_BACKOFF_MAX", 60.0),
            host_delay=settings.getfloat("MEDIA_STREAM_HOST_DELAY", 1.0),
            user_agent=settings.get("USER_AGENT"), stop=self._stopping, progress=lambda: keep_alive(crawler))
        self.gate = HostGate.for_crawler(crawler)
        self._closing = False
        self._executor: ThreadPoolExecutor | None = None
        self._semaphore: asyncio.Semaphore | None = None
        self._tasks: dict[str, asyncio.Future[_Job]] = {}

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> StreamingFilesPipeline:
        return cls(crawler)

    @property
    def store(self) -> StreamStore:
        """Made on first use: crawls without large files never load boto3."""
        with self._store_lock:
            if self._store is None:
                self._store = self._store_class(*self._store_args)
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
        return self._closing or crawl_closing(self.crawler)

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
        if job.not_stored is not None:
            count_not_stored(self.stats, job.not_stored)
        return job

    @contextlib.contextmanager
    def _host_turn(self, url: str) -> Iterator[None]:
        """The host's one turn when it is one-at-a-time (soundscraping.host_gate)."""
        try:
            with self.gate.held(url, self._stopping):
                yield
        except GateClosed as exc:
            raise StreamCancelled(str(exc)) from None

    def _work(self, job: _Job) -> None:
        """Blocking: HEAD, up-to-date check, fetch, verify, store."""
        started = time.monotonic()
        try:
            with self._host_turn(job.url):
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
            with self._host_turn(job.url):
                fetched = self.streamer.fetch(job.url, part, remote)
            if remote.md5 and fetched.md5 != remote.md5:
                # A corrupt part (e.g. from a crashed run): once more from zero.
                logger.warning("Checksum mismatch for %s (%s, server says %s): downloading again", job.url,
                               fetched.md5, remote.md5)
                job.counters["checksum_mismatch"] = 1
                discard_part(part)
                with self._host_turn(job.url):
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
        except FileNotStored as exc:
            job.error, job.not_stored = f"{exc}; the part file is kept and resumed next time", exc
            job.counters["not_stored"] = 1
        except Exception as exc:  # one file's failure must not stop the crawl
            job.error = f"{type(exc).__name__}: {exc}"
            job.counters["failed"] = 1
            with contextlib.suppress(Exception):
                logger.debug("Streaming failure details", exc_info=True)
