"""Shared SoundCloud api-v2 behaviour: client_id discovery and refresh, URL
building.  One ``ClientIdStore`` per crawl, shared by the spiders and the
client-id middleware, so every request uses the same, current id."""

from __future__ import annotations

import asyncio
import logging
from typing import Any
from urllib.parse import parse_qs, urlparse

from scrapy import Request
from scrapy.crawler import Crawler
from w3lib.url import add_or_replace_parameter

from soundscraping.per_crawler import per_crawler
from soundscraping.sites import SiteUnreachable, unreachable_message
from soundscraping.sites.soundcloud.parsers import asset_script_urls, client_id_from_home, client_id_from_script

logger = logging.getLogger(__name__)

# Request meta key marking the client_id discovery's own requests.
DISCOVERY_META = "soundcloud_client_id_discovery"
# Where the client_id sits in the asset chunks: within their first 50 KB.
ASSET_RANGE = "bytes=0-50000"


class ClientIdNotFound(RuntimeError):
    pass


def client_id_of(url: str) -> str | None:
    values = parse_qs(urlparse(url).query).get("client_id")
    return values[0] if values else None


def with_client_id(url: str, client_id: str) -> str:
    return add_or_replace_parameter(url, "client_id", client_id)


def masked(client_id: str | None) -> str:
    return f"{client_id[:6]}…" if client_id else "none"


class ClientIdStore:
    """The current public web client_id: configured, or read from the home
    page's ``apiClient`` hydration entry, or from the asset chunks (newest
    first).  ``refresh()`` replaces a stale id once for everybody."""

    def __init__(self, crawler: Crawler):
        self.crawler = crawler
        self.web_url = crawler.settings.get("SOUNDCLOUD_URL").rstrip("/")
        self.api_netloc = urlparse(crawler.settings.get("SOUNDCLOUD_API_URL")).netloc
        self.current: str | None = crawler.settings.get("SOUNDCLOUD_CLIENT_ID") or None
        self._lock: asyncio.Lock | None = None

    @classmethod
    def for_crawler(cls, crawler: Crawler) -> ClientIdStore:
        return per_crawler(cls, crawler)

    def is_api_request(self, request: Request) -> bool:
        """An api-v2 request that needs the client_id.  The store's own
        discovery requests never are, even when the web site and the API
        share a host:port (they would wait for the id they are fetching)."""
        return not request.meta.get(DISCOVERY_META) and urlparse(request.url).netloc == self.api_netloc

    async def get(self) -> str:
        if self.current:
            return self.current
        async with self._get_lock():
            if not self.current:
                self.current = await self._discover()
        return self.current

    async def refresh(self, stale: str | None) -> str | None:
        """A new id after ``stale`` was rejected; None when the site still
        hands out the rejected one."""
        async with self._get_lock():
            if self.current and self.current != stale:
                return self.current  # another request already refreshed it
            fresh = await self._discover()
            if fresh == stale:
                return None
            self.current = fresh
            self.crawler.stats.inc_value("soundscraping/client_id/refreshed")
            return fresh

    def _get_lock(self) -> asyncio.Lock:
        if self._lock is None:
            self._lock = asyncio.Lock()
        return self._lock

    async def _discover(self) -> str:
        stats = self.crawler.stats
        home = await self._fetch(self.web_url + "/")
        html = home.body.decode("utf-8", "replace")
        if home.status == 200:
            client_id = client_id_from_home(html)
            if client_id:
                logger.info("SoundCloud client_id %s read from the home page", masked(client_id))
                stats.inc_value("soundscraping/client_id/from_home_page")
                return client_id
        scripts = asset_script_urls(html)
        # The config chunk has been one of the last ones since 2026.
        for url in reversed(scripts):
            script = await self._fetch(url, headers={"Range": ASSET_RANGE})
            if script.status not in (200, 206):
                continue
            client_id = client_id_from_script(script.body.decode("utf-8", "replace"))
            if client_id:
                logger.info("SoundCloud client_id %s read from asset %s", masked(client_id), url)
                stats.inc_value("soundscraping/client_id/from_asset_script")
                return client_id
        stats.inc_value("soundscraping/client_id/not_found")
        raise ClientIdNotFound(
            f"no client_id on {self.web_url}/ (HTTP {home.status}; apiClient entry missing, "
            f"{len(scripts)} asset scripts searched); set SOUNDCLOUD_CLIENT_ID to skip discovery"
        )

    async def _fetch(self, url: str, headers: dict[str, str] | None = None) -> Any:
        request = Request(url, headers=headers, dont_filter=True,
                          meta={"handle_httpstatus_all": True, DISCOVERY_META: True})
        assert self.crawler.engine is not None
        try:
            return await self.crawler.engine.download_async(request)
        except Exception as exc:  # noqa: BLE001 - any download failure: no answer from the site
            reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise SiteUnreachable(unreachable_message(self.crawler.settings, url, reason)) from None
