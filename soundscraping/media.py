"""Media: images and small files through Scrapy's FilesPipeline to FILES_STORE
(a local folder or ``s3://bucket/prefix/``).  Every stored file becomes a
``media_files`` row (written by the store pipeline from the item's ``files``)."""

from __future__ import annotations

import hashlib
import logging
import mimetypes
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import urlparse

from itemadapter import ItemAdapter
from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.pipelines.files import FilesPipeline

logger = logging.getLogger(__name__)


def media_path(url: str, owner_table: str | None) -> str:
    """Where a file lands in the store: ``<owner table>/<sha1 of url><ext>``.
    Deterministic, so a re-crawl (or another worker) finds it already stored."""
    guid = hashlib.sha1(url.encode("utf-8")).hexdigest()  # noqa: S324 - a name, not a secret
    ext = PurePosixPath(urlparse(url).path).suffix.lower()
    if ext not in mimetypes.types_map:
        ext = ""
    return f"{owner_table or 'misc'}/{guid}{ext}"


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
        return media_path(request.url, getattr(item, "table", None))

    def item_completed(self, results: list[Any], item: Any, info: Any) -> Any:
        stats = self.crawler.stats
        for ok, result in results:
            if ok:
                stats.inc_value("soundscraping/media/stored")
            else:
                stats.inc_value("soundscraping/media/failed")
                logger.warning("Media not stored for %s %s: %s", getattr(item, "table", "item"),
                               getattr(item, "id", "?"), result.getErrorMessage())
        return super().item_completed(results, item, info)
