"""One request at a time to a host, across the crawl's two HTTP clients.

Scrapy's downloader keeps a polite site to one page at a time (its slot's
concurrency), but large files are streamed by worker threads with their own
client (soundscraping.media.streaming), which Scrapy's slots do not see.  For
a host named in ``ONE_AT_A_TIME_HOSTS`` (URL settings, e.g. the forum's:
its attachments are the mixes it streams) both take the host's one gate:
the routing download handler around each download, the streamer around each
HEAD and each file.  Hosts not named are not gated.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from urllib.parse import urlparse

from scrapy.crawler import Crawler

from soundscraping.per_crawler import per_crawler

# How often a waiter looks again (the gate is shared with threads, so it is
# polled rather than awaited).
POLL_SECONDS = 0.01


class HostGate:
    def __init__(self, crawler: Crawler | None = None, hosts: set[str] | None = None):
        if hosts is None and crawler is not None:
            settings = crawler.settings
            hosts = {urlparse(settings.get(name) or "").netloc for name in settings.getlist("ONE_AT_A_TIME_HOSTS")}
        self.hosts = {h for h in (hosts or set()) if h}
        self._locks = {host: threading.Lock() for host in self.hosts}

    @classmethod
    def for_crawler(cls, crawler: Crawler) -> HostGate:
        return per_crawler(cls, crawler)

    def _lock_for(self, url: str) -> threading.Lock | None:
        return self._locks.get(urlparse(url).netloc) if self._locks else None

    @contextlib.asynccontextmanager
    async def turn(self, url: str) -> AsyncIterator[None]:
        """The event loop's side (a download handler)."""
        lock = self._lock_for(url)
        if lock is None:
            yield
            return
        while not lock.acquire(blocking=False):
            await asyncio.sleep(POLL_SECONDS)
        try:
            yield
        finally:
            lock.release()

    @contextlib.contextmanager
    def held(self, url: str, stop: Callable[[], bool] = lambda: False) -> Iterator[None]:
        """A worker thread's side; ``stop()`` true gives up waiting (the crawl
        is closing) with ``GateClosed``."""
        lock = self._lock_for(url)
        if lock is None:
            yield
            return
        while not lock.acquire(timeout=0.2):
            if stop():
                raise GateClosed(f"gave up waiting for {urlparse(url).netloc}: the crawl is stopping")
        try:
            yield
        finally:
            lock.release()


class GateClosed(RuntimeError):
    pass
