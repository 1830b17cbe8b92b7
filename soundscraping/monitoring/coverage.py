"""Field coverage: the share of a crawl's rows that have a value in the
columns that matter (``MONITOR_FIELD_COVERAGE``: ``"table.column": least
share``).  A NULL the site sent itself (``site_nulls``: hidden stats, a
comment pinned to no moment, a release without a tempo) is the site's
choice, not a loss, so it leaves the count; a NULL because a key was renamed
or the markup changed stays in and drags the share down.

Counting: spidermon's field coverage (``SPIDERMON_ADD_FIELD_COVERAGE``)
counts items and filled fields per item class; ``SiteNullCounter`` counts,
per table and column, the items that reached the end of the pipelines with
the site's own NULL there.  Both count scraped items only (a duplicate
dropped by the dedupe pipeline counts in neither).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from scrapy import signals
from scrapy.crawler import Crawler

from soundscraping.monitoring.schemas import item_classes

SITE_NULL = "soundscraping/site_null"


def site_null_stat(table: str, column: str) -> str:
    return f"{SITE_NULL}/{table}/{column}"


class SiteNullCounter:
    """Counts the scraped items' ``site_nulls`` (see module doc)."""

    def __init__(self, crawler: Crawler):
        self.stats = crawler.stats
        crawler.signals.connect(self.item_scraped, signal=signals.item_scraped)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> SiteNullCounter:
        return cls(crawler)

    def item_scraped(self, item: Any, **kwargs: Any) -> None:
        for column in getattr(item, "site_nulls", None) or ():
            self.stats.inc_value(site_null_stat(item.table, column))


@dataclass(frozen=True)
class Coverage:
    """One rule's result: ``filled`` of ``judged`` rows (scraped rows less the
    site's own NULLs) have a value; it passes at ``minimum`` or above."""

    table: str
    column: str
    minimum: float
    scraped: int
    site_nulls: int
    filled: int

    @property
    def judged(self) -> int:
        return self.scraped - self.site_nulls

    @property
    def share(self) -> float | None:
        return self.filled / self.judged if self.judged > 0 else None

    @property
    def passed(self) -> bool:
        return self.share is None or self.share >= self.minimum

    def describe(self) -> str:
        if self.share is None:
            return (f"{self.table}.{self.column}: nothing to judge ({self.scraped} rows, "
                    f"{self.site_nulls} NULL by the site)")
        return (f"{self.table}.{self.column}: {self.share:.0%} filled ({self.filled} of {self.judged} rows; "
                f"{self.site_nulls} more NULL by the site), at least {self.minimum:.0%} expected")


def table_classes() -> dict[str, str]:
    """Table -> the name of its item class (spidermon counts per class name)."""
    return {cls.table: cls.__name__ for cls in item_classes() if hasattr(cls, "table")}


def field_coverage(rules: Mapping[str, Any], stats: Mapping[str, Any]) -> list[Coverage]:
    """Every rule whose table got rows in this crawl, judged from the stats."""
    classes = table_classes()
    results = []
    for name, minimum in rules.items():
        table, _, column = name.partition(".")
        if table not in classes or not column:
            raise ValueError(f"MONITOR_FIELD_COVERAGE: {name!r} is not table.column of a crawled table")
        prefix = f"spidermon_item_scraped_count/{classes[table]}"
        scraped = int(stats.get(prefix) or 0)
        if not scraped:
            continue  # this spider does not write that table
        results.append(Coverage(table, column, float(minimum), scraped,
                                int(stats.get(site_null_stat(table, column)) or 0),
                                int(stats.get(f"{prefix}/{column}") or 0)))
    return results
