"""Retries with exponential back-off and jitter, Retry-After honoured, and a
host slowed down on 429s (through the crawl's Throttle)."""

from __future__ import annotations

import asyncio
import logging
import random
from typing import Any
from urllib.parse import urlparse

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.http import Response
from scrapy.utils.response import response_status_message

from soundscraping.middlewares.throttle import Throttle, retry_after_seconds
from soundscraping.sites import AnsweredHosts

logger = logging.getLogger(__name__)


class BackoffRetryMiddleware(RetryMiddleware):
    """Scrapy's RetryMiddleware (same settings and stats) plus exponential
    back-off with jitter.  A ``Retry-After`` header (seconds or an HTTP-date)
    is honoured: the retry and every other request to that host wait that
    long (at most RETRY_AFTER_MAX).  SoundCloud sends none with its 429s, so a
    429 also slows the whole host: its delay doubles, and decays again with
    each success (soundscraping.middlewares.throttle owns those delays)."""

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> BackoffRetryMiddleware:
        mw = super().from_crawler(crawler)
        mw.backoff_base = crawler.settings.getfloat("RETRY_BACKOFF_BASE", 1.0)
        mw.backoff_max = crawler.settings.getfloat("RETRY_BACKOFF_MAX", 60.0)
        mw.retry_after_max = crawler.settings.getfloat("RETRY_AFTER_MAX", 900.0)
        mw.first_contact_retries = crawler.settings.getint("RETRY_FIRST_CONTACT_TIMES", 2)
        mw.answered_hosts = AnsweredHosts.for_crawler(crawler)
        mw.throttle = Throttle.for_crawler(crawler)
        return mw

    async def process_response(self, request: Request, response: Response, spider: Any = None) -> Request | Response:
        self.answered_hosts.add(request.url)
        if response.status < 400:
            self.throttle.relax(request)
        if request.meta.get("dont_retry") or response.status not in self.retry_http_codes:
            return response
        retry_after = self._retry_after(request, response)
        if response.status == 429 and retry_after is None:
            delay = self.throttle.slow_down(request, floor=0.5, ceiling=self.backoff_max)
            if delay is not None:
                logger.info("429 from %s: slowing that host to one request every %.1f s",
                            urlparse(request.url).netloc, delay)
        self.crawler.stats.inc_value(f"soundscraping/retry/http_{response.status}")
        retry = self._retry(request, response_status_message(response.status))
        if retry is None:
            self.crawler.stats.inc_value(f"soundscraping/gave_up/http_{response.status}")
            return response
        await asyncio.sleep(max(self._delay(request), retry_after or 0))
        return retry

    def _retry_after(self, request: Request, response: Response) -> float | None:
        """The server's Retry-After in seconds (capped); the host is held that long."""
        seconds = retry_after_seconds(response.headers.get("Retry-After"))
        if seconds is None:
            return None
        if seconds > self.retry_after_max:
            logger.warning("%s asks to wait %.0f s (Retry-After); waiting RETRY_AFTER_MAX=%.0f s instead",
                           urlparse(request.url).netloc, seconds, self.retry_after_max)
            seconds = self.retry_after_max
        self.crawler.stats.inc_value("soundscraping/retry/retry_after_honoured")
        logger.info("HTTP %d from %s with Retry-After: no request to that host for %.1f s", response.status,
                    urlparse(request.url).netloc, seconds)
        self.throttle.hold(request, seconds)
        return seconds

    async def process_exception(self, request: Request, exception: Exception, spider: Any = None) -> Any:
        if isinstance(exception, self.exceptions_to_retry) and not request.meta.get("dont_retry"):
            host = urlparse(request.url).netloc
            if request.url not in self.answered_hosts:
                # A host that never answered is more likely misconfigured than
                # flaky: fail fast so the user hears about it within seconds.
                request.meta.setdefault("max_retry_times", self.first_contact_retries)
            retry = self._retry(request, exception)
            if retry is not None:
                delay = self._delay(request)
                logger.warning("No answer from %s (%s); retrying %s in %.1f s", host,
                               str(exception).strip() or type(exception).__name__, request.url, delay)
                await asyncio.sleep(delay)
            else:
                self.crawler.stats.inc_value(f"soundscraping/gave_up/{type(exception).__name__}")
            return retry
        return None

    def _delay(self, request: Request) -> float:
        attempt = request.meta.get("retry_times", 0)
        delay = min(self.backoff_max, self.backoff_base * 2**attempt)
        return delay * random.uniform(0.75, 1.25)  # noqa: S311 - jitter, not crypto
