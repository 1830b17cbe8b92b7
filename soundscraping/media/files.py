"""Small files (images, previews, forum attachments) through Scrapy's
FilesPipeline, named like the streamed ones, written whole or not at all."""

from __future__ import annotations

import logging
import os
from collections.abc import Awaitable
from io import BytesIO
from pathlib import Path
from typing import Any, NoReturn

from itemadapter import ItemAdapter
from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.pipelines.files import FilesPipeline, FSFilesStore, S3FilesStore
from scrapy.utils.defer import ensure_awaitable
from twisted.internet.defer import Deferred
from twisted.python.failure import Failure

from soundscraping.media.errors import FileNotStored, count_not_stored, s3_write_errors
from soundscraping.media.paths import media_path, note_stored_path

logger = logging.getLogger(__name__)


class AtomicFSFilesStore(FSFilesStore):
    """FilesPipeline's folder store, writing each file under a temporary name
    beside it and renaming it once whole.  Scrapy's own writes in place, so a
    full disk (or a kill) leaves a truncated file under the final name, and
    the next crawl takes it as stored: its ``stat_file`` only asks whether
    the file exists."""

    def persist_file(self, path: str | os.PathLike[str], buf: BytesIO, info: Any,
                     meta: dict[str, Any] | None = None, headers: dict[str, str] | None = None) -> None:
        target = Path(self.basedir, *os.fspath(path).split("/"))
        part = target.with_name(f".{target.name}.{os.getpid()}.part")
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            part.write_bytes(buf.getvalue())
            os.replace(part, target)
        except OSError as exc:
            part.unlink(missing_ok=True)
            raise FileNotStored.from_os_error(exc, self.basedir) from exc


class NotStoredS3FilesStore(S3FilesStore):
    """FilesPipeline's S3 store, whose refused writes (a missing bucket,
    access denied, the endpoint down) fail as FileNotStored, as a full disk
    does in AtomicFSFilesStore.  S3 keeps no half object: a PUT is whole or
    not there."""

    def persist_file(self, path: str, buf: BytesIO, info: Any, meta: dict[str, Any] | None = None,
                     headers: dict[str, str] | None = None) -> Deferred[Any]:
        return super().persist_file(path, buf, info, meta, headers).addErrback(self._not_stored)

    def _not_stored(self, failure: Failure) -> NoReturn:
        failure.trap(*s3_write_errors())
        raise FileNotStored.from_s3_error(failure.value, f"s3://{self.bucket}/{self.prefix}") from failure.value


class _DropStoreErrorTraceback(logging.Filter):
    """Scrapy logs every error of ``file_downloaded`` with a traceback, twice
    (scrapy.pipelines.files, then scrapy.pipelines.media); a file the store
    could not write is reported by MediaFilesPipeline in one line instead (a
    full disk would otherwise print two tracebacks per file)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.exc_info and isinstance(record.exc_info[1], FileNotStored))

    @classmethod
    def install(cls) -> None:
        for name in ("scrapy.pipelines.files", "scrapy.pipelines.media"):
            scrapy_logger = logging.getLogger(name)
            if not any(isinstance(f, cls) for f in scrapy_logger.filters):
                scrapy_logger.addFilter(cls())


class MediaFilesPipeline(FilesPipeline):
    STORE_SCHEMES = {**FilesPipeline.STORE_SCHEMES, "": AtomicFSFilesStore, "file": AtomicFSFilesStore,
                     "s3": NotStoredS3FilesStore}

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> MediaFilesPipeline:
        if not crawler.settings.getbool("MEDIA_ENABLED", True):
            raise NotConfigured("MEDIA_ENABLED is off")
        if not crawler.settings.get("FILES_STORE"):
            raise NotConfigured("FILES_STORE is not set")
        _DropStoreErrorTraceback.install()
        return super().from_crawler(crawler)

    async def process_item(self, item: Any, spider: Any = None) -> Any:
        # Most items (comments, mini users) carry no media: skip the machinery.
        adapter = ItemAdapter(item)
        if not adapter.get(self.files_urls_field):
            return item
        return await super().process_item(item)

    def file_path(self, request: Request, response: Any = None, info: Any = None, *, item: Any = None) -> str:
        return media_path(request.url, getattr(item, "table", None), getattr(item, "filename", None))

    def file_downloaded(self, response: Any, request: Request, info: Any, *, item: Any = None) -> Awaitable[str]:
        return self._downloaded_or_counted(super().file_downloaded(response, request, info, item=item))

    async def _downloaded_or_counted(self, stored: str | Awaitable[str]) -> str:
        try:
            return await ensure_awaitable(stored)
        except FileNotStored as exc:
            count_not_stored(self.crawler.stats, exc)
            raise

    def media_failed(self, failure: Failure, request: Request, info: Any) -> NoReturn:
        """A file the store could not write fails as itself (the reason, no
        "Error downloading" line: it was downloaded)."""
        cause = getattr(failure.value, "__cause__", None)
        if isinstance(cause, FileNotStored):
            raise cause
        super().media_failed(failure, request, info)

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
