"""Units of work, for resuming a killed job where it stopped.

A spider names the request meta key that says which unit a request works
for (``unit_key = "artist"``) and decorates its callbacks with
``@unit_step``.  ``UnitTracker`` counts, per unit, the requests not yet
answered and the items not yet through the pipelines.  When both reach zero
the unit is finished: the store pipeline buffers a ``crawl_units`` row behind
the unit's last rows, so it is written in the same transaction as they are,
or a later one, never before.  A resumed job (same ``JOBDIR``) skips the
units it finished and redoes only those that were in flight.

A unit whose count goes wrong can only stay unfinished (redone on resume),
never be marked finished early: every request and item is counted before it
can complete.  After a clean stop (Ctrl-C) Scrapy resumes from its saved
queue, whose requests this process did not count: no unit is recorded as
finished in such a run (the next one after a kill redoes them).
"""

from __future__ import annotations

import functools
import inspect
import logging
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from scrapy import Request, signals
from scrapy.crawler import Crawler

from soundscraping.extensions import CLEAN_RESUME
from soundscraping.item_outcomes import ItemOutcomes
from soundscraping.per_crawler import per_crawler
from soundscraping.storage import StorageError, connected, finished_units
from soundscraping.timestamps import utc_timestamp

logger = logging.getLogger(__name__)


def job_id(crawler: Crawler) -> str | None:
    """The job units belong to: its JOBDIR (None: not a resumable job)."""
    jobdir = crawler.settings.get("JOBDIR")
    return str(Path(jobdir).resolve()) if jobdir else None


class UnitTracker:
    def __init__(self, crawler: Crawler):
        self.crawler = crawler
        self.job = job_id(crawler)
        self.requests: Counter[str] = Counter()
        self.items: Counter[str] = Counter()
        self._item_units: dict[int, list[str]] = {}
        self.finished: set[str] = set()
        # Called with each finished unit (the store pipeline registers here).
        self.sinks: list[Callable[[str], None]] = []
        ItemOutcomes.for_crawler(crawler).on_done(self._item_done)
        crawler.signals.connect(self._request_dropped, signal=signals.request_dropped)

    @classmethod
    def for_crawler(cls, crawler: Crawler) -> UnitTracker:
        return per_crawler(cls, crawler)

    def request_sent(self, unit: Any) -> None:
        if unit is not None:
            self.requests[str(unit)] += 1

    def request_done(self, unit: Any) -> None:
        if unit is not None and self.requests[str(unit)] > 0:
            self.requests[str(unit)] -= 1
            self._check(str(unit))

    def item_sent(self, unit: Any, item: Any) -> None:
        """An item of ``unit`` on its way through the pipelines (a unit with
        no request outstanding finishes when its last item is through)."""
        if unit is not None:
            self.items[str(unit)] += 1
            self._item_units.setdefault(id(item), []).append(str(unit))

    def in_flight(self, item: Any) -> bool:
        """Whether ``item`` is still on its way through the pipelines (then
        another unit whose rows include it can wait for it: ``item_sent``)."""
        return id(item) in self._item_units

    def _item_done(self, item: Any, *args: Any, **kwargs: Any) -> None:
        for unit in self._item_units.pop(id(item), ()):
            self.items[unit] -= 1
            self._check(unit)

    def _request_dropped(self, request: Request, spider: Any = None) -> None:
        key = getattr(self.crawler.spider, "unit_key", None)
        if key:
            self.request_done(request.meta.get(key))

    def _check(self, unit: str) -> None:
        if self.requests[unit] == 0 and self.items[unit] == 0 and unit not in self.finished:
            if self.crawler.stats.get_value(CLEAN_RESUME):
                return  # part of the unit's requests came from the saved queue, uncounted
            self.finished.add(unit)
            del self.requests[unit], self.items[unit]
            self.crawler.stats.inc_value("soundscraping/units/finished")
            for sink in self.sinks:
                sink(unit)


def recrawl_cutoff(recrawl_after: timedelta | None, now: datetime | None = None) -> str | None:
    """The time before which a unit's last completion makes it due again
    (None: no re-crawl rule, every unit is due)."""
    if recrawl_after is None:
        return None
    return utc_timestamp((now or datetime.now(UTC)) - recrawl_after)


def load_finished(crawler: Crawler, spider: str, recrawl_after: timedelta | None = None) -> set[str]:
    """Units to skip: those this job finished before (a resumed JOBDIR) and,
    with ``recrawl_after``, those any crawl finished more recently than that.
    Empty when neither applies, or storage is off or unreachable (then
    nothing is skipped)."""
    job, after = job_id(crawler), recrawl_cutoff(recrawl_after)
    if (job is None and after is None) or not crawler.settings.getbool("STORAGE_ENABLED", True):
        return set()
    try:
        with connected(crawler.settings.get("DATABASE_URL")) as db:
            return finished_units(db, spider, job, after)
    except StorageError as exc:
        logger.warning("Could not read the finished units of %s (%s): redoing them", job or spider, exc)
        return set()


def unit_step(callback: Callable[..., Any]) -> Callable[..., Any]:
    """Counts what a callback yields for its response's unit, and the
    response itself as answered once the callback is done (generator or
    async generator callbacks)."""

    def counted(tracker: UnitTracker, key: str, unit: Any, output: Any) -> None:
        if isinstance(output, Request):
            tracker.request_sent(output.meta.get(key))
        elif output is not None:
            tracker.item_sent(unit, output)

    if inspect.isasyncgenfunction(callback):
        @functools.wraps(callback)
        async def async_step(spider: Any, response: Any) -> AsyncIterator[Any]:
            tracker = UnitTracker.for_crawler(spider.crawler)
            unit = response.meta.get(spider.unit_key)
            try:
                async for output in callback(spider, response):
                    counted(tracker, spider.unit_key, unit, output)
                    yield output
            finally:
                tracker.request_done(unit)

        return async_step

    @functools.wraps(callback)
    def step(spider: Any, response: Any) -> Iterator[Any]:
        tracker = UnitTracker.for_crawler(spider.crawler)
        key = spider.unit_key
        unit = response.meta.get(key)
        try:
            for output in callback(spider, response):
                counted(tracker, key, unit, output)
                yield output
        finally:
            tracker.request_done(unit)

    return step
