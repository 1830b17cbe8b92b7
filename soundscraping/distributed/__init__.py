"""Distributed mode: with ``REDIS_URL`` set, any number of ``scrapy crawl``
processes started with the same arguments share one job through Redis.

- Scheduling and request dupefiltering are scrapy-redis's
  (``scheduler.WorkerScheduler``, ``dupefilter.ClientIdFreeDupeFilter``).
- The units of work (a graph account, an artist, a Beatport search, a forum
  list or thread; ``shared_units``) are claimed from a Redis
  queue with a lease (``workqueue``): one atomic Lua step takes the best unit
  and records the lease's deadline; a worker that dies stops renewing, its
  lease expires and the next claim puts the unit back.  A unit is finished
  only once its rows are committed (``leases.LeaseKeeper``), so a kill loses
  nothing: the unit is redone, and the upserts make that idempotent.

Every key lives under ``REDIS_KEY_PREFIX:<spider>:`` (one job per prefix and
spider); ``soundscraping frontier status|reset`` reads and clears them.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from typing import Any
from urllib.parse import urlparse

from redis.exceptions import RedisError
from scrapy.settings import BaseSettings

logger = logging.getLogger(__name__)

__all__ = ["REDIS_UNAVAILABLE", "UNITS_OFFERED", "RedisError", "client", "enabled", "job_key", "lost_redis",
           "worker_id"]

# The finish reason (exit 1, soundscraping.outcome) of a worker that lost Redis.
REDIS_UNAVAILABLE = "redis_unavailable"
# Units a worker found while crawling and offered to the job (a forum list's threads).
UNITS_OFFERED = "soundscraping/distributed/units_offered"


def enabled(settings: BaseSettings) -> bool:
    return bool(settings.get("REDIS_URL"))


def job_key(settings: BaseSettings, spider: str, *parts: str) -> str:
    """``<REDIS_KEY_PREFIX>:<spider>:<parts...>``: the keys of one job."""
    return ":".join((settings.get("REDIS_KEY_PREFIX") or "soundscraping", spider, *parts))


def worker_id(settings: BaseSettings) -> str:
    """Who holds a lease: DISTRIBUTED_WORKER_ID, else host:pid."""
    return settings.get("DISTRIBUTED_WORKER_ID") or f"{socket.gethostname()}:{os.getpid()}"


def mask_redis_url(url: str) -> str:
    parsed = urlparse(url)
    if parsed.password:
        return parsed._replace(netloc=parsed.netloc.replace(f":{parsed.password}@", ":***@")).geturl()
    return url


def client(settings: BaseSettings) -> Any:
    """A client for the job's own structures (text replies).  The request
    queue keeps scrapy-redis's own (binary: pickled requests)."""
    import redis

    return redis.Redis.from_url(settings.get("REDIS_URL"), decode_responses=True,
                                socket_timeout=settings.getfloat("REDIS_SOCKET_TIMEOUT", 10),
                                socket_connect_timeout=settings.getfloat("REDIS_SOCKET_TIMEOUT", 10))


def lost_redis(crawler: Any, exc: BaseException) -> None:
    """One clear line, then the crawl closes as ``redis_unavailable`` (exit 1).
    Rows already read are still flushed to the database; the units in hand
    keep their leases, which expire, so other workers redo them."""
    stats = crawler.stats
    if stats.get_value("soundscraping/distributed/redis_lost"):
        return
    stats.set_value("soundscraping/distributed/redis_lost", 1)
    first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    logger.error("Lost Redis at %s (%s): stopping this worker; its leased units will be redone by others",
                 mask_redis_url(crawler.settings.get("REDIS_URL")), first)
    engine = crawler.engine
    if engine is not None and engine.spider is not None:
        task = asyncio.ensure_future(engine.close_spider_async(reason=REDIS_UNAVAILABLE))
        _closing.add(task)  # a reference until it is done
        task.add_done_callback(_closing.discard)


_closing: set[asyncio.Future[None]] = set()
