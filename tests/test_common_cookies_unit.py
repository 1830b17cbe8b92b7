"""The crawl's one cookie jar (soundscraping.middlewares.cookies): cookies keyed by name,
domain and path as a browser keys them; a browser pass's cookies replace the
403's; later Set-Cookies replace the browser's; nothing is pinned."""

from __future__ import annotations

import asyncio
from typing import Any

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.http import Response
from scrapy.settings import Settings
from scrapy.utils.test import get_crawler

from soundscraping.middlewares.antibot import AntiBotBrowserMiddleware
from soundscraping.middlewares.cookies import BrowserCookiesMiddleware, is_public_suffix
from soundscraping.spiders.soundcloud_artists import SoundCloudArtistsSpider

API = "https://api-v2.soundcloud.com"


def jar() -> BrowserCookiesMiddleware:
    return BrowserCookiesMiddleware.from_crawler(get_crawler(settings_dict={"COOKIES_ENABLED": True}))


def sent(mw: BrowserCookiesMiddleware, url: str, **kwargs: Any) -> Request:
    request = Request(url, **kwargs)
    mw.process_request(request)
    return request


def datadome_values(request: Request) -> list[str]:
    header = b"; ".join(request.headers.getlist("Cookie")).decode()
    return [part.split("=", 1)[1] for part in header.split("; ") if part.startswith("datadome=")]


def answer(mw: BrowserCookiesMiddleware, request: Request, status: int, *set_cookies: str) -> None:
    mw.process_response(request, Response(request.url, status=status, headers={"Set-Cookie": list(set_cookies)},
                                          request=request))


def browser_cookie(value: str, domain: str = ".soundcloud.com") -> dict[str, Any]:
    """As Playwright's context.cookies() reports it."""
    return {"name": "datadome", "value": value, "domain": domain, "path": "/", "expires": 2_000_000_000,
            "httpOnly": False, "secure": True, "sameSite": "Lax"}


def test_browser_cookie_replaces_the_403s_and_reissues_replace_the_browsers() -> None:
    mw = jar()
    first = sent(mw, f"{API}/users/1/tracks?limit=200")
    answer(mw, first, 403, "datadome=junk; Max-Age=31536000; Domain=.soundcloud.com; Path=/; Secure; SameSite=Lax")
    assert datadome_values(sent(mw, f"{API}/users/1/tracks")) == ["junk"]
    # The browser pass: same name, domain and path -> one cookie, the browser's.
    assert mw.add_browser_cookies([browser_cookie("earned"), {"name": "", "domain": "x"}]) == 1
    retried = sent(mw, f"{API}/users/1/tracks?limit=200")
    assert datadome_values(retried) == ["earned"]
    # DataDome re-issues on the protected 200: the newer value wins from now on.
    answer(mw, retried, 200, "datadome=reissued; Max-Age=31536000; Domain=.soundcloud.com; Path=/; Secure")
    for path in ("/users/1/tracks?offset=x", "/users/2/tracks", "/tracks/5/comments"):
        assert datadome_values(sent(mw, API + path)) == ["reissued"]
    assert [c.value for c in mw.cookies_for("datadome")] == ["reissued"]


def test_ip_hosts_key_domain_cookies_as_host_only_like_a_browser() -> None:
    """The replicas: Domain=127.0.0.1 from api-v2 and the browser's host-only
    127.0.0.1 cookie are the same cookie (ports do not separate cookies)."""
    mw = jar()
    api = "https://127.0.0.1:4431"
    first = sent(mw, f"{api}/users/1/tracks")
    answer(mw, first, 403, "datadome=junk; Max-Age=31536000; Domain=127.0.0.1; Path=/; Secure; SameSite=Lax")
    mw.add_browser_cookies([browser_cookie("earned", domain="127.0.0.1")])
    assert datadome_values(sent(mw, f"{api}/users/1/tracks")) == ["earned"]
    # Another address may not set a cookie for this one.
    answer(mw, sent(mw, "https://127.0.0.2/x"), 200, "datadome=evil; Domain=127.0.0.1; Path=/")
    assert datadome_values(sent(mw, f"{api}/users/1/tracks")) == ["earned"]


def test_loopback_is_a_secure_context_and_other_plain_http_is_not() -> None:
    mw = jar()
    answer(mw, sent(mw, "http://127.0.0.1:8000/users/1/tracks"), 403,
           "datadome=local; Max-Age=60; Domain=127.0.0.1; Path=/; Secure")
    assert datadome_values(sent(mw, "http://127.0.0.1:8001/x")) == ["local"]
    answer(mw, sent(mw, "https://example.com/a"), 200, "s=1; Path=/; Secure")
    assert not sent(mw, "http://example.com/a").headers.getlist("Cookie")
    assert sent(mw, "https://example.com/a").headers.getlist("Cookie") == [b"s=1"]


def test_public_suffixes_are_refused_offline() -> None:
    assert is_public_suffix("com") and is_public_suffix("co.uk") and is_public_suffix("github.io")
    assert not is_public_suffix("soundcloud.com") and not is_public_suffix("127.0.0.1")
    mw = jar()
    answer(mw, sent(mw, "https://a.example.co.uk/"), 200, "x=1; Domain=co.uk; Path=/")
    assert not sent(mw, "https://b.other.co.uk/").headers.getlist("Cookie")


def test_request_cookies_apply_to_the_whole_host_and_may_name_domain_and_path() -> None:
    mw = jar()
    sent(mw, f"{API}/users/1/tracks", cookies={"a": "1"})
    sent(mw, f"{API}/x", cookies=[{"name": "b", "value": "2", "domain": "soundcloud.com", "path": "/"}])
    assert sorted(c.path for c in mw.jars[None]) == ["/", "/"]
    header = sent(mw, f"{API}/other/path").headers.get("Cookie").decode()
    assert sorted(header.split("; ")) == ["a=1", "b=2"]
    assert sent(mw, "https://soundcloud.com/").headers.get("Cookie") == b"b=2"


def test_old_pinning_regression_one_datadome_after_a_pass() -> None:
    """The bug this jar fixes: the anti-bot middleware used to pin the
    browser's value on each request; Scrapy filed it under the request's own
    path beside the 403's Domain=.soundcloud.com; Path=/ cookie, and two
    datadome cookies went out.  Now nothing is pinned on requests."""
    settings = Settings()
    settings.setmodule("soundscraping.settings", priority="project")
    settings.set("SOUNDCLOUD_API_URL", API, priority="cmdline")
    crawler = Crawler(SoundCloudArtistsSpider, settings)
    antibot, mw = AntiBotBrowserMiddleware(crawler), BrowserCookiesMiddleware.from_crawler(crawler)
    soundcloud = antibot.profiles[0]
    soundcloud.value = "earned"  # a pass happened
    first = Request(f"{API}/users/1/tracks")
    mw.process_request(first)
    answer(mw, first, 403, "datadome=junk; Max-Age=31536000; Domain=.soundcloud.com; Path=/; Secure")
    mw.add_browser_cookies([browser_cookie("earned")])
    later = Request(f"{API}/users/1/tracks?offset=abc")
    asyncio.run(antibot.process_request(later))
    mw.process_request(later)
    assert later.cookies == {} and datadome_values(later) == ["earned"]
