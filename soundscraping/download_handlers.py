"""One download handler for http and https that hands each request to the
handler its meta asks for: ``meta["playwright"]`` → scrapy-playwright (a real
browser), ``meta["impersonate"]`` → curl_cffi (a browser's TLS fingerprint,
soundscraping.impersonation), anything else → Scrapy's own HTTP/1.1 handler.

Both libraries ship download handlers and Scrapy allows one per scheme; this
one composes them as they are (no patching).  The route table is the
``DOWNLOAD_HANDLER_ROUTES`` setting: meta key → handler class, first match
wins, ``None`` is the default.  Scrapy builds one handler per scheme; both
share one set of routes (so one browser and one curl session per crawl).
"""

from __future__ import annotations

import weakref
from typing import Any

from scrapy import Request
from scrapy.core.downloader.handlers.base import BaseDownloadHandler
from scrapy.crawler import Crawler
from scrapy.http import Response
from scrapy.utils.misc import build_from_crawler, load_object

from soundscraping.host_gate import HostGate

DEFAULT_ROUTES: dict[str | None, str] = {
    "playwright": "scrapy_playwright.handler.ScrapyPlaywrightDownloadHandler",
    "impersonate": "soundscraping.impersonation.ImpersonateDownloadHandler",
    None: "scrapy.core.downloader.handlers.http11.HTTP11DownloadHandler",
}


class _Routes:
    """The handlers behind every scheme of one crawler."""

    _by_crawler: weakref.WeakKeyDictionary[Crawler, _Routes] = weakref.WeakKeyDictionary()

    def __init__(self, crawler: Crawler):
        table = crawler.settings.getdict("DOWNLOAD_HANDLER_ROUTES") or DEFAULT_ROUTES
        self.handlers: dict[str | None, Any] = {}
        for key, path in table.items():
            meta_key = None if key in (None, "", "None", "null", "default") else str(key)
            self.handlers[meta_key] = build_from_crawler(load_object(path), crawler)
        if None not in self.handlers:
            raise ValueError("DOWNLOAD_HANDLER_ROUTES needs a default handler (key None)")
        self.users = 0

    @classmethod
    def acquire(cls, crawler: Crawler) -> _Routes:
        routes = cls._by_crawler.get(crawler)
        if routes is None:
            routes = cls._by_crawler[crawler] = cls(crawler)
        routes.users += 1
        return routes

    def handler_for(self, request: Request) -> Any:
        for key, handler in self.handlers.items():
            if key is not None and request.meta.get(key):
                return handler
        return self.handlers[None]

    async def release(self) -> None:
        self.users -= 1
        if self.users > 0:
            return
        for handler in self.handlers.values():
            await handler.close()


class RoutingDownloadHandler(BaseDownloadHandler):
    """``DOWNLOAD_HANDLERS = {"http": <this>, "https": <this>}``."""

    lazy = False

    def __init__(self, crawler: Crawler):
        super().__init__(crawler)
        self.routes = _Routes.acquire(crawler)
        self.gate = HostGate.for_crawler(crawler)

    async def download_request(self, request: Request) -> Response:
        # ONE_AT_A_TIME_HOSTS: a streamed file to the same host waits, and this for it.
        async with self.gate.turn(request.url):
            return await self.routes.handler_for(request).download_request(request)

    async def close(self) -> None:
        await self.routes.release()
