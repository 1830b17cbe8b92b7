"""Item pipelines: validate → dedupe → media (soundscraping.media) → store.

Every drop has a reason in the log and a counter under ``soundscraping/`` in
the crawl stats.
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import operator
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, fields, is_dataclass
from pathlib import Path
from typing import Any

from itemadapter import ItemAdapter
from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import CloseSpider, DontCloseSpider, DropItem, NotConfigured

from soundscraping import outcome
from soundscraping.items import NON_COLUMN_FIELDS, CrawlUnit
from soundscraping.media.roles import file_source
from soundscraping.provenance import CrawlRun
from soundscraping.storage import (
    TABLES,
    Database,
    RowsRejected,
    SchemaMismatch,
    StorageError,
    Table,
    Values,
    WriteConflict,
    history_row,
    mask_url,
    merge_values,
)
from soundscraping.timestamps import utc_now
from soundscraping.units import UnitTracker

logger = logging.getLogger(__name__)

# Sent (with ``batch``: table -> rows) after each batch is committed: what
# needs "these rows are stored" (a distributed unit's lease) listens here.
rows_committed = object()

_TYPES: dict[str, type | tuple[type, ...]] = {"int": int, "str": str, "bool": bool, "float": (int, float)}


@dataclass(frozen=True)
class ItemSpec:
    """How the pipelines read one item class, worked out once per class:
    items pass by the hundred thousand, so per-item reflection is too slow."""

    table: Table
    get: Callable[[Any, str], Any]
    values: Callable[[Any], Values]  # the table's columns, in order
    checks: tuple[tuple[str, type | tuple[type, ...]], ...]  # (field, expected type)
    has_files: bool  # carries media results (FilesPipeline's "files")

    def key(self, item: Any) -> tuple[Any, ...]:
        return tuple(self.get(item, k) for k in self.table.key)


@functools.cache
def item_spec(cls: type) -> ItemSpec:
    name = getattr(cls, "table", None)
    if name not in TABLES:
        raise DropItem(f"item of type {cls.__name__} has no known table")
    table = TABLES[name]
    columns = table.item_columns
    if is_dataclass(cls):
        get: Callable[[Any, str], Any] = getattr
        many = operator.attrgetter(*columns)
        values: Callable[[Any], Values] = many if len(columns) > 1 else (lambda item: (many(item),))
        checks = []
        for f in fields(cls):
            annotation = f.type if isinstance(f.type, str) else getattr(f.type, "__name__", "")
            base = annotation.split("|")[0].strip()
            if f.name not in NON_COLUMN_FIELDS and base in _TYPES:
                checks.append((f.name, _TYPES[base]))
        has_files = "files" in {f.name for f in fields(cls)}
        return ItemSpec(table, get, values, tuple(checks), has_files)

    def adapter_get(item: Any, field_name: str) -> Any:
        return ItemAdapter(item).get(field_name)

    def adapter_values(item: Any) -> Values:
        adapter = ItemAdapter(item)
        return tuple(adapter.get(c) for c in columns)

    return ItemSpec(table, adapter_get, adapter_values, (), True)


def is_batch(item: Any) -> bool:
    """Items that carry several rows (``parts()``) rather than being one."""
    return callable(getattr(item, "parts", None))


class ValidatePipeline:
    """Drops items whose key is missing or whose fields have the wrong type."""

    def __init__(self, crawler: Crawler):
        self.stats = crawler.stats

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ValidatePipeline:
        return cls(crawler)

    def process_item(self, item: Any, spider: Any = None) -> Any:
        if is_batch(item):
            # A page of rows: drop the bad rows, keep the page.
            for name in ("users", "interactions"):
                kept = []
                for part in getattr(item, name):
                    if reason := self._invalid(part):
                        logger.warning("Row dropped: %s", reason)
                    else:
                        kept.append(part)
                setattr(item, name, kept)
            return item
        if reason := self._invalid(item):
            raise DropItem(reason)
        return item

    def _invalid(self, item: Any) -> str | None:
        spec = item_spec(type(item))
        problem = self.problem(item, spec)
        if not problem:
            return None
        self.stats.inc_value(f"soundscraping/dropped/invalid/{spec.table.name}")
        return f"invalid {spec.table.name} row {spec.key(item)}: {problem}"

    @staticmethod
    def problem(item: Any, spec: ItemSpec | None = None) -> str | None:
        spec = spec or item_spec(type(item))
        for key in spec.table.key:
            if key not in spec.table.nullable_key and spec.get(item, key) in (None, ""):
                return f"missing {key}"
        for name, kind in spec.checks:
            value = spec.get(item, name)
            if value is None:
                continue
            if kind is int and (not isinstance(value, int) or isinstance(value, bool)):
                return f"{name} is not an integer: {value!r}"
            if not isinstance(value, kind):
                return f"{name} has the wrong type: {value!r}"
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
        if is_batch(item):
            # Users recur on every page; edges are deduplicated by the
            # database (there are millions: no in-memory set for them).
            item.users = [user for user in item.users if not self._seen_before(user)]
            return item
        if self._seen_before(item):
            spec = item_spec(type(item))
            raise DropItem(f"duplicate {spec.table.name} {spec.key(item)}", log_level="DEBUG")
        return item

    def _seen_before(self, item: Any) -> bool:
        spec = item_spec(type(item))
        table, key = spec.table, spec.key(item)
        if table.merge == "profile" and spec.get(item, "full_profile"):
            seen = self.seen_full[table.name]
        else:
            seen = self.seen[table.name]
        if key in seen:
            self.stats.inc_value(f"soundscraping/dropped/duplicate/{table.name}")
            return True
        seen.add(key)
        self.seen[table.name].add(key)
        return False


class StorePipeline:
    """Buffers rows and writes them in batched upserts on a worker thread.

    A flush starts when ``STORAGE_BATCH_SIZE`` rows are buffered or when the
    oldest buffered row has waited ``STORAGE_FLUSH_SECONDS``, whichever comes
    first, so a slow crawl loses at most a few seconds of rows when killed.
    One flush runs at a time, overlapping with the crawl; when a second batch
    is full before the first is written, items wait (back-pressure) instead of
    piling up in memory.  A failing flush is retried with back-off; when the
    database stays away the crawl is stopped loudly and the unsaved rows are
    written to a JSON-lines file, so nothing is lost silently.

    The last flush runs when the spider goes idle, before Scrapy decides the
    finish reason: a crawl whose rows did not all reach the database (the
    last flush failed, or the database rejected some rows) closes as
    ``rows_not_saved`` or ``database_unavailable``, never ``finished``.
    """

    def __init__(self, crawler: Crawler):
        settings = crawler.settings
        if not settings.getbool("STORAGE_ENABLED", True):
            raise NotConfigured("STORAGE_ENABLED is off")
        self.crawler = crawler
        self.stats = crawler.stats
        self.url = settings.get("DATABASE_URL")
        self.batch_size = settings.getint("STORAGE_BATCH_SIZE", 2000)
        self.flush_seconds = settings.getfloat("STORAGE_FLUSH_SECONDS", 5.0)
        self.retry_times = settings.getint("STORAGE_RETRY_TIMES", 5)
        self.unsaved_dir = Path(settings.get("STORAGE_UNSAVED_DIR", "data/unsaved"))
        self.db = Database.from_url(self.url)
        # This crawl's crawl_runs row; every stored row carries its id.
        self.run = CrawlRun(crawler)
        self._run_recorded = False
        self.buffer: dict[str, dict[Any, Values]] = defaultdict(dict)
        self.buffered = 0
        # Flushes in progress; one at a time writes (the connection is not
        # shared by concurrent threads).
        self._flushes: set[asyncio.Future[None]] = set()
        self._write_lock = asyncio.Lock()
        self._failed = False
        self._close_task: asyncio.Future[None] | None = None
        self._last_progress = time.monotonic()
        # When the oldest row now in the buffer arrived (monotonic clock).
        self._oldest_row_at: float | None = None
        self._flush_timer: asyncio.Task[None] | None = None
        self._final_flush: asyncio.Future[None] | None = None
        self._closing = False

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> StorePipeline:
        pipeline = cls(crawler)
        crawler.signals.connect(pipeline.spider_idle, signal=signals.spider_idle)
        crawler.signals.connect(pipeline.spider_closed, signal=signals.spider_closed)
        UnitTracker.for_crawler(crawler).sinks.append(pipeline.unit_finished)
        return pipeline

    def unit_finished(self, unit: str) -> None:
        """Record a finished unit behind its rows (already buffered: its
        items have left the pipelines), so no flush writes it before them.
        Not once the database is lost: its last rows were not stored."""
        if self._failed:
            return
        spider = self.crawler.spider.name if self.crawler.spider else "crawl"
        job = UnitTracker.for_crawler(self.crawler).job or ""
        self._add(CrawlUnit(spider=spider, job=job, unit=unit, finished_at=utc_now()))

    def spider_idle(self, spider: Any = None) -> None:
        """Nothing left to crawl: write what is buffered, then close with the
        reason that says whether every row was stored."""
        if self._failed or self._closing:
            return
        if self._final_flush is not None and not self._final_flush.done():
            raise DontCloseSpider
        if self.buffered or self._flushes or outcome.rows_not_saved(self.stats.get_stats()):
            self._final_flush = asyncio.ensure_future(self._flush_then_close())
            raise DontCloseSpider

    async def _flush_then_close(self) -> None:
        while self._flushes:
            await asyncio.wait(set(self._flushes))
        if self.buffered and not self._failed:
            await self._flush(self._take_batch())
        engine = self.crawler.engine
        if self._failed or engine is None or not engine.spider_is_idle() or self._spider_waits():
            return  # failing already, or the spider found (or waits for) more work meanwhile
        lost = outcome.rows_not_saved(self.stats.get_stats())
        await engine.close_spider_async(reason=outcome.ROWS_NOT_SAVED if lost else "finished")

    def _spider_waits(self) -> bool:
        """A distributed worker with nothing in hand may still wait for other
        workers' units (their leases can expire): it says so itself."""
        waits = getattr(self.crawler.spider, "waiting_for_work", None)
        return bool(waits and waits())

    async def open_spider(self, spider: Any = None) -> None:
        try:
            await asyncio.to_thread(self._open_db)
        except SchemaMismatch as exc:
            logger.error("Not crawling: %s", exc)
            raise CloseSpider(exc.reason) from None
        except StorageError as exc:
            logger.error("Storage unavailable, not crawling: %s", exc)
            self.stats.set_value("soundscraping/storage/unavailable_at_start", 1)
            raise CloseSpider("database_unavailable") from None
        logger.info("Storing into %s", mask_url(self.url))
        if self.flush_seconds > 0:
            self._flush_timer = asyncio.ensure_future(self._flush_on_time())

    async def _flush_on_time(self) -> None:
        """Starts a flush once the oldest buffered row is ``flush_seconds``
        old.  It goes through the same lock as size-triggered flushes, so
        writes stay one at a time and in order."""
        while True:
            if self._oldest_row_at is None:
                await asyncio.sleep(self.flush_seconds)
                continue
            wait = self._oldest_row_at + self.flush_seconds - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
                continue
            if self._flushes:
                # A slow write is under way: queue no second batch behind it.
                await asyncio.wait(set(self._flushes))
                continue
            if not self._failed:
                self.stats.inc_value("soundscraping/storage/timed_flushes")
                self._start_flush()
            else:
                self._oldest_row_at = None

    def _open_db(self) -> None:
        self.db.connect()
        self.db.ensure_schema()
        self.run.started_at = utc_now()
        self.db.write({"crawl_runs": [self.run.row()]})
        self._run_recorded = True

    async def spider_closed(self, spider: Any, reason: str) -> None:
        """Complete the crawl_runs row: end, finish reason (as reported:
        ``outcome.final_reason``), stats.  Not when the database is gone."""
        if not self._run_recorded or self._failed:
            return
        stats = dict(self.stats.get_stats())
        row = self.run.row(utc_now(), outcome.final_reason(reason, stats), stats)

        def write() -> None:
            db = Database.from_url(self.url)
            try:
                db.write({"crawl_runs": [row]})
            finally:
                db.close()

        try:
            await asyncio.to_thread(write)
        except StorageError as exc:
            logger.warning("crawl_runs row %d not completed: %s", self.run.id, exc)

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
        self._closing = True
        if self._flush_timer is not None:
            self._flush_timer.cancel()
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
        if is_batch(item):
            for part in item.parts():
                self._add(part)
            return
        spec = item_spec(type(item))
        table = spec.table
        values = spec.values(item)
        if table.crawled:
            values = (*values, self.run.id)
        self._buffer_row(table, values)
        if (history := history_row(table, values)) is not None:
            self._buffer_row(*history)
        files = spec.get(item, "files") if spec.has_files else None
        if files:
            key, media, now = spec.key(item), TABLES["media_files"], utc_now()
            # owner_id compares with the owner's integer id; owner_key is any key as text.
            owner_id = key[0] if len(key) == 1 and isinstance(key[0], int) else None
            owner_key = " / ".join(map(str, key))
            for result in files:
                url = result.get("url")
                role, owner_url = file_source(item, url)
                self._buffer_row(media, (url, result.get("path"), result.get("checksum"), table.name, owner_id,
                                         now, role, owner_key, owner_url, self.run.id))

    def _buffer_row(self, table: Table, values: Values) -> None:
        rows = self.buffer[table.name]
        at = table.key_positions
        key = values[at[0]] if len(at) == 1 else tuple(values[i] for i in at)
        if key in rows:
            rows[key] = merge_values(table, rows[key], values)
        else:
            rows[key] = values
            if not self.buffered:
                self._oldest_row_at = time.monotonic()
            self.buffered += 1

    def _take_batch(self) -> dict[str, list[Values]]:
        batch = {name: list(rows.values()) for name, rows in self.buffer.items() if rows}
        self.buffer = defaultdict(dict)
        self.buffered = 0
        self._oldest_row_at = None
        return batch

    # -- writing -------------------------------------------------------------------

    async def _flush(self, batch: dict[str, list[Values]]) -> None:
        if not batch:
            return
        async with self._write_lock:
            await self._write_with_retries(batch)

    async def _write_with_retries(self, batch: dict[str, list[Values]]) -> None:
        delay = 1.0
        for attempt in range(self.retry_times + 1):
            try:
                await asyncio.to_thread(self.db.write, batch)
                break
            except RowsRejected as exc:
                logger.warning("Database refused a batch (%s); writing its rows one by one", exc)
                batch = await asyncio.to_thread(self._write_row_by_row, batch)
                break
            except StorageError as exc:
                if isinstance(exc, WriteConflict):
                    # Another worker's transaction won (a deadlock or a
                    # serialization failure): the whole batch is retried.
                    self.stats.inc_value("soundscraping/storage/deadlock_retries")
                if attempt == self.retry_times:
                    await self._give_up(batch, exc)
                    return
                self.stats.inc_value("soundscraping/storage/retries")
                logger.warning("%s; retrying in %.0f s (attempt %d of %d)", exc, delay, attempt + 1, self.retry_times)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 30)
        for name, rows in batch.items():
            self.stats.inc_value(f"soundscraping/stored/{name}", len(rows))
        self.crawler.signals.send_catch_log(rows_committed, batch=batch)
        if time.monotonic() - self._last_progress > 30:
            self._last_progress = time.monotonic()
            stored = {k.rsplit("/", 1)[1]: v for k, v in self.stats.get_stats().items()
                      if k.startswith("soundscraping/stored/")}
            logger.info("Stored so far: %s", ", ".join(f"{k}={v}" for k, v in sorted(stored.items())))

    def _write_row_by_row(self, batch: dict[str, list[Values]]) -> dict[str, list[Values]]:
        """Write what the database accepts; log, count and keep the rest in the
        unsaved file.  Returns the rows written."""
        written: dict[str, list[Values]] = defaultdict(list)
        rejected: dict[str, list[Values]] = defaultdict(list)
        for name, rows in batch.items():
            for row in rows:
                try:
                    self.db.write({name: [row]})
                    written[name].append(row)
                except RowsRejected as exc:
                    rejected[name].append(row)
                    logger.error("Database refused %s row %r: %s", name, row[0], exc)
        if rejected:
            self.stats.inc_value("soundscraping/storage/rejected_rows", sum(map(len, rejected.values())))
            self._save_unsaved(rejected)
        return written

    async def _give_up(self, batch: dict[str, list[Values]], exc: Exception) -> None:
        self._failed = True
        path = self._save_unsaved(batch)
        lost = sum(len(rows) for rows in batch.values())
        logger.error(
            "Database unavailable after %d retries (%s): stopping the crawl; %d rows not saved, "
            "written to %s", self.retry_times, exc, lost, path,
        )
        if self.crawler.engine is not None and not self._closing:
            self._close_task = asyncio.ensure_future(
                self.crawler.engine.close_spider_async(reason="database_unavailable"))

    def _save_unsaved(self, batch: dict[str, list[Values]]) -> Path:
        self.unsaved_dir.mkdir(parents=True, exist_ok=True)
        spider = self.crawler.spider.name if self.crawler.spider else "crawl"
        path = self.unsaved_dir / f"{spider}-{int(self.crawler.stats.get_value('start_time').timestamp())}.jsonl"
        count = 0
        with path.open("a", encoding="utf-8") as out:
            for name, rows in batch.items():
                columns = TABLES[name].column_names
                for row in rows:
                    record = {"table": name, "row": dict(zip(columns, row, strict=True))}
                    out.write(json.dumps(record, ensure_ascii=False, default=str) + "\n")
                    count += 1
        self.stats.inc_value(outcome.UNSAVED_ROWS, count)
        self.stats.set_value(outcome.UNSAVED_FILE, str(path))
        return path
