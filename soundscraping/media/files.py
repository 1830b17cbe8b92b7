"""Small files (images, previews, forum attachments) through Scrapy's
FilesPipeline, named like the streamed ones."""

from __future__ import annotations

import logging
from typing import Any

from itemadapter import ItemAdapter
from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.pipelines.files import FilesPipeline

from soundscraping.media.paths import media_path, note_stored_path

logger = logging.getLogger(__name__)


class MediaFilesPipeline(FilesPipeline):
    @classmethod
    def from_crawler(cls, crawler: Crawler) -> MediaFilesPipeline:
        if not crawler.settings.getbool("MEDIA_ENABLED", True):
            raise NotConfigured("MEDIA_ENABLED is off")
        if not crawler.settings.get("FILES_STORE"):
            raise NotConfigured("FILES_STORE is not set")
        return super().from_crawler(crawler)

    async def process_item(self, item: Any, spider: Any = None) -> Any:
        # Most items (comments, mini users) carry no media: skip the machinery.
        adapter = ItemAdapter(item)
        if not adapter.get(self.files_urls_field):
            return item
        return await super().process_item(item)

    def file_path(self, request: Request, response: Any = None, info: Any = None, *, item: Any = None) -> str:
        return media_path(request.url, getattr(item, "table", None), getattr(item, "filename", None))

    def item_completed(self, results: list[Any], item: Any, info: Any) -> Any:
        stats = self.crawler.stats
        for ok, result in results:
            if ok:
                stats.inc_value("soundscraping/media/stored")
            else:
                stats.inc_value("soundscraping/media/failed")
                logger.warning("Media not stored for %s %s: %s", getattr(item, "table", "item"),
                               getattr(item, "id", None) or getattr(item, "url", "?"), result.getErrorMessage())
        # Keep what the streaming pipeline already stored for this item.
        adapter = ItemAdapter(item)
        earlier = list(adapter.get(self.files_result_field) or [])
        item = super().item_completed(results, item, info)
        if earlier:
            adapter[self.files_result_field] = earlier + list(adapter.get(self.files_result_field) or [])
        note_stored_path(item)
        return item
