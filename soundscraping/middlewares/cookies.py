"""The crawl's cookie jar, kept the way a browser keeps it.

Replaces Scrapy's CookiesMiddleware (same place in the chain, same
``COOKIES_ENABLED``/``COOKIES_DEBUG`` settings and ``meta["cookiejar"]`` jars)
with three differences that anti-bot cookies need:

* a cookie is identified by (name, domain, path), and a domain is written
  as a browser writes it: ``Domain=127.0.0.1`` on an IP address is the
  host-only cookie of that address (a browser accepts a Domain attribute on
  an IP only when it equals the host), so a cookie from the browser and the
  same cookie from a ``Set-Cookie`` replace each other instead of being sent
  side by side;
* ``add_browser_cookies`` puts the cookies a real browser earned into the
  jar with the browser's own domain and path (Playwright's cookie dicts);
  later ``Set-Cookie`` headers then replace them as they would in the
  browser: nothing is pinned;
* ``Secure`` cookies are kept for loopback hosts over plain HTTP, which
  browsers treat as secure contexts (the replicas' web hosts);
* cookies given on a request without a path apply to the whole host
  (``/``), not to the request's directory as a ``Set-Cookie`` without a
  path would, and the public-suffix check uses the list bundled with
  tldextract (Scrapy's fetches it from publicsuffix.org on first use).
"""

from __future__ import annotations

import ipaddress
import logging
from collections import defaultdict
from collections.abc import Iterable, Mapping
from http.cookiejar import Cookie, DefaultCookiePolicy
from typing import Any

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.http import Response
from scrapy.http.cookies import CookieJar
from scrapy.utils.httpobj import urlparse_cached
from tldextract import TLDExtract

logger = logging.getLogger(__name__)

# The public-suffix list snapshot bundled with tldextract: no network use.
_public_suffixes = TLDExtract(suffix_list_urls=(), include_psl_private_domains=True)


def is_ip_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


def is_public_suffix(domain: str) -> bool:
    """True for ``com``, ``co.uk``, ``github.io`` …: no site may set a cookie there."""
    return not is_ip_address(domain) and not _public_suffixes(domain).domain


def browser_domain(cookie: Cookie, request_host: str) -> bool:
    """Rewrite ``cookie.domain`` as a browser keys it; False = a browser
    would refuse the cookie (a Domain that is a public suffix)."""
    domain = cookie.domain.lower()
    bare = domain.lstrip(".")
    if is_ip_address(bare):
        if bare != request_host:
            return False
        cookie.domain, cookie.domain_specified, cookie.domain_initial_dot = bare, False, False
        return True
    if cookie.domain_specified and is_public_suffix(bare):
        if bare != request_host:
            return False
        cookie.domain, cookie.domain_specified, cookie.domain_initial_dot = bare, False, False
    return True


def cookie_from_browser(data: Mapping[str, Any]) -> Cookie:
    """A jar cookie from a Playwright cookie dict (name, value, domain, path,
    expires (-1 = session), secure, httpOnly).  A leading dot on the domain
    marks a domain cookie, as in the browser."""
    domain = str(data["domain"]).lower()
    expires = data.get("expires")
    expires = int(expires) if isinstance(expires, int | float) and expires > 0 else None
    dotted = domain.startswith(".") and not is_ip_address(domain.lstrip("."))
    rest = {"HttpOnly": None} if data.get("httpOnly") else {}
    if data.get("sameSite"):
        rest["SameSite"] = str(data["sameSite"])
    return Cookie(
        version=0, name=str(data["name"]), value=str(data["value"]), port=None, port_specified=False,
        domain=domain if dotted else domain.lstrip("."), domain_specified=dotted, domain_initial_dot=dotted,
        path=str(data.get("path") or "/"), path_specified=True, secure=bool(data.get("secure")),
        expires=expires, discard=expires is None, comment=None, comment_url=None, rest=rest)


class BrowserCookiePolicy(DefaultCookiePolicy):
    """Python's default policy, plus what browsers do for loopback hosts:
    ``http://127.0.0.1`` and ``http://localhost`` are secure contexts, so
    ``Secure`` cookies are kept and sent there (Chrome and Firefox do so)."""

    def return_ok_secure(self, cookie: Cookie, request: Any) -> bool:
        if cookie.secure and _is_loopback(request):
            return True
        return super().return_ok_secure(cookie, request)


def _is_loopback(request: Any) -> bool:
    host = (request.host or "").rsplit(":", 1)[0].strip("[]").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _new_jar() -> CookieJar:
    return CookieJar(policy=BrowserCookiePolicy())


class BrowserCookiesMiddleware:
    """Downloader middleware: the cookie jar(s) of the crawl (see module doc)."""

    def __init__(self, crawler: Crawler):
        self.crawler = crawler
        self.debug = crawler.settings.getbool("COOKIES_DEBUG")
        self.jars: defaultdict[Any, CookieJar] = defaultdict(_new_jar)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> BrowserCookiesMiddleware:
        if not crawler.settings.getbool("COOKIES_ENABLED"):
            raise NotConfigured
        return cls(crawler)

    # -- the jar ------------------------------------------------------------------

    def add_browser_cookies(self, cookies: Iterable[Mapping[str, Any]], jar: Any = None) -> int:
        """Store cookies a browser holds (Playwright dicts); each replaces the
        jar's cookie of the same name, domain and path.  Returns how many."""
        target, n = self.jars[jar], 0
        for data in cookies:
            if data.get("name") and data.get("domain"):
                target.set_cookie(cookie_from_browser(data))
                n += 1
        return n

    def cookies_for(self, name: str, jar: Any = None) -> list[Cookie]:
        """Every stored cookie of that name (tests and diagnostics)."""
        return [c for c in self.jars[jar] if c.name == name]

    def _store(self, cookies: Iterable[Cookie], request: Request) -> None:
        jar = self.jars[request.meta.get("cookiejar")]
        host = (urlparse_cached(request).hostname or "").lower()
        for cookie in cookies:
            if browser_domain(cookie, host):
                jar.set_cookie_if_ok(cookie, request)

    def _request_cookies(self, request: Request) -> list[Cookie]:
        """``Request(cookies=…)`` as jar cookies: a dict {name: value} or
        dicts with name, value and optional domain, path, secure."""
        raw = request.cookies
        items = [{"name": k, "value": v} for k, v in raw.items()] if isinstance(raw, dict) else list(raw or [])
        parsed = urlparse_cached(request)
        host = (parsed.hostname or "").lower()
        out = []
        for item in items:
            if not isinstance(item, dict) or item.get("name") is None or item.get("value") is None:
                continue
            value = item["value"]
            value = value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
            domain = str(item.get("domain") or host)
            dotted = bool(item.get("domain")) and not is_ip_address(domain.lstrip("."))
            if dotted and not domain.startswith("."):
                domain = "." + domain
            out.append(Cookie(
                version=0, name=str(item["name"]), value=value, port=None, port_specified=False,
                domain=domain, domain_specified=dotted, domain_initial_dot=dotted,
                path=str(item.get("path") or "/"), path_specified=True,
                secure=bool(item.get("secure", parsed.scheme == "https")), expires=None, discard=True,
                comment=None, comment_url=None, rest={}))
        return out

    # -- middleware ----------------------------------------------------------------

    def process_request(self, request: Request, spider: Any = None) -> None:
        if request.meta.get("dont_merge_cookies"):
            return
        if request.cookies:
            self._store(self._request_cookies(request), request)
        jar = self.jars[request.meta.get("cookiejar")]
        request.headers.pop("Cookie", None)
        jar.add_cookie_header(request)
        if self.debug and (sent := request.headers.getlist("Cookie")):
            logger.debug("Sending cookies to %s: %s", request, b"; ".join(sent).decode("latin-1"))

    def process_response(self, request: Request, response: Response, spider: Any = None) -> Response:
        if request.meta.get("dont_merge_cookies"):
            return response
        jar = self.jars[request.meta.get("cookiejar")]
        self._store(jar.make_cookies(response, request), request)
        if self.debug and (received := response.headers.getlist("Set-Cookie")):
            logger.debug("Received cookies from %s: %s", response, [c.decode("latin-1") for c in received])
        return response
