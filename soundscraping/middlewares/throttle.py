"""How fast each host is fetched, owned by one component per crawl.

``Throttle`` holds every pacing rule:

- per-site request budgets (``REQUEST_BUDGETS``): requests to a site are
  spaced evenly so that at most N go out per SECONDS, counted separately for
  each value of a query parameter (SoundCloud limits each client_id);
- holds: a host that sent ``Retry-After`` gets no request before then;
- download-slot delays: slowed down on 429s (and the forum's 400 bursts),
  relaxed again on successes.  Scrapy has no public API for a slot's delay;
  this is the one place that edits ``engine.downloader.slots``.

``ThrottleMiddleware`` (a downloader middleware) makes each request wait
for its turn; ``BackoffRetryMiddleware`` and the spiders call the
``Throttle`` for the rest.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import parse_qs, urlparse

from scrapy import Request
from scrapy.crawler import Crawler

from soundscraping.per_crawler import per_crawler

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Budget:
    requests: int
    seconds: float
    per: str | None  # query parameter whose values each get the budget

    @property
    def interval(self) -> float:
        return self.seconds / self.requests

    @staticmethod
    def parse(text: str, per: str | None = None) -> Budget | None:
        """``"600/600"`` = 600 requests per 600 s; empty or ``0`` = no budget."""
        text = str(text or "").strip()
        if text in ("", "0"):
            return None
        count, _, seconds = text.partition("/")
        try:
            budget = Budget(int(count), float(seconds or 1), per)
        except ValueError:
            raise ValueError(f"a request budget is N/SECONDS, e.g. 600/600 (got {text!r})") from None
        if budget.requests <= 0 or budget.seconds <= 0:
            raise ValueError(f"a request budget needs N > 0 and SECONDS > 0 (got {text!r})")
        return budget


def retry_after_seconds(value: bytes | str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header: delta-seconds or an
    HTTP-date (RFC 9110 §10.2.3); None when absent or unreadable."""
    if value is None:
        return None
    text = value.decode("latin-1") if isinstance(value, bytes) else value
    text = text.strip()
    if text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when is None or when.tzinfo is None:
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


class Throttle:
    def __init__(self, crawler: Crawler):
        self.crawler = crawler
        settings = crawler.settings
        self.base_delay = settings.getfloat("DOWNLOAD_DELAY", 0.0)
        self.budgets: dict[str, Budget] = {}
        for url_setting, spec in settings.getdict("REQUEST_BUDGETS").items():
            url = settings.get(url_setting)
            budget = Budget.parse(settings.get(spec.get("budget", "")), spec.get("per"))
            if url and budget is not None:
                self.budgets[urlparse(url).netloc] = budget
        self._next_turn: dict[tuple[str, str | None], float] = {}
        self._held_until: dict[str, float] = {}

    @classmethod
    def for_crawler(cls, crawler: Crawler) -> Throttle:
        return per_crawler(cls, crawler)

    # -- budgets and holds ---------------------------------------------------------

    def turn_delay(self, request: Request) -> float:
        """Reserve the request's turn; the seconds it must wait for it."""
        parsed = urlparse(request.url)
        now = time.monotonic()
        start = max(now, self._held_until.get(parsed.netloc, 0.0))
        budget = self.budgets.get(parsed.netloc)
        if budget is not None:
            who = parse_qs(parsed.query).get(budget.per, [None])[0] if budget.per else None
            key = (parsed.netloc, who)
            start = max(start, self._next_turn.get(key, 0.0))
            self._next_turn[key] = start + budget.interval
        return start - now

    def hold(self, request: Request, seconds: float) -> None:
        """No request to this host for ``seconds`` (a server's Retry-After)."""
        netloc = urlparse(request.url).netloc
        self._held_until[netloc] = max(self._held_until.get(netloc, 0.0), time.monotonic() + seconds)

    # -- download-slot delays ------------------------------------------------------

    def _slot(self, request: Request) -> Any:
        engine = self.crawler.engine
        if engine is None:
            return None
        downloader = engine.downloader
        return downloader.slots.get(downloader.get_slot_key(request))

    def slow_down(self, request: Request, floor: float, ceiling: float) -> float | None:
        """Double the host's delay between requests (at least ``floor``, at
        most ``ceiling``); the new delay, or None before the host has a slot."""
        slot = self._slot(request)
        if slot is None:
            return None
        slot.delay = min(ceiling, max(floor, slot.delay * 2))
        return float(slot.delay)

    def relax(self, request: Request) -> None:
        """A success: ease the host's delay 10% back towards DOWNLOAD_DELAY."""
        slot = self._slot(request)
        if slot is not None and slot.delay > self.base_delay:
            slot.delay = max(self.base_delay, slot.delay * 0.9 if slot.delay > 0.05 else 0)


class ThrottleMiddleware:
    """Each request waits for its turn under the site's budget and any hold."""

    def __init__(self, crawler: Crawler):
        self.throttle = Throttle.for_crawler(crawler)
        self.stats = crawler.stats

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ThrottleMiddleware:
        return cls(crawler)

    async def process_request(self, request: Request, spider: Any = None) -> None:
        if request.meta.get("playwright"):
            return
        wait = self.throttle.turn_delay(request)
        if wait > 0:
            self.stats.inc_value("soundscraping/throttle/waited_seconds", round(wait, 3))
            await asyncio.sleep(wait)
