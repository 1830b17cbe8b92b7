"""The shared anti-bot mechanism: per-site challenge profiles from settings
(SoundCloud's DataDome as it always was, Beatport's Cloudflare), what each
recognises, what later requests carry; and the spider's politeness defaults."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.http import HtmlResponse, TextResponse
from scrapy.settings import Settings

from soundscraping.middlewares.antibot import AntiBotBrowserMiddleware
from soundscraping.sites.beatport.antibot import cloudflare_challenge
from soundscraping.sites.soundcloud.antibot import datadome_block
from soundscraping.spiders.beatport_tracks import BeatportTracksSpider

CHALLENGE = (b'<!DOCTYPE html><html lang="en-US"><head><title>Just a moment...</title></head><body>'
             b"<script>(function(){window._cf_chl_opt={cvId: '3',cType: 'managed'};}());</script></body></html>")
BROWSER_UA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/156.0.0.0"


def project_settings(**overrides: Any) -> Settings:
    settings = Settings()
    settings.setmodule("soundscraping.settings", priority="project")
    settings.setdict(overrides, priority="cmdline")
    return settings


def middleware(**overrides: Any) -> AntiBotBrowserMiddleware:
    crawler = Crawler(BeatportTracksSpider, project_settings(**overrides))
    return AntiBotBrowserMiddleware(crawler)


def response(url: str, status: int, body: bytes = b"", headers: dict[str, str] | None = None) -> TextResponse:
    return HtmlResponse(url, status=status, body=body, headers=headers or {}, encoding="utf-8")


def test_what_each_site_recognises() -> None:
    bp = "https://www.beatport.com/search/tracks?q=x"
    assert cloudflare_challenge(response(bp, 403, CHALLENGE, {"cf-mitigated": "challenge"}))
    assert cloudflare_challenge(response(bp, 503, CHALLENGE))
    assert not cloudflare_challenge(response(bp, 403, b"<html><title>403</title>403 Forbidden</html>"))
    assert not cloudflare_challenge(response(bp, 200, b"<html>Just a moment, please</html>"))
    api = "https://api-v2.soundcloud.com/users/1/tracks"
    assert datadome_block(response(api, 403, b'{"url":"..."}', {"x-datadome": "protected"}))
    assert not datadome_block(response(api, 403, b"{}"))
    assert not datadome_block(response(api, 200, b"{}", {"x-datadome": "protected"}))


def test_profiles_come_from_settings() -> None:
    mw = middleware(SOUNDCLOUD_URL="http://127.0.0.1:1", SOUNDCLOUD_API_URL="http://127.0.0.1:2",
                    BEATPORT_URL="http://127.0.0.1:3", BEATPORT_ANTIBOT_MAX_SOLVES=2)
    soundcloud, beatport = mw.profiles
    # SoundCloud's DataDome profile is the middleware's former fixed behaviour.
    assert (soundcloud.name, soundcloud.hosts, soundcloud.page_url, soundcloud.cookie) == (
        "soundcloud", frozenset({"127.0.0.1:2"}), "http://127.0.0.1:1/", "datadome")
    assert (soundcloud.same_user_agent, soundcloud.hold, soundcloud.max_solves, soundcloud.timeout) == (
        False, False, 5, 30)
    assert soundcloud.max_solves_setting == "SOUNDCLOUD_ANTIBOT_MAX_SOLVES"
    assert soundcloud.detect is datadome_block
    # Beatport: the blocked page itself, cf_clearance, the browser's User-Agent afterwards.
    assert (beatport.hosts, beatport.page_url, beatport.cookie, beatport.same_user_agent, beatport.hold) == (
        frozenset({"127.0.0.1:3"}), None, "cf_clearance", True, True)
    assert beatport.max_solves == 2 and beatport.detect is cloudflare_challenge


def test_later_requests_go_impersonated_with_the_browsers_user_agent_and_nothing_pinned() -> None:
    mw = middleware(BEATPORT_URL="http://127.0.0.1:3", SOUNDCLOUD_API_URL="http://127.0.0.1:2")
    soundcloud, beatport = mw.profiles
    beatport.value, beatport.user_agent, beatport.expires = "clear", BROWSER_UA, time.time() + 60
    soundcloud.value, soundcloud.user_agent = "dd", None

    def sent(url: str, middleware: AntiBotBrowserMiddleware = mw) -> Request:
        request = Request(url, headers={"User-Agent": "soundscraping"})
        asyncio.run(middleware.process_request(request))
        return request

    # Protected hosts: impersonated TLS; the cookies come from the jar (the
    # browser's, or newer Set-Cookies), never pinned on the request.
    page = sent("http://127.0.0.1:3/track/x/1")
    assert page.meta["impersonate"] == "chrome" and page.headers["User-Agent"] == BROWSER_UA.encode()
    assert page.cookies == {}
    api = sent("http://127.0.0.1:2/users/1/tracks")
    assert api.meta["impersonate"] == "chrome" and api.headers["User-Agent"] == b"soundscraping"
    assert api.cookies == {}
    other = sent("http://127.0.0.1:4/image.png")
    assert "impersonate" not in other.meta and other.headers["User-Agent"] == b"soundscraping"
    assert other.meta["antibot_generation"] == {"soundcloud": 0, "beatport": 0}
    # A lapsed clearance is dropped: the site will challenge and a new pass follows.
    beatport.expires = time.time() - 1
    assert sent("http://127.0.0.1:3/track/x/1").headers["User-Agent"] == b"soundscraping"
    assert beatport.value is None
    # Impersonation switched off: Scrapy's own TLS.
    plain = middleware(BEATPORT_URL="http://127.0.0.1:3", IMPERSONATE_ENABLED=False)
    assert "impersonate" not in sent("http://127.0.0.1:3/track/x/1", plain).meta


def test_spider_is_polite_by_default_and_tests_may_override() -> None:
    settings = Crawler(BeatportTracksSpider, project_settings()).settings
    assert settings.getfloat("DOWNLOAD_DELAY") == 1.5 and settings.getbool("RANDOMIZE_DOWNLOAD_DELAY")
    assert settings.getint("CONCURRENT_REQUESTS_PER_DOMAIN") == 1 and settings.getint("CONCURRENT_REQUESTS") == 3
    fast = Crawler(BeatportTracksSpider, project_settings(BEATPORT_DOWNLOAD_DELAY=0,
                                                          CONCURRENT_REQUESTS_PER_DOMAIN=4)).settings
    assert fast.getfloat("DOWNLOAD_DELAY") == 0 and fast.getint("CONCURRENT_REQUESTS_PER_DOMAIN") == 4
