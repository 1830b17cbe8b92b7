"""Unit-test helpers for spider callbacks, in the style of City Bureau's
city-scrapers (``file_response``): a saved response becomes a Scrapy response
with the URL and request meta a test gives, and a spider is built from a
crawler with the project's settings, so its callbacks can be called directly."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import parse_qs, urlsplit

from scrapy import Request, Spider
from scrapy.http import HtmlResponse, Response, TextResponse
from scrapy.utils.test import get_crawler

from soundscraping import settings as project_settings
from tests.fixtures import fixture

SpiderT = TypeVar("SpiderT", bound=Spider)

__all__ = ["fake_response", "items_of", "make_spider", "project_settings_dict", "query_params", "requests_of",
           "start_requests_of"]


def fake_response(fixture_path: str, url: str | None = None, meta: dict[str, Any] | None = None, *,
                  request: Request | None = None, status: int | None = None,
                  headers: dict[str, Any] | None = None) -> Response:
    """The response a callback would get for ``tests/fixtures/<fixture_path>``.

    A NewPipe mock exchange (``*.json`` under ``soundcloud/newpipe-mocks/``)
    gives its recorded body, status, headers and URL; any other file is the
    body itself (``.html`` an HtmlResponse, else a TextResponse).  ``url``,
    ``status`` and ``headers`` override the recording; ``meta`` is the meta
    of the Request the response answers (``response.meta``).  ``request``, a
    request the spider yielded, makes the response that request's answer (its
    callback, errback and meta, ``meta`` added on top: what the downloader
    middlewares would have set)."""
    path = fixture(fixture_path)
    recorded_headers: dict[str, Any] = {}
    if "newpipe-mocks/" in fixture_path:
        recorded = json.loads(path.read_text(encoding="utf-8"))
        body = recorded["response"]["responseBody"].encode("utf-8")
        status = status if status is not None else recorded["response"]["responseCode"]
        recorded_headers = recorded["response"]["responseHeaders"]
        url = url or (request.url if request is not None else recorded["request"]["url"])
    else:
        body = path.read_bytes()
    url = url or (request.url if request is not None else None)
    if url is None:
        raise ValueError(f"fake_response({fixture_path!r}): give the URL the page was fetched from")
    if request is None:
        request = Request(url, meta=dict(meta or {}))
    else:
        request = request.replace(url=url, meta={**request.meta, **(meta or {})})
    cls = HtmlResponse if Path(fixture_path).suffix == ".html" else TextResponse
    return cls(url, status=status or 200, headers={**recorded_headers, **(headers or {})}, body=body,
               encoding="utf-8", request=request)


def make_spider(spidercls: type[SpiderT], settings: dict[str, Any] | None = None, **kwargs: Any) -> SpiderT:
    """``spidercls.from_crawler(get_crawler(...))`` with the project's settings, so
    ``spider.settings``, ``spider.crawler.stats`` and signals are real."""
    crawler = get_crawler(spidercls, settings_dict={**project_settings_dict(), **(settings or {})})
    return spidercls.from_crawler(crawler, **kwargs)


def project_settings_dict() -> dict[str, Any]:
    """soundscraping.settings, less the reactor and download handlers (a real
    crawl's; components tested in-process need neither)."""
    return {k: getattr(project_settings, k) for k in dir(project_settings)
            if k.isupper() and k not in ("TWISTED_REACTOR", "DOWNLOAD_HANDLERS")}


def query_params(url: str) -> dict[str, list[str]]:
    """A request URL's query, parsed (``{"limit": ["200"], ...}``)."""
    return parse_qs(urlsplit(url).query)


def requests_of(output: Iterable[Any]) -> list[Request]:
    return [x for x in output if isinstance(x, Request)]


def items_of(output: Iterable[Any], cls: type | tuple[type, ...] = object) -> list[Any]:
    """The items of a callback's output (everything that is not a Request), of ``cls``."""
    return [x for x in output if not isinstance(x, Request) and isinstance(x, cls)]


def start_requests_of(spider: Spider) -> list[Any]:
    """What the spider's async ``start()`` yields (run on a fresh event loop;
    for start methods that need no engine)."""
    async def collect() -> list[Any]:
        return [x async for x in spider.start()]

    return asyncio.run(collect())


def output_of(callback_output: Any) -> list[Any]:
    """Everything a callback yields, whether it is a generator or an async
    generator (run on a fresh event loop)."""
    if not hasattr(callback_output, "__aiter__"):
        return list(callback_output)

    async def collect() -> list[Any]:
        return [x async for x in callback_output]

    return asyncio.run(collect())
