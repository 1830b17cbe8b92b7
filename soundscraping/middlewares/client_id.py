"""SoundCloud api-v2's client_id kept current on every request, and refreshed
once when SoundCloud rejects it."""

from __future__ import annotations

import logging
from typing import Any

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.http import Response

from soundscraping.sites.soundcloud.antibot import datadome_block
from soundscraping.sites.soundcloud.client_id import ClientIdStore, client_id_of, masked, with_client_id

logger = logging.getLogger(__name__)


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
        if datadome_block(response):
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
