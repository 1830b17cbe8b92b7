"""scrapy-redis's scheduler, as a worker of a distributed job uses it.

- The request queue is this worker's (``<job>:requests:<worker>``): a unit's
  bookkeeping (which lists of an account are still open, which requests of
  an artist are unanswered) lives in the process that claimed it, so its
  requests stay there.  What is shared is the units themselves (leases,
  soundscraping.distributed.workqueue) and the dupefilter.
- The dupefilter (``<job>:dupefilter``) is shared by every worker and ignores
  client_id (ClientIdFreeDupeFilter).
- Closing clears only this worker's queue: scrapy-redis's ``flush()`` would
  also delete the dupefilter every other worker is using.
- A lost Redis is one log line and a ``redis_unavailable`` close (exit 1),
  never a traceback per request.
"""

from __future__ import annotations

from typing import Any

from redis.exceptions import RedisError
from scrapy_redis import connection
from scrapy_redis.scheduler import Scheduler

from soundscraping.distributed import job_key, lost_redis, worker_id
from soundscraping.distributed.dupefilter import ClientIdFreeDupeFilter


class WorkerScheduler(Scheduler):
    @classmethod
    def from_crawler(cls, crawler: Any) -> WorkerScheduler:
        settings = crawler.settings
        server = connection.from_settings(settings)
        spider = "%(spider)s"  # scrapy-redis fills in the spider's name
        scheduler = cls(
            server=server,
            persist=True,
            queue_key=job_key(settings, spider, "requests", worker_id(settings)),
            queue_cls=settings.get("SCHEDULER_QUEUE_CLASS") or "scrapy_redis.queue.PriorityQueue",
            idle_before_close=0,
        )
        scheduler.crawler = crawler
        # scrapy-redis counts with the spider argument Scrapy deprecated: counted here instead.
        scheduler.stats = None
        return scheduler

    def open(self, spider: Any) -> None:
        if self.df is None:
            self.df = ClientIdFreeDupeFilter(self.server, key=job_key(self.crawler.settings, spider.name, "dupefilter"),
                                             debug=self.crawler.settings.getbool("DUPEFILTER_DEBUG"))
        super().open(spider)

    def close(self, reason: str) -> None:
        try:
            self.queue.clear()
        except RedisError:
            pass  # already reported; the queue is this worker's alone

    def enqueue_request(self, request: Any) -> bool:
        try:
            queued = bool(super().enqueue_request(request))
            if queued:
                self.crawler.stats.inc_value("scheduler/enqueued/redis")
            return queued
        except RedisError as exc:
            lost_redis(self.crawler, exc)
            return False

    def next_request(self) -> Any:
        try:
            request = super().next_request()
            if request is not None:
                self.crawler.stats.inc_value("scheduler/dequeued/redis")
            return request
        except RedisError as exc:
            lost_redis(self.crawler, exc)
            return None

    def has_pending_requests(self) -> bool:
        try:
            return bool(super().has_pending_requests())
        except RedisError as exc:
            lost_redis(self.crawler, exc)
            return False
