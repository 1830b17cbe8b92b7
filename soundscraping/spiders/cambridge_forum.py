"""``scrapy crawl cambridge_forum [-a forums=fid,fid] [-a download=none|mixes]``:
the Cambridge-MT MyBB forum (``CAMBRIDGE_FORUM_URL``).

From the category ``CAMBRIDGE_FORUM_ROOT_FID`` (or the forums given) down to
the genre forums, the song forums (one per song: ``cmt_songs.forum_fid``),
every page of their thread lists and every page of every thread:
``cmt_forum_threads``, ``cmt_forum_posts`` and ``cmt_mixes`` (attachments,
``<audio>`` sources, links to sharing services and audio files).
``download=mixes`` also stores attachments and direct audio links through
the media pipelines.

Units of work (soundscraping.units), recorded finished in ``crawl_units``
behind their last rows: a thread (unit ``<tid>``: its row, every page of
posts, its mixes) and a song forum (unit ``forum:<fid>``: every page of its
thread list and every thread on them; forums that list other forums are
never finished, they are read on every run to find what is new).  A killed
job resumed with the same ``JOBDIR`` skips the forums and threads it
finished and reads only the rest; ``-a recrawl_after=7d`` skips those any
crawl finished less than that ago.

The forum answers HTTP 400 to bursts: one request at a time, a delay
(``CAMBRIDGE_FORUM_DELAY``), 400 retried, and a 400/5xx holds the host for
``CAMBRIDGE_FORUM_BACKOFF`` seconds or more.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, tzinfo
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from scrapy import Request, signals
from scrapy.crawler import Crawler
from scrapy.downloadermiddlewares.retry import get_retry_request
from scrapy.http import Response
from scrapy.settings import BaseSettings
from twisted.python.failure import Failure

from soundscraping.items import CmtForumThread
from soundscraping.middlewares.throttle import Throttle
from soundscraping.sites import MalformedPage
from soundscraping.sites.cambridge_mt.forum import parse_forum_page, parse_thread_page
from soundscraping.sites.cambridge_mt.urls import is_direct_audio
from soundscraping.spider_args import Arg, ArgSpec, numbers, one_of
from soundscraping.spiders.base import SoundscrapingSpider
from soundscraping.units import UnitTracker, load_finished, unit_step

DOWNLOAD_MODES = ("none", "mixes")


class CambridgeForumSpider(SoundscrapingSpider):
    name = "cambridge_forum"

    arguments = ArgSpec((
        Arg("forums", "FID,FID,...", numbers, [], attr="fids"),
        Arg("download", "|".join(DOWNLOAD_MODES), one_of(*DOWNLOAD_MODES), "none"),
    ))
    fids: list[int]
    download: str
    # The unit of work: one thread (request meta "tid").
    unit_key = "tid"

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.finished: set[str] = set()  # units to skip, read at start (resume, re-crawl)
        self.thread_forums: dict[str, int] = {}  # thread unit -> the forum whose unit waits for it

    @classmethod
    def update_settings(cls, settings: BaseSettings) -> None:
        """Politeness for this host only (spider priority: ``-s`` still wins)."""
        super().update_settings(settings)
        # Never 0: with no delay Scrapy starts every request queued for a slot
        # at once (its transferring set is filled by tasks not yet running),
        # whatever CONCURRENT_REQUESTS_PER_DOMAIN says.
        delay = max(settings.getfloat("CAMBRIDGE_FORUM_DELAY", 2.0), 0.001)
        settings.set("DOWNLOAD_DELAY", delay, priority="spider")
        settings.set("RANDOMIZE_DOWNLOAD_DELAY", True, priority="spider")
        settings.set("CONCURRENT_REQUESTS_PER_DOMAIN", 1, priority="spider")
        codes = {int(c) for c in settings.getlist("RETRY_HTTP_CODES")} | {400}
        settings.set("RETRY_HTTP_CODES", sorted(codes), priority="spider")

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> CambridgeForumSpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        # Seen before the retry middleware: a burst answer slows the whole host.
        crawler.signals.connect(spider.on_response_downloaded, signal=signals.response_downloaded)
        return spider

    # -- set-up ---------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        return self.settings.get("CAMBRIDGE_FORUM_URL").rstrip("/")

    @property
    def tz(self) -> tzinfo:
        if not hasattr(self, "_tz"):
            self._tz: tzinfo = ZoneInfo(self.settings.get("CAMBRIDGE_FORUM_TIMEZONE") or "UTC")
        return self._tz

    async def start(self) -> AsyncIterator[Any]:
        fids = self.fids or [self.settings.getint("CAMBRIDGE_FORUM_ROOT_FID", 184)]
        self.logger.info("Crawling forum %s from fid %s (downloads: %s, %.1f s between requests)", self.base_url,
                         ",".join(map(str, fids)), self.download, self.settings.getfloat("DOWNLOAD_DELAY"))
        self.finished = await asyncio.to_thread(load_finished, self.crawler, self.name, self.recrawl_after)
        if self.finished:
            forums = sum(1 for unit in self.finished if unit.startswith("forum:"))
            self.logger.info("%d song forums and %d threads were finished %s and are skipped", forums,
                             len(self.finished) - forums, "before in this job" if self.recrawl_after is None
                             else f"less than {self.recrawl_after} ago (or before in this job)")
        self.units.sinks.append(self.unit_finished)
        for fid in fids:
            if (request := self.forum_request(fid)) is not None:
                yield request

    # -- units ------------------------------------------------------------------------
    # A forum's unit counts its list pages (as requests) and, as one request
    # each, the threads listed on them: each is done when the thread's unit
    # finishes (``unit_finished``).

    @property
    def units(self) -> UnitTracker:
        return UnitTracker.for_crawler(self.crawler)

    def unit_finished(self, unit: str) -> None:
        fid = self.thread_forums.pop(unit, None)
        if fid is not None:
            self.units.request_done(forum_unit(fid))

    def forum_request(self, fid: int, page: int = 1) -> Request | None:
        """A page of a forum's thread list (None: that forum was finished)."""
        if page == 1 and forum_unit(fid) in self.finished:
            self.count("soundscraping/units/skipped")
            return None
        query = {"fid": fid, **({"page": page} if page > 1 else {})}
        self.units.request_sent(forum_unit(fid))
        return Request(f"{self.base_url}/forumdisplay.php?{urlencode(query)}", callback=self.parse_forum,
                       errback=self.on_request_error, meta={"fid": fid, "page": page})

    def thread_request(self, thread: CmtForumThread, page: int = 1) -> Request:
        query = {"tid": thread.tid, **({"page": page} if page > 1 else {})}
        return Request(f"{self.base_url}/showthread.php?{urlencode(query)}", callback=self.parse_thread,
                       errback=self.on_thread_error, meta={"tid": thread.tid, "fid": thread.forum_fid,
                                                           "page": page, "thread": thread})

    def now(self, response: Response) -> datetime:
        """The server's clock (relative dates are relative to it)."""
        date = response.headers.get("Date")
        if date:
            try:
                return parsedate_to_datetime(date.decode("latin-1")).astimezone(UTC)
            except (TypeError, ValueError):
                pass
        return datetime.now(UTC)

    # -- politeness -------------------------------------------------------------------

    def on_response_downloaded(self, response: Response, request: Request, spider: Any = None) -> None:
        if response.status != 400 and response.status < 500:
            return
        delay = Throttle.for_crawler(self.crawler).slow_down(
            request, floor=self.settings.getfloat("CAMBRIDGE_FORUM_BACKOFF", 30.0),
            ceiling=self.settings.getfloat("CAMBRIDGE_FORUM_BACKOFF_MAX", 300.0))
        if delay is None:
            return
        self.count("soundscraping/forum/backoff")
        self.logger.info("HTTP %d from the forum: pausing the host, one request every %.1f s", response.status,
                         delay)

    # -- callbacks ----------------------------------------------------------------------

    def _malformed(self, response: Response, exc: Exception) -> Request | None:
        retry = get_retry_request(response.request, spider=self, reason="malformed_page", max_retry_times=2)
        if retry is not None:
            self.count("soundscraping/retry/malformed_page")
            return retry
        self.skip("malformed_page", "Page not recognised, skipped (%s): %s: %s", self.context(response),
                  response.url, exc)
        return None

    def parse_forum(self, response: Response) -> Iterator[Any]:
        fid = response.meta["fid"]
        try:
            yield from self.read_forum(response)
        finally:
            self.units.request_done(forum_unit(fid))

    def read_forum(self, response: Response) -> Iterator[Any]:
        fid, number = response.meta["fid"], response.meta.get("page", 1)
        try:
            page = parse_forum_page(response.text, response.url, now=self.now(response), tz=self.tz)
        except MalformedPage as exc:
            if (retry := self._malformed(response, exc)) is not None:
                self.units.request_sent(forum_unit(fid))
                yield retry
            return
        if not page.forums and not page.threads and number == 1:
            self.count("soundscraping/forum/empty_forums")
        if page.forums and number == 1:
            # Lists forums: never finished (held by one request never done),
            # it is read on every run to find new forums and threads.
            self.units.request_sent(forum_unit(fid))
        for row in page.forums:
            self.count("soundscraping/forum/forums")
            if (request := self.forum_request(row.fid)) is not None:
                yield request
        if number == 1:
            if page.pages > 1:
                self.logger.debug("Forum %d (%s): %d thread pages", fid, page.name, page.pages)
            for k in range(2, page.pages + 1):
                yield self.forum_request(fid, k)
        for thread in page.threads:
            thread.forum_fid = fid
            unit = str(thread.tid)
            if unit in self.finished:
                self.count("soundscraping/units/skipped")
                continue
            if unit not in self.thread_forums and unit not in self.units.finished:
                self.thread_forums[unit] = fid
                self.units.request_sent(forum_unit(fid))
            self.units.request_sent(thread.tid)
            yield self.thread_request(thread)

    @unit_step
    def parse_thread(self, response: Response) -> Iterator[Any]:
        try:
            page = parse_thread_page(response.text, response.url, now=self.now(response), tz=self.tz)
        except MalformedPage as exc:
            if (retry := self._malformed(response, exc)) is not None:
                yield retry
            return
        thread: CmtForumThread = response.meta["thread"]
        number = response.meta.get("page", 1)
        if number == 1:
            # The 2024 thread-list template shows no start date: the first post's is it.
            if thread.started_at is None and page.posts:
                thread.started_at = page.posts[0].posted_at
            if not thread.title and page.title:
                thread.title = page.title
            yield thread
            for k in range(2, page.pages + 1):
                yield self.thread_request(thread, k)
        for post in page.posts:
            post.tid = thread.tid
            yield post
        for mix in page.mixes:
            mix.tid = thread.tid
            if self.download == "mixes" and (mix.kind in ("attachment", "audio") or is_direct_audio(mix.url)):
                mix.file_urls = [mix.url]
            self.count(f"soundscraping/forum/mixes/{mix.kind}")
            if mix.kind in ("attachment", "audio") and not mix.filename:
                # Stored all the same; a run of these means the attachment markup changed.
                self.count("soundscraping/forum/mixes/attachment_without_filename")
                self.logger.warning("Attachment without a file name in post %d (%s): %s", mix.pid,
                                    self.context(response), mix.url)
            yield mix

    def on_thread_error(self, failure: Failure) -> Iterator[Any]:
        """A thread that cannot be read is still a thread: keep its list row."""
        meta = failure.request.meta
        thread = meta.get("thread") if meta.get("page", 1) == 1 else None
        if thread is not None:  # counted before the request: the unit cannot finish before its row
            UnitTracker.for_crawler(self.crawler).item_sent(meta.get("tid"), thread)
        self.on_request_error(failure)
        if thread is not None:
            yield thread


def forum_unit(fid: int) -> str:
    """A forum's unit name (a thread's is its tid)."""
    return f"forum:{fid}"
