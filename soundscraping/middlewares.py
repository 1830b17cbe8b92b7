"""Downloader middlewares: retry with back-off, SoundCloud client_id upkeep,
and passing anti-bot checks with a real browser (scrapy-playwright)."""

from __future__ import annotations

import asyncio
import logging
import random
from typing import Any
from urllib.parse import urlparse

import scrapy.downloadermiddlewares.cookies as scrapy_cookies
from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.http import Response
from scrapy.utils.response import response_status_message
from tldextract import TLDExtract

from soundscraping.soundcloud_api import ClientIdStore, client_id_of, masked, with_client_id

logger = logging.getLogger(__name__)

# Scrapy's cookie middleware downloads the public-suffix list on first use;
# use the snapshot bundled with tldextract instead, so a crawl never depends
# on (or waits for) publicsuffix.org.
scrapy_cookies._split_domain = TLDExtract(suffix_list_urls=(), include_psl_private_domains=True)


class BackoffRetryMiddleware(RetryMiddleware):
    """Scrapy's RetryMiddleware (same settings and stats) plus exponential
    back-off with jitter.  The real sites send no Retry-After with their 429s,
    so a 429 also slows the whole host: its download slot delay doubles, and
    decays again with each success."""

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> BackoffRetryMiddleware:
        mw = super().from_crawler(crawler)
        mw.backoff_base = crawler.settings.getfloat("RETRY_BACKOFF_BASE", 1.0)
        mw.backoff_max = crawler.settings.getfloat("RETRY_BACKOFF_MAX", 60.0)
        mw.base_delay = crawler.settings.getfloat("DOWNLOAD_DELAY", 0.0)
        return mw

    async def process_response(self, request: Request, response: Response, spider: Any = None) -> Request | Response:
        if response.status < 400:
            self._relax(request)
        if request.meta.get("dont_retry") or response.status not in self.retry_http_codes:
            return response
        if response.status == 429:
            self._slow_down(request)
        self.crawler.stats.inc_value(f"soundscraping/retry/http_{response.status}")
        retry = self._retry(request, response_status_message(response.status))
        if retry is None:
            self.crawler.stats.inc_value(f"soundscraping/gave_up/http_{response.status}")
            return response
        await asyncio.sleep(self._delay(request))
        return retry

    async def process_exception(self, request: Request, exception: Exception, spider: Any = None) -> Any:
        if isinstance(exception, self.exceptions_to_retry) and not request.meta.get("dont_retry"):
            retry = self._retry(request, exception)
            if retry is not None:
                await asyncio.sleep(self._delay(request))
            else:
                self.crawler.stats.inc_value(f"soundscraping/gave_up/{type(exception).__name__}")
            return retry
        return None

    def _delay(self, request: Request) -> float:
        attempt = request.meta.get("retry_times", 0)
        delay = min(self.backoff_max, self.backoff_base * 2**attempt)
        return delay * random.uniform(0.75, 1.25)  # noqa: S311 - jitter, not crypto

    def _slot(self, request: Request) -> Any:
        engine = self.crawler.engine
        if engine is None:
            return None
        downloader = engine.downloader
        return downloader.slots.get(downloader.get_slot_key(request))

    def _slow_down(self, request: Request) -> None:
        slot = self._slot(request)
        if slot is not None:
            slot.delay = min(self.backoff_max, max(slot.delay * 2, 0.5))
            logger.info("429 from %s: slowing that host to one request every %.1f s",
                        urlparse(request.url).netloc, slot.delay)

    def _relax(self, request: Request) -> None:
        slot = self._slot(request)
        if slot is not None and slot.delay > self.base_delay:
            slot.delay = max(self.base_delay, slot.delay * 0.9 if slot.delay > 0.05 else 0)


class SoundCloudClientIdMiddleware:
    """Keeps ``client_id`` on every api-v2 request current, and on a 401/403
    (not the anti-bot one) refreshes the id once and retries."""

    def __init__(self, crawler: Crawler):
        self.crawler = crawler
        self.store = ClientIdStore.for_crawler(crawler)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> SoundCloudClientIdMiddleware:
        return cls(crawler)

    async def process_request(self, request: Request, spider: Any = None) -> Request | None:
        if request.meta.get("playwright") or not self.store.is_api_request(request):
            return None
        client_id = await self.store.get()
        if client_id_of(request.url) != client_id:
            return request.replace(url=with_client_id(request.url, client_id), dont_filter=True)
        return None

    async def process_response(self, request: Request, response: Response, spider: Any = None) -> Request | Response:
        if response.status not in (401, 403) or not self.store.is_api_request(request):
            return response
        if response.status == 403 and response.headers.get("x-datadome"):
            return response  # the anti-bot middleware's business
        stale = client_id_of(request.url)
        stats = self.crawler.stats
        if request.meta.get("client_id_refreshed"):
            stats.inc_value("soundscraping/client_id/rejected")
            logger.error("SoundCloud rejected a freshly discovered client_id %s (HTTP %d) for %s",
                         masked(stale), response.status, request.url)
            return response
        fresh = await self.store.refresh(stale)
        if fresh is None:
            stats.inc_value("soundscraping/client_id/rejected")
            logger.error("SoundCloud answers HTTP %d to client_id %s and offers no other one",
                         response.status, masked(stale))
            return response
        logger.info("client_id %s rejected (HTTP %d); retrying with %s", masked(stale), response.status, masked(fresh))
        meta = {**request.meta, "client_id_refreshed": True}
        return request.replace(url=with_client_id(request.url, fresh), meta=meta, dont_filter=True)


class AntiBotBrowserMiddleware:
    """Passes a DataDome-style block (403 with ``x-datadome``) the way a person
    would: a real Chromium (scrapy-playwright) opens the site, the site's
    script issues its cookie, and the crawl carries on over plain HTTP with
    that cookie.  Solves are shared (one at a time) and capped per crawl."""

    COOKIE = "datadome"

    def __init__(self, crawler: Crawler):
        settings = crawler.settings
        self.crawler = crawler
        self.page_url = settings.get("SOUNDCLOUD_URL").rstrip("/") + "/"
        self.hosts = {urlparse(settings.get("SOUNDCLOUD_API_URL")).netloc}
        self.max_solves = settings.getint("SOUNDCLOUD_ANTIBOT_MAX_SOLVES", 5)
        self.timeout_ms = settings.getfloat("SOUNDCLOUD_ANTIBOT_TIMEOUT", 30) * 1000
        self.solves = 0
        self.generation = 0
        self.cookie: str | None = None
        self._lock: asyncio.Lock | None = None
        self._gave_up_logged = False

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> AntiBotBrowserMiddleware:
        return cls(crawler)

    def process_request(self, request: Request, spider: Any = None) -> None:
        if request.meta.get("playwright"):
            return
        request.meta.setdefault("antibot_generation", self.generation)
        if self.cookie and urlparse(request.url).netloc in self.hosts:
            # A blocked response re-sets a junk cookie in the jar; the passed
            # one must win on every request.
            request.cookies = {**_as_dict(request.cookies), self.COOKIE: self.cookie}

    async def process_response(self, request: Request, response: Response, spider: Any = None) -> Request | Response:
        if response.status != 403 or not response.headers.get("x-datadome") or request.meta.get("playwright"):
            return response
        stats = self.crawler.stats
        stats.inc_value("soundscraping/antibot/blocked")
        attempts = request.meta.get("antibot_attempts", 0)
        if attempts >= 2:
            stats.inc_value("soundscraping/antibot/gave_up")
            logger.error("Still blocked by the anti-bot check after %d browser passes: %s", attempts, request.url)
            return response
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:
            if request.meta.get("antibot_generation", 0) >= self.generation:
                # Nobody solved since this request left: solve now.
                if self.solves >= self.max_solves:
                    if not self._gave_up_logged:
                        self._gave_up_logged = True
                        logger.error("Anti-bot check: %d browser passes used (SOUNDCLOUD_ANTIBOT_MAX_SOLVES); "
                                     "blocked requests are now skipped", self.solves)
                    stats.inc_value("soundscraping/antibot/gave_up")
                    return response
                self.solves += 1
                self.cookie = await self._solve()
                self.generation += 1
        if not self.cookie:
            return response
        meta = {**request.meta, "antibot_attempts": attempts + 1, "antibot_generation": self.generation}
        return request.replace(cookies={**_as_dict(request.cookies), self.COOKIE: self.cookie},
                               meta=meta, dont_filter=True)

    async def _solve(self) -> str | None:
        stats = self.crawler.stats
        logger.info("Anti-bot block: opening %s in a real browser to get past it", self.page_url)
        context = f"antibot-{self.solves}"
        request = Request(self.page_url, dont_filter=True, meta={
            "playwright": True, "playwright_include_page": True, "playwright_context": context,
            "handle_httpstatus_all": True,
        })
        page = None
        try:
            assert self.crawler.engine is not None
            response = await self.crawler.engine.download_async(request)
            page = response.meta.get("playwright_page")
            await page.wait_for_function(
                f"() => document.cookie.split('; ').some(c => c.startsWith('{self.COOKIE}='))",
                timeout=self.timeout_ms,
            )
            cookies = await page.context.cookies()
        except Exception as exc:  # noqa: BLE001 - any browser failure is a failed pass
            stats.inc_value("soundscraping/antibot/failed")
            logger.error("Browser could not pass the anti-bot check on %s: %s", self.page_url,
                         str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
            return None
        finally:
            page = page or request.meta.get("playwright_page")
            if page is not None:
                await _close_page(page)
        value = next((c["value"] for c in cookies if c.get("name") == self.COOKIE), None)
        if value:
            stats.inc_value("soundscraping/antibot/solved")
            logger.info("Anti-bot check passed with a real browser; continuing over plain HTTP")
        else:
            stats.inc_value("soundscraping/antibot/failed")
            logger.error("Browser finished %s but got no %s cookie", self.page_url, self.COOKIE)
        return value


def _as_dict(cookies: Any) -> dict[str, str]:
    if isinstance(cookies, dict):
        return dict(cookies)
    if isinstance(cookies, list):
        return {c["name"]: c["value"] for c in cookies if isinstance(c, dict) and "name" in c}
    return {}


async def _close_page(page: Any) -> None:
    """Close the page, then its context: leaked pages stall scrapy-playwright."""
    try:
        context = page.context
        await page.close()
        await context.close()
    except Exception as exc:  # noqa: BLE001
        logger.debug("Closing browser page failed: %s", exc)
