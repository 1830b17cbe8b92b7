"""Helpers for the distributed-mode tests: a Redis job of their own on the
shared server (db 7, a prefix unique to the test, its keys deleted after:
never a FLUSHDB), and N ``scrapy crawl`` workers of one job."""

from __future__ import annotations

import contextlib
import os
import subprocess
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import redis

from tests.crawl import CrawlResult, finish, start_crawl, wait_until

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/7")


@dataclass
class RedisJob:
    url: str
    prefix: str
    client: Any

    @property
    def settings(self) -> dict[str, str]:
        return {"REDIS_URL": self.url, "REDIS_KEY_PREFIX": self.prefix}

    def key(self, spider: str, name: str) -> str:
        return f"{self.prefix}:{spider}:{name}"

    def keys(self) -> list[str]:
        return sorted(self.client.scan_iter(match=f"{self.prefix}:*", count=1000))

    def delete(self) -> None:
        if keys := self.keys():
            self.client.delete(*keys)


def redis_job() -> Iterator[RedisJob]:
    client = redis.Redis.from_url(REDIS_URL, decode_responses=True)
    client.ping()
    job = RedisJob(REDIS_URL, f"test-{uuid.uuid4().hex[:10]}", client)
    yield job
    job.delete()
    client.close()


def run_workers(n: int, spider: str, workdir: Path, *, args: Mapping[str, str], settings: Mapping[str, Any],
                env: Mapping[str, str], timeout: float = 180) -> list[CrawlResult]:
    """``n`` workers of one job, started together, each to its end."""
    started = [start_crawl(spider, workdir, args=args, settings=settings, env=env, run=f"worker{i}")
               for i in range(n)]
    return [finish(*worker, timeout=timeout) for worker in started]


class PrivateRedis(str):
    """The URL of a redis-server this test started (and may stop)."""

    process: subprocess.Popen[bytes]

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(30)


@contextlib.contextmanager
def private_redis(workdir: Path) -> Iterator[PrivateRedis]:
    """A redis-server of the test's own (no persistence), on a free port."""
    from tests.conftest import free_port

    port = free_port()
    process = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                                "--appendonly", "no", "--dir", str(workdir)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = PrivateRedis(f"redis://127.0.0.1:{port}/0")
    url.process = process
    client = redis.Redis.from_url(url)

    def up() -> bool:
        try:
            return bool(client.ping())
        except redis.RedisError:
            return False

    try:
        wait_until(up, "the private redis-server answers", timeout=30)
        yield url
    finally:
        client.close()
        if process.poll() is None:
            url.stop()
