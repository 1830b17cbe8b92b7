"""The watchdog: a crawl that neither receives a response nor produces an
item for ``WATCHDOG_SECONDS`` is stuck (a lock never released, a server that
holds connections open, a pipeline waiting for ever) and is closed with
reason ``stalled`` (exit 1) instead of logging "Crawled 0 pages" for days.

Scrapy's close waits for the requests in flight, and a stuck one may never
end.  If the close has not finished ``WATCHDOG_SECONDS`` later, the spider is
declared closed (``spider_closed`` is sent, so the stats file says
``stalled``) and the process exits with code 1: Twisted's own shutdown
would wait for those requests too.  Rows are not at risk: the store pipeline
writes every few seconds (STORAGE_FLUSH_SECONDS).

Work that makes progress without responses or items (a large file streamed
on a worker thread) calls ``keep_alive(crawler)``; it is thread-safe.

The watchdog is also the one clock of "when did this crawl last produce an
item": the periodic monitor (soundscraping.monitoring, ``MONITOR_NO_ITEM_SECONDS``)
reads ``seconds_since_item()`` and, when it fails, closes the crawl through
``stall()``, the same close as a stuck crawl's (reason ``no_new_items``)."""

from __future__ import annotations

import asyncio
import logging
import os
import time
from typing import Any

from scrapy import signals
from scrapy.crawler import Crawler

from soundscraping.item_outcomes import ItemOutcomes

logger = logging.getLogger(__name__)


class Watchdog:
    def __init__(self, crawler: Crawler, seconds: float, clock: Any = time.monotonic):
        self.crawler = crawler
        self.seconds = seconds  # 0 = no stuck-crawl check (the clocks still run)
        self.clock = clock
        self.last_activity = self.last_item = clock()
        self._task: asyncio.Task[None] | None = None
        self._closing: asyncio.Future[None] | None = None
        self._closed = False
        crawler.signals.connect(self.alive, signal=signals.response_received)
        outcomes = ItemOutcomes.for_crawler(crawler)
        outcomes.on_done(self.alive)
        outcomes.on_scraped(self.item_scraped)
        crawler.signals.connect(self.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Watchdog:
        return cls(crawler, max(0.0, crawler.settings.getfloat("WATCHDOG_SECONDS", 300)))

    def alive(self, *args: Any, **kwargs: Any) -> None:
        self.last_activity = self.clock()

    def item_scraped(self, *args: Any, **kwargs: Any) -> None:
        self.last_item = self.clock()

    def seconds_since_item(self) -> float:
        """Seconds since the last scraped item (or since the spider opened)."""
        return self.clock() - self.last_item

    def spider_opened(self, spider: Any) -> None:
        self.alive()
        self.last_item = self.clock()
        if self.seconds > 0:
            self._task = asyncio.ensure_future(self._watch())

    def spider_closed(self, spider: Any, reason: str) -> None:
        self._closed = True
        if self._task is not None and self._task is not asyncio.current_task():
            self._task.cancel()

    async def _watch(self) -> None:
        while True:
            quiet = self.clock() - self.last_activity
            if quiet < self.seconds:
                await asyncio.sleep(self.seconds - quiet)
                continue
            self.crawler.stats.set_value("soundscraping/watchdog/stalled_after_seconds", round(quiet))
            logger.error("No response and no item for %.0f s (WATCHDOG_SECONDS=%g): the crawl is stuck; closing it "
                         "as stalled", quiet, self.seconds)
            self.stall("stalled", self.seconds)  # its own task: closing cancels this one
            return

    @property
    def closing(self) -> bool:
        """True once ``stall()`` has started closing the crawl."""
        return self._closing is not None

    def stall(self, reason: str, grace: float) -> asyncio.Future[None]:
        """Close the crawl with ``reason``; if the close has not finished
        ``grace`` seconds later (stuck requests), declare it closed and exit 1.
        Called once: later calls return the close already under way."""
        if self._closing is None:
            self._closing = asyncio.ensure_future(self._stall(reason, grace))
        return self._closing

    async def _stall(self, reason: str, grace: float) -> None:
        assert self.crawler.engine is not None
        closing = asyncio.ensure_future(self.crawler.engine.close_spider_async(reason=reason))
        await asyncio.wait({closing}, timeout=grace)
        if not self._closed:
            self._abandon_stuck_requests(reason, grace)

    def _abandon_stuck_requests(self, reason: str, grace: float) -> None:
        logger.error("The stuck requests did not end within %g s of closing; stopping the crawl without them",
                     grace)
        # Not the async send: some handlers would wait for the stuck requests too.
        self.crawler.signals.send_catch_log(signal=signals.spider_closed, spider=self.crawler.spider,
                                            reason=reason)
        logging.shutdown()  # flush the log file
        os._exit(1)


def keep_alive(crawler: Crawler) -> None:
    """Tell the watchdog the crawl is making progress (any thread)."""
    try:
        watchdog = crawler.get_extension(Watchdog)
    except (AttributeError, RuntimeError):  # not a full crawler (unit tests), or extensions not built yet
        return
    if watchdog is not None:
        watchdog.alive()
