"""What became of each item, told to this project's per-item listeners
through one receiver per signal.

Scrapy (asyncio reactor, ``send_catch_log_async``) runs every receiver of
``item_scraped``, ``item_dropped`` and ``item_error`` as an asyncio task of
its own: a task, a gather slot and a few callbacks per receiver per item.
With the watchdog, the unit tracker and the coverage counter each connected
on their own, that was the largest single cost of a 10^5-comment crawl
(``make bench``: 5 receivers of ``item_scraped``, 27 % of the crawler's
profiled CPU).  ``ItemOutcomes`` connects once per signal and calls its
listeners in turn, synchronously, in the order they were added.

A listener that raises is logged the way Scrapy logs a failing receiver and
does not keep the others from running.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from scrapy import signals
from scrapy.crawler import Crawler

from soundscraping.per_crawler import per_crawler

logger = logging.getLogger(__name__)

Listener = Callable[[Any], None]


class ItemOutcomes:
    """The crawl's one receiver of each item signal (see module doc)."""

    def __init__(self, crawler: Crawler):
        self.crawler = crawler
        self._listeners: dict[object, list[Listener]] = {
            signals.item_scraped: [], signals.item_dropped: [], signals.item_error: []}
        for signal in self._listeners:
            crawler.signals.connect(self._receiver(signal), signal=signal, weak=False)

    @classmethod
    def for_crawler(cls, crawler: Crawler) -> ItemOutcomes:
        return per_crawler(cls, crawler)

    def on_scraped(self, listener: Listener) -> None:
        """``listener(item)`` once ``item`` has passed every pipeline."""
        self._listeners[signals.item_scraped].append(listener)

    def on_done(self, listener: Listener) -> None:
        """``listener(item)`` once ``item`` is through, however it ended
        (scraped, dropped by a pipeline, or failed in one)."""
        for listeners in self._listeners.values():
            listeners.append(listener)

    def _receiver(self, signal: object) -> Callable[..., None]:
        listeners = self._listeners[signal]

        def receive(item: Any, **kwargs: Any) -> None:
            for listener in listeners:
                try:
                    listener(item)
                except Exception:
                    logger.error("Error caught on item listener: %(listener)s", {"listener": listener},
                                 exc_info=True, extra={"spider": self.crawler.spider})

        return receive
