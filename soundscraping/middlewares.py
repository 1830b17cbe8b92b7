"""Downloader middlewares: retry with back-off, SoundCloud client_id upkeep,
and passing anti-bot checks (SoundCloud's DataDome, Beatport's Cloudflare)
with a real browser (scrapy-playwright)."""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

import scrapy.downloadermiddlewares.cookies as scrapy_cookies
from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.http import Response
from scrapy.settings import Settings
from scrapy.utils.misc import load_object
from scrapy.utils.response import response_status_message
from tldextract import TLDExtract

from soundscraping.sites import AnsweredHosts
from soundscraping.soundcloud_api import ClientIdStore, client_id_of, masked, with_client_id
from soundscraping.throttle import Throttle, retry_after_seconds

logger = logging.getLogger(__name__)

# Scrapy's cookie middleware downloads the public-suffix list on first use;
# use the snapshot bundled with tldextract instead, so a crawl never depends
# on (or waits for) publicsuffix.org.
scrapy_cookies._split_domain = TLDExtract(suffix_list_urls=(), include_psl_private_domains=True)


class BackoffRetryMiddleware(RetryMiddleware):
    """Scrapy's RetryMiddleware (same settings and stats) plus exponential
    back-off with jitter.  A ``Retry-After`` header (seconds or an HTTP-date)
    is honoured: the retry and every other request to that host wait that
    long (at most RETRY_AFTER_MAX).  SoundCloud sends none with its 429s, so a
    429 also slows the whole host: its delay doubles, and decays again with
    each success (soundscraping.throttle owns those delays)."""

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> BackoffRetryMiddleware:
        mw = super().from_crawler(crawler)
        mw.backoff_base = crawler.settings.getfloat("RETRY_BACKOFF_BASE", 1.0)
        mw.backoff_max = crawler.settings.getfloat("RETRY_BACKOFF_MAX", 60.0)
        mw.retry_after_max = crawler.settings.getfloat("RETRY_AFTER_MAX", 900.0)
        mw.first_contact_retries = crawler.settings.getint("RETRY_FIRST_CONTACT_TIMES", 2)
        mw.answered_hosts = AnsweredHosts.for_crawler(crawler)
        mw.throttle = Throttle.for_crawler(crawler)
        return mw

    async def process_response(self, request: Request, response: Response, spider: Any = None) -> Request | Response:
        self.answered_hosts.add(request.url)
        if response.status < 400:
            self.throttle.relax(request)
        if request.meta.get("dont_retry") or response.status not in self.retry_http_codes:
            return response
        retry_after = self._retry_after(request, response)
        if response.status == 429 and retry_after is None:
            delay = self.throttle.slow_down(request, floor=0.5, ceiling=self.backoff_max)
            if delay is not None:
                logger.info("429 from %s: slowing that host to one request every %.1f s",
                            urlparse(request.url).netloc, delay)
        self.crawler.stats.inc_value(f"soundscraping/retry/http_{response.status}")
        retry = self._retry(request, response_status_message(response.status))
        if retry is None:
            self.crawler.stats.inc_value(f"soundscraping/gave_up/http_{response.status}")
            return response
        await asyncio.sleep(max(self._delay(request), retry_after or 0))
        return retry

    def _retry_after(self, request: Request, response: Response) -> float | None:
        """The server's Retry-After in seconds (capped); the host is held that long."""
        seconds = retry_after_seconds(response.headers.get("Retry-After"))
        if seconds is None:
            return None
        if seconds > self.retry_after_max:
            logger.warning("%s asks to wait %.0f s (Retry-After); waiting RETRY_AFTER_MAX=%.0f s instead",
                           urlparse(request.url).netloc, seconds, self.retry_after_max)
            seconds = self.retry_after_max
        self.crawler.stats.inc_value("soundscraping/retry/retry_after_honoured")
        logger.info("HTTP %d from %s with Retry-After: no request to that host for %.1f s", response.status,
                    urlparse(request.url).netloc, seconds)
        self.throttle.hold(request, seconds)
        return seconds

    async def process_exception(self, request: Request, exception: Exception, spider: Any = None) -> Any:
        if isinstance(exception, self.exceptions_to_retry) and not request.meta.get("dont_retry"):
            host = urlparse(request.url).netloc
            if request.url not in self.answered_hosts:
                # A host that never answered is more likely misconfigured than
                # flaky: fail fast so the user hears about it within seconds.
                request.meta.setdefault("max_retry_times", self.first_contact_retries)
            retry = self._retry(request, exception)
            if retry is not None:
                delay = self._delay(request)
                logger.warning("No answer from %s (%s); retrying %s in %.1f s", host,
                               str(exception).strip() or type(exception).__name__, request.url, delay)
                await asyncio.sleep(delay)
            else:
                self.crawler.stats.inc_value(f"soundscraping/gave_up/{type(exception).__name__}")
            return retry
        return None

    def _delay(self, request: Request) -> float:
        attempt = request.meta.get("retry_times", 0)
        delay = min(self.backoff_max, self.backoff_base * 2**attempt)
        return delay * random.uniform(0.75, 1.25)  # noqa: S311 - jitter, not crypto


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
        if response.status == 403 and response.headers.get("x-datadome"):
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


def datadome_block(response: Response) -> bool:
    """SoundCloud's DataDome block: 403 with an ``x-datadome`` header."""
    return response.status == 403 and bool(response.headers.get("x-datadome"))


def cloudflare_challenge(response: Response) -> bool:
    """Cloudflare's managed challenge ("Just a moment..."): marked with
    ``cf-mitigated: challenge``, or a 403/503 page carrying the challenge
    script.  Cloudflare's plain 403s (blocked query, bad User-Agent) are not
    challenges: no browser gets past those."""
    if (response.headers.get("cf-mitigated") or b"").lower() == b"challenge":
        return True
    if response.status not in (403, 503):
        return False
    head = response.body[:40_000]
    return b"<title>Just a moment" in head or b"_cf_chl_opt" in head


@dataclass
class ChallengeProfile:
    """One site's anti-bot check (an ``ANTIBOT_PROFILES`` entry) and what the
    crawl holds for it: the cookie a browser earned and, when the cookie is
    bound to it, that browser's User-Agent."""

    name: str
    detect: Callable[[Response], bool]
    hosts: frozenset[str]  # netlocs whose requests carry the cookie
    page_url: str | None  # what the browser opens; None = the blocked URL itself
    cookie: str
    same_user_agent: bool  # later requests must send the browser's User-Agent
    max_solves: int
    max_solves_setting: str
    timeout: float  # seconds the browser waits for the cookie
    # Hold this site's requests while a pass is under way, and once a pass
    # failed hand later blocks on without another browser: Cloudflare guards
    # every page of a host, so a failed pass means the crawl cannot go on
    # (DataDome guards some endpoints only; SoundCloud's other requests go on).
    hold: bool = False
    failed: bool = False
    solves: int = 0
    generation: int = 0  # bumped by every pass; requests remember the one they left with
    value: str | None = None
    expires: float | None = None
    user_agent: str | None = None
    lock: asyncio.Lock | None = None
    gave_up_logged: bool = False

    @classmethod
    def from_settings(cls, name: str, spec: Mapping[str, Any], settings: Settings) -> ChallengeProfile:
        """``hosts``, ``page``, ``max_solves`` and ``timeout`` name settings, so
        ``-s`` overrides and environment variables of those apply."""
        detect = spec["detect"]
        page = spec.get("page")
        max_setting = spec.get("max_solves") or ""
        timeout_setting = spec.get("timeout") or ""
        return cls(
            name=name, detect=load_object(detect) if isinstance(detect, str) else detect,
            hosts=frozenset(urlparse(settings.get(h)).netloc for h in spec.get("hosts", ()) if settings.get(h)),
            page_url=settings.get(page).rstrip("/") + "/" if page and settings.get(page) else None,
            cookie=spec["cookie"], same_user_agent=bool(spec.get("same_user_agent")),
            max_solves=settings.getint(max_setting, 5) if max_setting else 5, max_solves_setting=max_setting,
            timeout=settings.getfloat(timeout_setting, 30) if timeout_setting else 30.0,
            hold=bool(spec.get("hold_requests")),
        )

    def current(self) -> str | None:
        """The earned cookie while it is valid (a lapsed one is dropped: the
        site will challenge again and a new pass follows)."""
        if self.value and self.expires and time.time() >= self.expires:
            logger.info("The %s anti-bot cookie %s expired", self.name, self.cookie)
            self.value = self.user_agent = self.expires = None
        return self.value


class AntiBotBrowserMiddleware:
    """Passes anti-bot checks the way a person would: a real Chromium
    (scrapy-playwright) opens the site, the site's script issues its cookie,
    and the crawl carries on over plain HTTP with that cookie (and, where the
    cookie is bound to it, the browser's User-Agent).

    One mechanism for every site; each site is a ``ChallengeProfile`` from
    the ``ANTIBOT_PROFILES`` setting: how a block is recognised, which page the
    browser opens, which cookie proves the pass, the User-Agent rule and the
    per-crawl cap of browser passes.  A blocked response is matched to the
    profile of its host, else to the first profile that recognises it.
    Passes are one at a time per site; requests blocked meanwhile retry with
    the fresh cookie; a request still blocked after two passes, or any block
    once the cap is used, is reported and handed on, never looped."""

    def __init__(self, crawler: Crawler):
        self.crawler = crawler
        settings = crawler.settings
        self.profiles = [ChallengeProfile.from_settings(name, spec, settings)
                         for name, spec in settings.getdict("ANTIBOT_PROFILES").items()]
        self.by_host = {host: p for p in self.profiles for host in p.hosts}

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> AntiBotBrowserMiddleware:
        return cls(crawler)

    async def process_request(self, request: Request, spider: Any = None) -> None:
        if request.meta.get("playwright"):
            return
        # The generation is taken before any wait: a request held during a
        # pass that failed must not start another one.
        request.meta.setdefault("antibot_generation", {p.name: p.generation for p in self.profiles})
        profile = self.by_host.get(urlparse(request.url).netloc)
        if profile is not None and profile.hold and profile.lock is not None and profile.lock.locked():
            async with profile.lock:
                pass  # a browser is passing this site's check: wait for its cookie
        if profile is not None and (value := profile.current()):
            # A blocked response re-sets a junk cookie in the jar; the passed
            # one must win on every request.
            request.cookies = {**_as_dict(request.cookies), profile.cookie: value}
            if profile.same_user_agent and profile.user_agent:
                request.headers["User-Agent"] = profile.user_agent

    def _profile_for(self, request: Request, response: Response) -> ChallengeProfile | None:
        profile = self.by_host.get(urlparse(request.url).netloc)
        if profile is not None:
            return profile if profile.detect(response) else None
        return next((p for p in self.profiles if p.detect(response)), None)

    def _count(self, profile: ChallengeProfile, event: str) -> None:
        """``soundscraping/antibot/<event>`` (all sites) and
        ``soundscraping/antibot/<site>/<event>``."""
        stats = self.crawler.stats
        stats.inc_value(f"soundscraping/antibot/{event}")
        stats.inc_value(f"soundscraping/antibot/{profile.name}/{event}")

    async def process_response(self, request: Request, response: Response, spider: Any = None) -> Request | Response:
        if request.meta.get("playwright"):
            return response
        profile = self._profile_for(request, response)
        if profile is None:
            return response
        self._count(profile, "blocked")
        if profile.hold and profile.failed:
            self._count(profile, "gave_up")
            return response
        attempts = request.meta.get("antibot_attempts", 0)
        if attempts >= 2:
            self._count(profile, "gave_up")
            logger.error("Still blocked by the anti-bot check after %d browser passes: %s", attempts, request.url)
            return response
        if profile.lock is None:
            profile.lock = asyncio.Lock()
        async with profile.lock:
            if request.meta.get("antibot_generation", {}).get(profile.name, 0) >= profile.generation:
                # Nobody passed since this request left: pass now.
                if profile.solves >= profile.max_solves:
                    if not profile.gave_up_logged:
                        profile.gave_up_logged = True
                        logger.error("Anti-bot check: %d browser passes used (%s); blocked requests are now skipped",
                                     profile.solves, profile.max_solves_setting or "max_solves")
                    self._count(profile, "gave_up")
                    return response
                profile.solves += 1
                await self._solve(profile, request)
                profile.generation += 1
                profile.failed = profile.value is None
        if not (value := profile.current()):
            return response
        generations = {**request.meta.get("antibot_generation", {}), profile.name: profile.generation}
        meta = {**request.meta, "antibot_attempts": attempts + 1, "antibot_generation": generations}
        retry = request.replace(cookies={**_as_dict(request.cookies), profile.cookie: value}, meta=meta,
                                dont_filter=True)
        if profile.same_user_agent and profile.user_agent:
            retry.headers["User-Agent"] = profile.user_agent
        return retry

    async def _solve(self, profile: ChallengeProfile, blocked: Request) -> None:
        """One browser pass; sets the profile's cookie (None when it failed)."""
        profile.value = profile.user_agent = profile.expires = None
        url = profile.page_url or blocked.url
        logger.info("Anti-bot block: opening %s in a real browser to get past it", url)
        request = Request(url, dont_filter=True, meta={
            "playwright": True, "playwright_include_page": True,
            "playwright_context": f"antibot-{profile.name}-{profile.solves}", "handle_httpstatus_all": True,
        })
        page = None
        try:
            assert self.crawler.engine is not None
            response = await self.crawler.engine.download_async(request)
            page = response.meta.get("playwright_page")
            user_agent = await _user_agent(page) if profile.same_user_agent else None
            cookie = await _wait_for_cookie(page, profile.cookie, profile.timeout)
        except Exception as exc:  # noqa: BLE001 - any browser failure is a failed pass
            self._count(profile, "failed")
            logger.error("Browser could not pass the anti-bot check on %s: %s", url,
                         str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
            return
        finally:
            page = page or request.meta.get("playwright_page")
            if page is not None:
                await _close_page(page)
        profile.value, profile.user_agent = cookie.get("value"), user_agent
        expires = cookie.get("expires")
        profile.expires = float(expires) if isinstance(expires, int | float) and expires > 0 else None
        if profile.value:
            self._count(profile, "solved")
            if user_agent:
                logger.info("Anti-bot check passed with a real browser; continuing over plain HTTP as %s",
                            user_agent)
            else:
                logger.info("Anti-bot check passed with a real browser; continuing over plain HTTP")
        else:
            self._count(profile, "failed")
            logger.error("Browser finished %s but got no %s cookie", url, profile.cookie)


async def _wait_for_cookie(page: Any, name: str, timeout: float) -> dict[str, Any]:
    """The named cookie once the browser holds it.  Read from the browser
    context, not document.cookie: Cloudflare's cf_clearance is HttpOnly."""
    deadline = time.monotonic() + timeout
    while True:
        for cookie in await page.context.cookies():
            if cookie.get("name") == name and cookie.get("value"):
                return dict(cookie)
        if time.monotonic() >= deadline:
            raise TimeoutError(f"no {name} cookie within {timeout:g} s")
        await asyncio.sleep(0.1)


async def _user_agent(page: Any) -> str:
    """The browser's User-Agent (the page may be reloading under us)."""
    for attempt in range(10):
        try:
            return str(await page.evaluate("() => navigator.userAgent"))
        except Exception:  # "execution context was destroyed" mid-navigation
            if attempt == 9:
                raise
            await asyncio.sleep(0.1)
    raise AssertionError("unreachable")


def _as_dict(cookies: Any) -> dict[str, str]:
    if isinstance(cookies, dict):
        return dict(cookies)
    if isinstance(cookies, list):
        return {c["name"]: c["value"] for c in cookies if isinstance(c, dict) and "name" in c}
    return {}


async def _close_page(page: Any) -> None:
    """Close the page, then its context: leaked pages stall scrapy-playwright."""
    try:
        context = page.context
        await page.close()
        await context.close()
    except Exception as exc:  # noqa: BLE001
        logger.debug("Closing browser page failed: %s", exc)
