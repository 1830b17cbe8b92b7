"""The sites, one package each (soundcloud, beatport, cambridge_mt): their
page parsers, matching, anti-bot detection and site rules.  Here: what every
site shares: ``MalformedPage``, and the sites' base-URL settings, so an error
about a URL can name the setting that points there (a crawl that cannot reach
its site says which setting to check, and the URL it tried)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlparse

from scrapy.settings import BaseSettings

from soundscraping.per_crawler import per_crawler

SITE_URL_SETTINGS = ("SOUNDCLOUD_URL", "SOUNDCLOUD_API_URL", "BEATPORT_URL", "CAMBRIDGE_MT_URL",
                     "CAMBRIDGE_FORUM_URL")


class AnsweredHosts:
    """The host:ports that answered at least once in this crawl (any status):
    a connection failure from one that never did means a wrong setting or a
    site that is down, not a blip."""

    def __init__(self, crawler: Any):
        self.hosts: set[str] = set()

    @classmethod
    def for_crawler(cls, crawler: Any) -> AnsweredHosts:
        return per_crawler(cls, crawler)

    def add(self, url: str) -> None:
        self.hosts.add(urlparse(url).netloc)

    def __contains__(self, url: str) -> bool:
        return urlparse(url).netloc in self.hosts


def sent_as_null(obj: dict[str, Any], columns: dict[str, str]) -> list[str]:
    """The columns (``columns``: JSON key -> column) whose key the site sent
    with a null value: a NULL the site chose (hidden stats, a comment pinned
    to no moment), unlike a key that is missing (renamed, dropped), which is
    ours to notice.  Items carry them as ``site_nulls``; field coverage
    (soundscraping.monitoring.coverage) does not count them against a column."""
    return [column for key, column in columns.items() if key in obj and obj[key] is None]


class SiteUnreachable(RuntimeError):
    """No answer at all from a site (connection refused, DNS, timeout)."""


def site_setting(settings: BaseSettings, url: str) -> str | None:
    """The setting whose host:port ``url`` is on, if any."""
    netloc = urlparse(url).netloc
    return next((name for name in SITE_URL_SETTINGS
                 if settings.get(name) and urlparse(settings.get(name)).netloc == netloc), None)


def unreachable_message(settings: BaseSettings, url: str, reason: str) -> str:
    setting = site_setting(settings, url)
    where = f"{setting} ({settings.get(setting)})" if setting else urlparse(url).netloc
    return f"cannot reach {where}: {url} failed: {reason}; check the setting and the network"


class MalformedPage(ValueError):
    """A response that does not have the structure its parser expects."""
