"""A spider's units of work shared by the workers of a distributed job.

The part every unit-sharing spider has in common (soundcloud_artists,
beatport_tracks, cambridge_forum): the job's ``WorkQueue``, a ``LeaseKeeper``
that finishes a unit once its ``crawl_units`` row is committed (the row the
store pipeline writes behind the unit's last rows, soundscraping.units), and
the claim / poll / idle loop:

- ``start(units)`` offers the units the worker knows of (in order, best
  first; offering is idempotent: a unit already queued, leased or done is
  left alone), then claims the first few;
- ``offer(units)`` adds units found while crawling (a forum page's threads);
- every ``DISTRIBUTED_POLL_SECONDS`` and when Scrapy goes idle the worker
  claims more, until ``DISTRIBUTED_UNITS_IN_HAND`` are under way here;
- a worker with nothing in hand stays up while any worker holds a lease (it
  may add units, or die: its lease expires and the next claim puts the unit
  back, attempt > 1, which the spider redoes bypassing the shared dupefilter).

The spider says how to start a claimed unit (``requests_for``: its first
requests, each counted for the unit by the spider, as its callbacks count
them answered: soundscraping.units).  A unit may carry a payload (JSON)
offered with it, for a unit whose first request needs what the worker that
found it read (a forum thread's list row, a track's title to search)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from scrapy import Request, signals
from scrapy.exceptions import DontCloseSpider

from soundscraping import distributed
from soundscraping.distributed.leases import LeaseKeeper
from soundscraping.distributed.workqueue import WorkQueue
from soundscraping.units import UnitTracker

# How a spider starts a claimed unit: (unit, payload or None, redo) -> requests.
RequestsFor = Callable[[str, Any, bool], Iterable[Request]]


class SharedUnits:
    def __init__(self, spider: Any, requests_for: RequestsFor):
        crawler = spider.crawler
        settings = crawler.settings
        self.crawler = crawler
        self.requests_for = requests_for
        self.in_hand = settings.getint("DISTRIBUTED_UNITS_IN_HAND", 4)
        self.queue = WorkQueue(distributed.client(settings), distributed.job_key(settings, spider.name),
                               distributed.worker_id(settings), settings.getfloat("DISTRIBUTED_LEASE_SECONDS", 120))
        name = spider.name
        self.leases = LeaseKeeper(crawler, self.queue, "crawl_units", "unit", poll=self.poll,
                                  row_filter=lambda row: row[0] == name)
        UnitTracker.for_crawler(crawler).sinks.append(self.leases.done)
        crawler.signals.connect(self.on_idle, signal=signals.spider_idle)
        self.started = False

    @classmethod
    def for_spider(cls, spider: Any, requests_for: RequestsFor) -> SharedUnits | None:
        """The spider's shared units in distributed mode (REDIS_URL), else None."""
        return cls(spider, requests_for) if distributed.enabled(spider.crawler.settings) else None

    # -- offering ------------------------------------------------------------------

    def offer(self, units: Sequence[str], payloads: Sequence[Any] | None = None, score: float = 0.0,
              ranked: bool = False, found: bool = True) -> bool:
        """Queue ``units`` (with ``ranked``, in the order given, first best;
        else all at ``score``); payloads, when given, are kept once per unit
        (the first offer's).  ``found``: units this worker's crawl found
        (counted: UNITS_OFFERED), not the job's start list.  False when Redis
        is lost (already reported)."""
        if not units:
            return True
        try:
            if payloads is not None:
                with self.queue.redis.pipeline(transaction=False) as pipe:
                    for unit, payload in zip(units, payloads, strict=True):
                        pipe.hsetnx(self.queue.key("payload"), unit, json.dumps(payload))
                    pipe.execute()
            scored = [(unit, -rank if ranked else score) for rank, unit in enumerate(units)]
            self.queue.offer(scored)
        except distributed.RedisError as exc:
            distributed.lost_redis(self.crawler, exc)
            return False
        if found:
            self.crawler.stats.inc_value(distributed.UNITS_OFFERED, len(units))
        return True

    async def start(self, units: Sequence[str] = (), payloads: Sequence[Any] | None = None) -> list[Request]:
        """Offer the units this worker knows of, in order, then claim."""
        if not await asyncio.to_thread(self.offer, list(units), payloads, ranked=True, found=False):
            return []
        self.leases.start()
        self.started = True
        return self.claim_more()

    # -- claiming ------------------------------------------------------------------

    def under_way(self) -> set[str]:
        """Units claimed here whose rows are not all written yet."""
        return self.leases.held - self.leases.awaiting_commit

    def claim_more(self) -> list[Request]:
        """Claim units until DISTRIBUTED_UNITS_IN_HAND are under way here."""
        want = self.in_hand - len(self.under_way())
        if want <= 0:
            return []
        try:
            claims, expired = self.queue.claim(want)
            payloads = (self.queue.redis.hmget(self.queue.key("payload"), [c.unit for c in claims])
                        if claims else [])
        except distributed.RedisError as exc:
            distributed.lost_redis(self.crawler, exc)
            return []
        if expired:
            self.crawler.stats.inc_value("soundscraping/distributed/expired_leases_requeued", expired)
        units = UnitTracker.for_crawler(self.crawler)
        requests: list[Request] = []
        for claim, payload in zip(claims, payloads, strict=True):
            self.leases.claimed(claim.unit)
            redo = claim.attempt > 1
            if redo:
                self.crawler.stats.inc_value("soundscraping/distributed/reclaimed_units")
            # Held open while the spider counts the unit's first requests; a
            # unit that needs none is finished at once.
            units.request_sent(claim.unit)
            try:
                requests.extend(self.requests_for(claim.unit, json.loads(payload) if payload else None, redo))
            finally:
                units.request_done(claim.unit)
        return requests

    def poll(self) -> None:
        engine = self.crawler.engine
        if self.started and engine is not None and engine.spider:
            for request in self.claim_more():
                engine.crawl(request)

    def on_idle(self) -> None:
        self.poll()
        if self.waiting_for_work() or self.under_way():
            raise DontCloseSpider

    def waiting_for_work(self) -> bool:
        """Units leased by any worker may still add work or expire."""
        if not self.started:
            return False
        try:
            return self.queue.outstanding() > 0
        except distributed.RedisError as exc:
            distributed.lost_redis(self.crawler, exc)
            return False
