"""Getting past anti-bot checks (SoundCloud's DataDome, Beatport's
Cloudflare), one mechanism for every site: a browser's TLS fingerprint first
(curl_cffi), a real browser (scrapy-playwright) when that is not enough.
How each site's check shows itself lives with the site
(sites/<site>/antibot.py); ANTIBOT_PROFILES names it."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.http import Response
from scrapy.settings import Settings
from scrapy.utils.misc import load_object

from soundscraping.middlewares.cookies import BrowserCookiesMiddleware

logger = logging.getLogger(__name__)


@dataclass
class ChallengeProfile:
    """One site's anti-bot check (an ``ANTIBOT_PROFILES`` entry) and what the
    crawl holds for it: the cookie a browser earned and, when the cookie is
    bound to it, that browser's User-Agent."""

    name: str
    detect: Callable[[Response], bool]
    hosts: frozenset[str]  # netlocs the check guards (impersonated; the browser's User-Agent where bound)
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
    confirmed: int = 0  # the last generation whose retried request got through

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
    """Gets past anti-bot checks in layers, one mechanism for every site.

    1. Impersonation: every request to a protected host (a profile's
       ``hosts``) goes out with a current Chrome's TLS and HTTP fingerprint
       (``meta["impersonate"]``, soundscraping.impersonation), unless
       ``IMPERSONATE_ENABLED`` is off.  DataDome lets that through without
       any cookie, so no browser starts.
    2. Browser pass: a blocked response sends a real Chromium
       (scrapy-playwright) to the site; the site's script issues its cookie;
       every cookie the browser then holds enters the crawl's one jar with
       the browser's domain and path (soundscraping.middlewares.cookies), and the blocked
       request is retried over the same path (impersonated where enabled),
       with the browser's User-Agent where the cookie is bound to it
       (Beatport's cf_clearance).  Nothing is pinned: the site's later
       Set-Cookies (DataDome re-issues its cookie) replace what the browser
       earned, as in the browser.  A pass counts as solved only when the
       retried request gets through.

    Each site is a ``ChallengeProfile`` from ``ANTIBOT_PROFILES``: how a
    block is recognised, which page the browser opens, which cookie proves
    the pass, the User-Agent rule and the per-crawl cap of browser passes.
    Passes are one at a time per site; requests blocked meanwhile retry after
    it; a request still blocked after two passes, or any block once the cap
    is used, is reported and handed on (the spider's errback may take
    another route), never looped.  Responses that got through are counted
    per route under ``soundscraping/access/<site>/<route>`` (impersonate,
    browser, plain)."""

    def __init__(self, crawler: Crawler):
        self.crawler = crawler
        settings = crawler.settings
        self.profiles = [ChallengeProfile.from_settings(name, spec, settings)
                         for name, spec in settings.getdict("ANTIBOT_PROFILES").items()]
        self.by_host = {host: p for p in self.profiles for host in p.hosts}
        self.impersonate: str | None = (settings.get("IMPERSONATE_BROWSER") or "chrome") \
            if settings.getbool("IMPERSONATE_ENABLED", True) else None

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
        if profile is None:
            return
        if self.impersonate and "impersonate" not in request.meta:
            request.meta["impersonate"] = self.impersonate
        if profile.hold and profile.lock is not None and profile.lock.locked():
            async with profile.lock:
                pass  # a browser is passing this site's check: wait for its cookie
        if profile.same_user_agent and profile.current() and profile.user_agent:
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

    def _got_through(self, request: Request, response: Response) -> None:
        profile = self.by_host.get(urlparse(request.url).netloc)
        if profile is None:
            return
        route = access_route(request, passed=profile.current() is not None)
        request.meta["access_route"] = route  # what the spider reads in response.meta
        self.crawler.stats.inc_value(f"soundscraping/access/{profile.name}/{route}")
        generation = request.meta.get("antibot_generation", {}).get(profile.name, 0)
        if request.meta.get("antibot_attempts") and generation > profile.confirmed:
            profile.confirmed = generation
            self._count(profile, "solved")
            logger.info("Anti-bot check passed: the request retried after the browser pass got through (%s)",
                        request.url)

    async def process_response(self, request: Request, response: Response, spider: Any = None) -> Request | Response:
        if request.meta.get("playwright"):
            return response
        profile = self._profile_for(request, response)
        if profile is None:
            self._got_through(request, response)
            return response
        self._count(profile, "blocked")
        self.crawler.stats.inc_value(
            f"soundscraping/antibot/{profile.name}/blocked_{access_route(request, passed=False)}")
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
        if not profile.current():
            return response
        generations = {**request.meta.get("antibot_generation", {}), profile.name: profile.generation}
        meta = {**request.meta, "antibot_attempts": attempts + 1, "antibot_generation": generations}
        # The jar holds the browser's cookies now; the Cookie header is rebuilt from it.
        retry = request.replace(meta=meta, dont_filter=True)
        if profile.same_user_agent and profile.user_agent:
            retry.headers["User-Agent"] = profile.user_agent
        return retry

    async def _solve(self, profile: ChallengeProfile, blocked: Request) -> None:
        """One browser pass; on success the browser's cookies are in the jar
        and ``profile.value`` is set (None when it failed)."""
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
            browser_cookies = await page.context.cookies()
        except Exception as exc:  # noqa: BLE001 - any browser failure is a failed pass
            self._count(profile, "failed")
            logger.error("Browser could not pass the anti-bot check on %s: %s", url,
                         str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
            return
        finally:
            page = page or request.meta.get("playwright_page")
            if page is not None:
                await _close_page(page)
        # None when cookies are disabled (Scrapy did not build the middleware).
        jar = self.crawler.get_downloader_middleware(BrowserCookiesMiddleware)
        if jar is None:
            self._count(profile, "failed")
            logger.error("COOKIES_ENABLED is off (or %s is not in DOWNLOADER_MIDDLEWARES): the %s cookie "
                         "the browser earned cannot be used", BrowserCookiesMiddleware.__name__, profile.cookie)
            return
        jar.add_browser_cookies(browser_cookies, jar=blocked.meta.get("cookiejar"))
        profile.value, profile.user_agent = cookie.get("value"), user_agent
        expires = cookie.get("expires")
        profile.expires = float(expires) if isinstance(expires, int | float) and expires > 0 else None
        if profile.value:
            self._count(profile, "cookie_earned")
            path = f"impersonated {self.impersonate} TLS" if self.impersonate else "Scrapy's own TLS"
            logger.info("Browser earned the %s %s cookie; retrying over %s%s", profile.name, profile.cookie, path,
                        f" as {user_agent}" if user_agent else "")
        else:
            self._count(profile, "failed")
            logger.error("Browser finished %s but got no %s cookie", url, profile.cookie)


def access_route(request: Request, passed: bool) -> str:
    """How a request to a protected host went out: ``browser`` (after a
    browser pass: its cookies are in the jar), ``impersonate`` (a browser's
    TLS fingerprint, no pass needed) or ``plain`` (Scrapy's own TLS)."""
    if passed or request.meta.get("antibot_attempts"):
        return "browser"
    return "impersonate" if request.meta.get("impersonate") else "plain"


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


async def _close_page(page: Any) -> None:
    """Close the page, then its context: leaked pages stall scrapy-playwright."""
    try:
        context = page.context
        await page.close()
        await context.close()
    except Exception as exc:  # noqa: BLE001
        logger.debug("Closing browser page failed: %s", exc)
