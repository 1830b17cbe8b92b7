"""Item pipelines: validate → dedupe → media (soundscraping.media) → store.

Every drop has a reason in the log and a counter under ``soundscraping/`` in
the crawl stats.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections import defaultdict
from dataclasses import fields, is_dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from itemadapter import ItemAdapter
from scrapy.crawler import Crawler
from scrapy.exceptions import CloseSpider, DropItem, NotConfigured

from soundscraping.storage import TABLES, Database, Row, StorageError, Table, mask_url, merge_rows

logger = logging.getLogger(__name__)

_MEDIA_FIELDS = {"file_urls", "files"}


def item_table(item: Any) -> Table:
    name = getattr(item, "table", None)
    if name not in TABLES:
        raise DropItem(f"item of type {type(item).__name__} has no known table")
    return TABLES[name]


def item_key(item: Any) -> tuple[Any, ...]:
    adapter = ItemAdapter(item)
    return tuple(adapter.get(k) for k in item.key)


def utc_now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class ValidatePipeline:
    """Drops items whose key is missing or whose fields have the wrong type."""

    def __init__(self, crawler: Crawler):
        self.stats = crawler.stats

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ValidatePipeline:
        return cls(crawler)

    def process_item(self, item: Any, spider: Any = None) -> Any:
        table = item_table(item)
        problem = self.problem(item)
        if problem:
            self.stats.inc_value(f"soundscraping/dropped/invalid/{table.name}")
            raise DropItem(f"invalid {table.name} row {item_key(item)}: {problem}")
        return item

    @staticmethod
    def problem(item: Any) -> str | None:
        adapter = ItemAdapter(item)
        for key in item.key:
            if adapter.get(key) in (None, ""):
                return f"missing {key}"
        if not is_dataclass(item):
            return None
        for f in fields(item):
            value = adapter.get(f.name)
            if value is None or f.name in _MEDIA_FIELDS:
                continue
            expected = f.type if isinstance(f.type, str) else getattr(f.type, "__name__", "")
            if expected.startswith("int") and (not isinstance(value, int) or isinstance(value, bool)):
                return f"{f.name} is not an integer: {value!r}"
            if expected.startswith("str") and not isinstance(value, str):
                return f"{f.name} is not text: {value!r}"
            if expected.startswith("bool") and not isinstance(value, bool):
                return f"{f.name} is not a boolean: {value!r}"
        return None


class DedupePipeline:
    """Drops items already seen in this crawl.  A partial (mini) user is a
    duplicate once the same user was seen at all; a full profile only once a
    full profile was seen.  Across processes and crawls the database upsert
    is the dedupe (unique keys + ON CONFLICT)."""

    def __init__(self, crawler: Crawler):
        self.stats = crawler.stats
        self.seen: dict[str, set[tuple[Any, ...]]] = defaultdict(set)
        self.seen_full: dict[str, set[tuple[Any, ...]]] = defaultdict(set)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> DedupePipeline:
        return cls(crawler)

    def process_item(self, item: Any, spider: Any = None) -> Any:
        table = item_table(item)
        key = item_key(item)
        if table.merge == "profile" and getattr(item, "full_profile", False):
            seen = self.seen_full[table.name]
        else:
            seen = self.seen[table.name]
        if key in seen:
            self.stats.inc_value(f"soundscraping/dropped/duplicate/{table.name}")
            raise DropItem(f"duplicate {table.name} {key}", log_level="DEBUG")
        seen.add(key)
        self.seen[table.name].add(key)
        return item


class StorePipeline:
    """Buffers rows and writes them in batched upserts on a worker thread.

    One flush runs at a time, overlapping with the crawl; when a second batch
    is full before the first is written, items wait (back-pressure) instead of
    piling up in memory.  A failing flush is retried with back-off; when the
    database stays away the crawl is stopped loudly and the unsaved rows are
    written to a JSON-lines file, so nothing is lost silently.
    """

    def __init__(self, crawler: Crawler):
        settings = crawler.settings
        if not settings.getbool("STORAGE_ENABLED", True):
            raise NotConfigured("STORAGE_ENABLED is off")
        self.crawler = crawler
        self.stats = crawler.stats
        self.url = settings.get("DATABASE_URL")
        self.batch_size = settings.getint("STORAGE_BATCH_SIZE", 2000)
        self.retry_times = settings.getint("STORAGE_RETRY_TIMES", 5)
        self.unsaved_dir = Path(settings.get("STORAGE_UNSAVED_DIR", "data/unsaved"))
        self.db = Database.from_url(self.url)
        self.buffer: dict[str, dict[tuple[Any, ...], Row]] = defaultdict(dict)
        self.buffered = 0
        # Flushes in progress; one at a time writes (the connection is not
        # shared by concurrent threads).
        self._flushes: set[asyncio.Future[None]] = set()
        self._write_lock = asyncio.Lock()
        self._failed = False
        self._close_task: asyncio.Future[None] | None = None
        self._last_progress = time.monotonic()

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> StorePipeline:
        return cls(crawler)

    async def open_spider(self, spider: Any = None) -> None:
        try:
            await asyncio.to_thread(self._open_db)
        except StorageError as exc:
            logger.error("Storage unavailable, not crawling: %s", exc)
            self.stats.set_value("soundscraping/storage/unavailable_at_start", 1)
            raise CloseSpider("database_unavailable") from None
        logger.info("Storing into %s", mask_url(self.url))

    def _open_db(self) -> None:
        self.db.connect()
        self.db.ensure_schema()

    async def process_item(self, item: Any, spider: Any = None) -> Any:
        if self._failed:
            # The crawl is closing because the database is gone: keep the
            # row for the unsaved file rather than dropping it.
            self._add(item)
            self._save_unsaved(self._take_batch())
            raise DropItem("database unavailable; row written to the unsaved file")
        self._add(item)
        if self.buffered >= self.batch_size:
            if not self._flushes:
                self._start_flush()
            elif self.buffered >= 2 * self.batch_size:
                # The database is slower than the crawl: hold this item until
                # the running flush is written (back-pressure).
                await asyncio.wait(set(self._flushes))
        return item

    async def close_spider(self, spider: Any = None) -> None:
        while self._flushes:
            await asyncio.wait(set(self._flushes))
        if self.buffered and not self._failed:
            await self._flush(self._take_batch())
        elif self.buffered:
            self._save_unsaved(self._take_batch())
        await asyncio.to_thread(self.db.close)

    def _start_flush(self) -> None:
        task = asyncio.ensure_future(self._flush(self._take_batch()))
        self._flushes.add(task)
        task.add_done_callback(self._flushes.discard)

    # -- buffering -----------------------------------------------------------------

    def _add(self, item: Any) -> None:
        table = item_table(item)
        adapter = ItemAdapter(item)
        row = {name: adapter.get(name) for name in table.column_names}
        self._buffer_row(table, row)
        owner_id = str(item_key(item)[0])
        for result in adapter.get("files") or []:
            self._buffer_row(TABLES["media_files"], {
                "url": result.get("url"), "path": result.get("path"),
                "checksum": result.get("checksum"), "owner_table": table.name,
                "owner_id": owner_id, "stored_at": utc_now(),
            })

    def _buffer_row(self, table: Table, row: Row) -> None:
        rows = self.buffer[table.name]
        key = tuple(row[k] for k in table.key)
        if key in rows:
            rows[key] = merge_rows(table, rows[key], row)
        else:
            rows[key] = row
            self.buffered += 1

    def _take_batch(self) -> dict[str, list[Row]]:
        batch = {name: list(rows.values()) for name, rows in self.buffer.items() if rows}
        self.buffer = defaultdict(dict)
        self.buffered = 0
        return batch

    # -- writing -------------------------------------------------------------------

    async def _flush(self, batch: dict[str, list[Row]]) -> None:
        if not batch:
            return
        async with self._write_lock:
            await self._write_with_retries(batch)

    async def _write_with_retries(self, batch: dict[str, list[Row]]) -> None:
        delay = 1.0
        for attempt in range(self.retry_times + 1):
            try:
                await asyncio.to_thread(self.db.write, batch)
                break
            except StorageError as exc:
                if attempt == self.retry_times:
                    await self._give_up(batch, exc)
                    return
                self.stats.inc_value("soundscraping/storage/retries")
                logger.warning("%s; retrying in %.0f s (attempt %d of %d)", exc, delay, attempt + 1, self.retry_times)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 30)
        for name, rows in batch.items():
            self.stats.inc_value(f"soundscraping/stored/{name}", len(rows))
        if time.monotonic() - self._last_progress > 30:
            self._last_progress = time.monotonic()
            stored = {k.rsplit("/", 1)[1]: v for k, v in self.stats.get_stats().items()
                      if k.startswith("soundscraping/stored/")}
            logger.info("Stored so far: %s", ", ".join(f"{k}={v}" for k, v in sorted(stored.items())))

    async def _give_up(self, batch: dict[str, list[Row]], exc: Exception) -> None:
        self._failed = True
        path = self._save_unsaved(batch)
        lost = sum(len(rows) for rows in batch.values())
        logger.error(
            "Database unavailable after %d retries (%s): stopping the crawl; %d rows not saved, "
            "written to %s", self.retry_times, exc, lost, path,
        )
        if self.crawler.engine is not None:
            self._close_task = asyncio.ensure_future(
                self.crawler.engine.close_spider_async(reason="database_unavailable"))

    def _save_unsaved(self, batch: dict[str, list[Row]]) -> Path:
        self.unsaved_dir.mkdir(parents=True, exist_ok=True)
        spider = self.crawler.spider.name if self.crawler.spider else "crawl"
        path = self.unsaved_dir / f"{spider}-{int(self.crawler.stats.get_value('start_time').timestamp())}.jsonl"
        count = 0
        with path.open("a", encoding="utf-8") as out:
            for name, rows in batch.items():
                for row in rows:
                    out.write(json.dumps({"table": name, "row": row}, ensure_ascii=False, default=str) + "\n")
                    count += 1
        self.stats.inc_value("soundscraping/storage/unsaved_rows", count)
        return path
