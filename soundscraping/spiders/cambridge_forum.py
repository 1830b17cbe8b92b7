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

With REDIS_URL set (soundscraping.distributed.shared_units) the workers
started with the same arguments share the job's queue of units, each
claimed by one worker with a lease: a forum's list (unit
``forum-list:<fid>``: every page of its thread list, finished once they are
read) and a thread (unit ``<tid>``, as above).  Each worker offers the
forums it starts from; the worker that reads a forum's list offers the
forums and threads on it (with each thread's list row, which the thread's
row is made of), and offering is idempotent: a unit already queued, under
way or done is left alone, a thread listed twice keeps its first row.  A
forum-list unit does not wait for its threads (other workers do them), hence
its own name.  A worker that dies loses its leases: its units are redone.

The forum answers HTTP 400 to bursts: one request at a time, a delay
(``CAMBRIDGE_FORUM_DELAY``), 400 retried, and a 400/5xx holds the host for
``CAMBRIDGE_FORUM_BACKOFF`` seconds or more.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from dataclasses import asdict
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

from soundscraping.distributed.shared_units import SharedUnits
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
    shares_work = True

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
        # Distributed mode: forum lists and threads are the job's units.
        spider.shared = SharedUnits.for_spider(spider, spider.claimed_unit)
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
        if self.shared is not None:
            # Threads finished recently enough are not offered (offer_listed);
            # a forum's list is read again by each job (new threads).
            self.finished = {unit for unit in self.finished if unit.isdigit()}
            if self.finished:
                self.logger.info("%d threads were finished %s and are not offered", len(self.finished),
                                 "before in this job" if self.recrawl_after is None
                                 else f"less than {self.recrawl_after} ago (or before in this job)")
            for request in await self.shared.start([shared_forum_unit(fid) for fid in fids]):
                yield request
            return
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

    def list_unit(self, fid: int) -> str:
        """The unit a forum's list pages count for, in this mode."""
        return shared_forum_unit(fid) if self.shared is not None else forum_unit(fid)

    def forum_request(self, fid: int, page: int = 1, redo: bool = False) -> Request | None:
        """A page of a forum's thread list (None: that forum was finished)."""
        if page == 1 and forum_unit(fid) in self.finished:
            self.count("soundscraping/units/skipped")
            return None
        query = {"fid": fid, **({"page": page} if page > 1 else {})}
        self.units.request_sent(self.list_unit(fid))
        # A unit redone after its first holder died asks the same pages again (past the shared dupefilter).
        return Request(f"{self.base_url}/forumdisplay.php?{urlencode(query)}", callback=self.parse_forum,
                       errback=self.on_forum_error, meta={"fid": fid, "page": page, **({"redo": True} if redo else {})},
                       dont_filter=redo)

    def thread_request(self, thread: CmtForumThread, page: int = 1, redo: bool = False) -> Request:
        query = {"tid": thread.tid, **({"page": page} if page > 1 else {})}
        return Request(f"{self.base_url}/showthread.php?{urlencode(query)}", callback=self.parse_thread,
                       errback=self.on_thread_error, meta={"tid": thread.tid, "fid": thread.forum_fid,
                                                           "page": page, "thread": thread,
                                                           **({"redo": True} if redo else {})},
                       dont_filter=redo)

    def claimed_unit(self, unit: str, payload: Any, redo: bool) -> list[Request]:
        """Distributed mode: the first request of a claimed forum list or
        thread (its list row came with it, from the worker that listed it)."""
        if unit.startswith(SHARED_FORUM_UNIT):
            request = self.forum_request(int(unit.removeprefix(SHARED_FORUM_UNIT)), redo=redo)
            return [request] if request is not None else []
        self.units.request_sent(unit)
        return [self.thread_request(CmtForumThread(**payload), redo=redo)]

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
            self.units.request_done(self.list_unit(fid))

    def on_forum_error(self, failure: Failure) -> None:
        """A list page that cannot be read: skipped and counted.  Distributed,
        its forum-list unit still finishes (holding its lease for good would
        keep every worker waiting); alone, the forum stays unfinished."""
        self.on_request_error(failure)
        if self.shared is not None:
            self.units.request_done(self.list_unit(failure.request.meta["fid"]))

    def read_forum(self, response: Response) -> Iterator[Any]:
        fid, number, redo = response.meta["fid"], response.meta.get("page", 1), bool(response.meta.get("redo"))
        try:
            page = parse_forum_page(response.text, response.url, now=self.now(response), tz=self.tz)
        except MalformedPage as exc:
            if (retry := self._malformed(response, exc)) is not None:
                self.units.request_sent(self.list_unit(fid))
                yield retry
            return
        if not page.forums and not page.threads and number == 1:
            self.count("soundscraping/forum/empty_forums")
        if self.shared is not None:
            yield from self.offer_listed(fid, number, page, redo)
            return
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

    def offer_listed(self, fid: int, number: int, page: Any, redo: bool) -> Iterator[Request]:
        """Distributed mode: the forums and threads on a list page go to the
        job's queue (forums first); the list's further pages are this unit's."""
        self.count("soundscraping/forum/forums", len(page.forums))
        self.shared.offer([shared_forum_unit(row.fid) for row in page.forums], score=1.0)
        if number == 1:
            for k in range(2, page.pages + 1):
                if (request := self.forum_request(fid, k, redo=redo)) is not None:
                    yield request
        due = [thread for thread in page.threads if str(thread.tid) not in self.finished]
        if skipped := len(page.threads) - len(due):
            self.count("soundscraping/units/skipped", skipped)
        for thread in due:
            thread.forum_fid = fid
        self.shared.offer([str(thread.tid) for thread in due], payloads=[asdict(t) for t in due])

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
                yield self.thread_request(thread, k, redo=bool(response.meta.get("redo")))
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


SHARED_FORUM_UNIT = "forum-list:"


def shared_forum_unit(fid: int) -> str:
    """A forum's list, as a unit of a distributed job (its threads are units of their own)."""
    return f"{SHARED_FORUM_UNIT}{fid}"
