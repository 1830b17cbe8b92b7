"""A worker's leases, kept alive while it works and finished once the
unit's rows are in the database.

``LeaseKeeper`` renews every lease this worker holds a third of a lease
(``DISTRIBUTED_LEASE_SECONDS``) at a time, and every
``DISTRIBUTED_POLL_SECONDS`` asks the spider to claim more work (a worker
waiting for others' leases picks up an expired one without waiting for
Scrapy's 5 s idle tick).  A unit the spider is done with is finished in
Redis only when the store pipeline has committed the row that marks it
(``rows_committed``: a graph visit row, a crawl_units row), so a worker
killed between the last page and the commit loses nothing: its lease
expires and the unit is redone.  On a clean stop, leases of unfinished
units are given back at once.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any

from redis.exceptions import RedisError
from scrapy import signals

from soundscraping.distributed import lost_redis
from soundscraping.distributed.workqueue import WorkQueue
from soundscraping.pipelines import rows_committed
from soundscraping.storage import TABLES
from soundscraping.watchdog import keep_alive

logger = logging.getLogger(__name__)


class LeaseKeeper:
    def __init__(self, crawler: Any, queue: WorkQueue, table: str, column: str,
                 poll: Callable[[], None] | None = None, row_filter: Callable[[tuple[Any, ...]], bool] | None = None):
        """``table``.``column`` is the row whose commit finishes a unit;
        ``poll`` is called every poll interval (the spider claims more)."""
        self.crawler = crawler
        self.queue = queue
        self.held: set[str] = set()  # leased by this worker, rows not yet committed
        self.awaiting_commit: set[str] = set()  # done here, finished once their rows are committed
        self.table = table
        self.position = TABLES[table].column_names.index(column)
        self.row_filter = row_filter
        self.poll = poll
        settings = crawler.settings
        self.lease_seconds = settings.getfloat("DISTRIBUTED_LEASE_SECONDS", 120)
        self.poll_seconds = settings.getfloat("DISTRIBUTED_POLL_SECONDS", 1.0)
        self.storage = settings.getbool("STORAGE_ENABLED", True)
        self._task: asyncio.Task[None] | None = None
        self._progress: int | None = None
        crawler.signals.connect(self.committed, signal=rows_committed)
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.ensure_future(self._run())

    # -- the spider's side ------------------------------------------------------------

    def claimed(self, unit: str) -> None:
        self.held.add(unit)

    def done(self, unit: str) -> None:
        """The spider has emitted the unit's last rows."""
        if not self.storage:
            self._finish([unit])
        else:
            self.awaiting_commit.add(unit)

    # -- the store pipeline's side --------------------------------------------------

    def committed(self, batch: dict[str, list[tuple[Any, ...]]]) -> None:
        rows = batch.get(self.table) or ()
        units = {str(row[self.position]) for row in rows if self.row_filter is None or self.row_filter(row)}
        self._finish(units & self.awaiting_commit)

    def _finish(self, units: set[str] | list[str]) -> None:
        if not units:
            return
        try:
            self.queue.finish(units)
        except RedisError as exc:
            lost_redis(self.crawler, exc)
            return
        self.held.difference_update(units)
        self.awaiting_commit.difference_update(units)

    # -- the clock ----------------------------------------------------------------------

    async def _run(self) -> None:
        renew_every = max(self.lease_seconds / 3, 0.05)
        last_renew = time.monotonic()
        while True:
            await asyncio.sleep(min(self.poll_seconds, renew_every))
            try:
                if time.monotonic() - last_renew >= renew_every:
                    last_renew = time.monotonic()
                    if lost := self.queue.renew(self.held):
                        self.crawler.stats.inc_value("soundscraping/distributed/leases_lost", len(lost))
                        logger.warning("Leases lost (they expired before renewal; another worker may redo them): %s",
                                       ", ".join(lost[:10]))
                        self.held.difference_update(lost)
                if self.poll is not None:
                    self.poll()
                self._note_progress()
            except RedisError as exc:
                lost_redis(self.crawler, exc)
                return

    def _note_progress(self) -> None:
        """Others finishing units is progress too (for the watchdog of a
        worker that waits for their leases)."""
        done = int(self.queue.redis.scard(self.queue.key("done")))
        if done != self._progress:
            self._progress = done
            keep_alive(self.crawler)

    def spider_closed(self, spider: Any = None, reason: str = "") -> None:
        if self._task is not None:
            self._task.cancel()
        unfinished = self.held - self.awaiting_commit
        if unfinished and not self.crawler.stats.get_value("soundscraping/distributed/redis_lost"):
            try:
                self.queue.release(unfinished)
                logger.info("Gave back %d unfinished units for other workers", len(unfinished))
            except RedisError:
                pass  # their leases expire instead
