"""Behaviour shared by the spiders: accounting for everything skipped or
retried (every site), and the SoundCloud spiders' base (api-v2 requests and
paging built by sites/soundcloud/paging.py)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from datetime import timedelta
from typing import Any, ClassVar

import scrapy
from scrapy import Request
from scrapy.downloadermiddlewares.retry import get_retry_request
from scrapy.http import Response
from scrapy.settings import BaseSettings
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.python.failure import Failure

from soundscraping.items import SoundCloudUser
from soundscraping.sites import AnsweredHosts, MalformedPage, SiteUnreachable, site_setting, unreachable_message
from soundscraping.sites.soundcloud.client_id import ClientIdNotFound, ClientIdStore
from soundscraping.sites.soundcloud.paging import (
    endpoint_url,
    first_page_params,
    next_page_url,
    page_meta,
    repeats_page,
)
from soundscraping.sites.soundcloud.parsers import (
    DjSetRule,
    Page,
    embedded_user,
    parse_collection_page,
    parse_user_json,
)
from soundscraping.spider_args import RECRAWL_AFTER, SCRAPYD_ARGUMENTS, ArgSpec
from soundscraping.units import UnitTracker


class SoundscrapingSpider(scrapy.Spider):
    """Base of every soundscraping spider: skips and retries are logged with
    a reason and counted under ``soundscraping/`` in the crawl stats, and the
    ``-a`` arguments are those declared in ``arguments`` (parsed values become
    attributes; anything else is refused)."""

    arguments: ClassVar[ArgSpec] = ArgSpec()
    # Request meta key naming the unit of work a request is for (resumable
    # spiders: see soundscraping.units); None = no units.
    unit_key: ClassVar[str | None] = None
    # Whether workers can share this spider's job through Redis (REDIS_URL;
    # soundscraping.distributed): the spider claims its units with leases.
    shares_work: ClassVar[bool] = False
    # Its units in the job's queue, in distributed mode (a SharedUnits, set
    # by such a spider's from_crawler); None otherwise.
    shared: Any = None

    recrawl_after: timedelta | None  # -a recrawl_after (every spider; see soundscraping.units)

    def __init__(self, *args: Any, **kwargs: Any):
        values = self.parse_arguments(kwargs)
        super().__init__(*args, **{k: v for k, v in kwargs.items() if k in SCRAPYD_ARGUMENTS})
        for arg in self.all_arguments().args:
            setattr(self, arg.attr or arg.name, values[arg.name])

    @classmethod
    def update_settings(cls, settings: BaseSettings) -> None:
        super().update_settings(settings)
        if settings.get("REDIS_URL"):
            # Distributed mode: scrapy-redis schedules and dupefilters (see
            # soundscraping.distributed).  A SCHEDULER given with -s still wins.
            settings.set("SCHEDULER", "soundscraping.distributed.scheduler.WorkerScheduler", priority="project")
        contact = settings.get("CONTACT_URL")
        if contact:
            settings.set("USER_AGENT", user_agent_with_contact(settings.get("USER_AGENT"), contact),
                         priority=settings.getpriority("USER_AGENT") or "project")

    @classmethod
    def parse_arguments(cls, given: Mapping[str, Any]) -> dict[str, Any]:
        """The values of ``-a`` arguments; ``SpiderArgumentError`` (one line)
        for a mistake.  The crawl command calls it before anything starts."""
        return cls.all_arguments().parse(cls.name, given)

    @classmethod
    def all_arguments(cls) -> ArgSpec:
        """The spider's own arguments and those every spider takes."""
        return cls.arguments.with_args(RECRAWL_AFTER)

    def waiting_for_work(self) -> bool:
        """Distributed mode: other workers hold leases on units that may add
        work or expire (the store pipeline does not close the crawl then)."""
        return self.shared is not None and self.shared.waiting_for_work()

    def count(self, key: str, n: int = 1) -> None:
        self.crawler.stats.inc_value(key, n)

    def skip(self, reason: str, message: str, *args: Any) -> None:
        """Log why something is skipped and count it under soundscraping/skipped/."""
        self.count(f"soundscraping/skipped/{reason}")
        self.logger.warning(message, *args)

    @staticmethod
    def context(response_or_request: Any) -> str:
        """Who a request is for, for log lines (artist, account, track, ...)."""
        meta = response_or_request.meta
        parts = [f"{k}={meta[k]}" for k in CONTEXT_META_KEYS if meta.get(k)]
        return ", ".join(parts) or "no context"

    def on_request_error(self, failure: Failure) -> None:
        request = failure.request
        if failure.check(HttpError):
            status = failure.value.response.status
            self.skip(f"http_{status}", "Skipped %s after HTTP %d (%s)", request.url, status, self.context(request))
        elif request.url not in AnsweredHosts.for_crawler(self.crawler) and site_setting(self.settings, request.url):
            # Not one answer from that host yet: its setting is wrong or the site is down.
            self.count("soundscraping/site_unreachable")
            self.logger.error("Cannot crawl: %s", unreachable_message(self.settings, request.url,
                                                                      failure.getErrorMessage()))
            self._close_task = asyncio.ensure_future(self.crawler.engine.close_spider_async(reason="site_unreachable"))
        else:
            self.skip(f"error_{failure.type.__name__}", "Skipped %s after %s: %s (%s)", request.url,
                      failure.type.__name__, failure.getErrorMessage(), self.context(request))
        if self.unit_key:
            UnitTracker.for_crawler(self.crawler).request_done(request.meta.get(self.unit_key))

    def malformed(self, response: Response, exc: Exception) -> Request | None:
        """A retry of a page whose body did not parse (twice at most), or None
        once it is skipped."""
        retry = get_retry_request(response.request, spider=self, reason="malformed_json", max_retry_times=2)
        if retry is not None:
            self.count("soundscraping/retry/malformed_json")
            retry.meta.pop("download_latency", None)
            return retry
        self.skip("malformed_json", "Malformed response skipped (%s) for %s: %s",
                  self.context(response), response.url, exc)
        return None


def user_agent_with_contact(user_agent: str, contact: str) -> str:
    """``... (research crawler)`` -> ``... (research crawler; +CONTACT_URL)``."""
    if f"+{contact}" in user_agent:
        return user_agent
    if user_agent.endswith(")"):
        return f"{user_agent[:-1]}; +{contact})"
    return f"{user_agent} (+{contact})"


# Request meta keys that say whom a request is for (shown in log lines).
CONTEXT_META_KEYS = ("artist", "account", "kind", "user_id", "track_id", "song", "fid", "tid")


class SoundCloudSpider(SoundscrapingSpider):
    """Base for spiders that crawl api-v2.  Subclasses set ``name``."""

    custom_settings: dict[str, Any] = {}

    @property
    def client_ids(self) -> ClientIdStore:
        return ClientIdStore.for_crawler(self.crawler)

    @property
    def api_url(self) -> str:
        return self.settings.get("SOUNDCLOUD_API_URL").rstrip("/")

    @property
    def web_url(self) -> str:
        return self.settings.get("SOUNDCLOUD_URL").rstrip("/")

    @property
    def page_size(self) -> int:
        return self.settings.getint("SOUNDCLOUD_PAGE_SIZE", 200)

    def dj_set_rule(self) -> DjSetRule:
        s = self.settings
        return DjSetRule(
            min_minutes=s.getfloat("SOUNDCLOUD_DJ_SET_MIN_MINUTES", 30),
            keyword_min_minutes=s.getfloat("SOUNDCLOUD_DJ_SET_KEYWORD_MIN_MINUTES", 12),
            keywords=tuple(s.getlist("SOUNDCLOUD_DJ_SET_KEYWORDS")),
        )

    async def ensure_client_id(self) -> bool:
        """Discover the client_id before the first request; on failure say
        why and close the spider (nothing can be fetched without one)."""
        try:
            await self.client_ids.get()
        except (ClientIdNotFound, SiteUnreachable) as exc:
            self.logger.error("Cannot crawl SoundCloud: %s", exc)
            unreachable = isinstance(exc, SiteUnreachable)
            await self.crawler.engine.close_spider_async(
                reason="site_unreachable" if unreachable else "client_id_not_found")
            return False
        return True

    # -- items ----------------------------------------------------------------------

    def user_item(self, user: dict[str, Any], scraped_at: str | None) -> SoundCloudUser:
        """A user met in full (profile, search, followings): always emitted."""
        self._users_emitted().add(user.get("id"))
        return parse_user_json(user, scraped_at=scraped_at)

    def embedded_user_item(self, obj: dict[str, Any], scraped_at: str | None) -> SoundCloudUser | None:
        """The mini user embedded in a track or comment, once per crawl.  The
        same authors recur on every page; emitting them again would only feed
        the dedupe pipeline (which stays the safety net)."""
        user = embedded_user(obj)
        if user is None or user["id"] in self._users_emitted():
            return None
        self._users_emitted().add(user["id"])
        return parse_user_json(user, scraped_at=scraped_at)

    def _users_emitted(self) -> set[Any]:
        if not hasattr(self, "_emitted_user_ids"):
            self._emitted_user_ids: set[Any] = set()
        return self._emitted_user_ids

    # -- requests ------------------------------------------------------------------

    def api_request(self, path: str, callback: Callable[..., Any], *, params: dict[str, Any] | None = None,
                    meta: dict[str, Any] | None = None, handle_404: bool = False,
                    errback: Callable[[Failure], Any] | None = None) -> Request:
        """A request to ``SOUNDCLOUD_API_URL + path`` with the current client_id."""
        url = endpoint_url(self.api_url, path, params, self.client_ids.current)
        meta = dict(meta or {})
        if handle_404:
            meta["handle_httpstatus_list"] = [404]
        return Request(url, callback=callback, errback=errback or self.on_request_error, meta=meta,
                       dont_filter=bool(meta.get("redo")))

    def paged_request(self, path: str, callback: Callable[..., Any], *, params: dict[str, Any] | None = None,
                      meta: dict[str, Any] | None = None, errback: Callable[[Failure], Any] | None = None) -> Request:
        """First page of a collection, at the largest page size."""
        return self.api_request(path, callback, params=first_page_params(self.page_size, params), meta=meta,
                                errback=errback)

    def next_page(self, response: Response, page: Page, callback: Callable[..., Any]) -> Request | None:
        """The request for ``next_href``, or None at the end.  Short and empty
        pages are normal and do not end the collection; a next_href that points
        back at the page just read (repost feeds do this) does."""
        if not page.next_href:
            return None
        if repeats_page(page.next_href, response.url):
            self.count("soundscraping/pagination/repeated_page")
            self.logger.info("Stopping at a repeated page (%s): %s", self.context(response), page.next_href)
            return None
        url = next_page_url(page.next_href, response.url, self.client_ids.current)
        return Request(url, callback=callback, errback=response.request.errback or self.on_request_error,
                       meta=page_meta(response.meta), dont_filter=bool(response.meta.get("redo")))

    def read_page(self, response: Response) -> Page | Request | None:
        """The collection on this response; a retry request (once) or None
        when the body is malformed."""
        try:
            return parse_collection_page(response.body)
        except MalformedPage as exc:
            return self.malformed(response, exc)

