"""Field coverage: the share of a crawl's rows that have a value in the
columns that matter (``MONITOR_FIELD_COVERAGE``: ``"table.column": least
share``).  A NULL the site sent itself (``site_nulls``: hidden stats, a
comment pinned to no moment, a release without a tempo) is the site's
choice, not a loss, so it leaves the count; a NULL because a key was renamed
or the markup changed stays in and drags the share down.

Counting (``CoverageCounter``, on ``item_scraped``: a duplicate dropped by
the dedupe pipeline is not counted): per table with a rule, the rows
(``soundscraping/coverage/<table>/rows``) and, per ruled column, the rows
with a value (``…/<column>/filled``: None is empty, 0 / False / "" are
values) and those whose NULL the site sent (``…/<column>/site_null``).
spidermon's own field coverage (``SPIDERMON_ADD_FIELD_COVERAGE``) counts every
field of every item and reads the settings again for each: at 10^5 items a
crawl spent half again as much CPU (``make bench-monitoring``), so it stays off.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from scrapy.crawler import Crawler

from soundscraping.item_outcomes import ItemOutcomes
from soundscraping.monitoring.schemas import item_classes

PREFIX = "soundscraping/coverage"


def coverage_stat(table: str, column: str | None = None, what: str = "rows") -> str:
    return f"{PREFIX}/{table}/{column}/{what}" if column else f"{PREFIX}/{table}/rows"


class CoverageCounter:
    """Counts rows, filled values and the site's NULLs of the ruled columns
    (see module doc)."""

    def __init__(self, crawler: Crawler, rules: Mapping[str, Any]):
        self.stats = crawler.stats
        # table -> its ruled columns, with their stat names worked out once
        self.columns: dict[str, list[tuple[str, str, str]]] = {}
        for table, column in (parse_rule(name) for name in rules):
            self.columns.setdefault(table, []).append(
                (column, coverage_stat(table, column, "filled"), coverage_stat(table, column, "site_null")))
        ItemOutcomes.for_crawler(crawler).on_scraped(self.item_scraped)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> CoverageCounter:
        return cls(crawler, crawler.settings.getdict("MONITOR_FIELD_COVERAGE"))

    def item_scraped(self, item: Any, **kwargs: Any) -> None:
        table = getattr(item, "table", None)
        columns = self.columns.get(table) if table else None
        if not columns:
            return
        inc = self.stats.inc_value
        inc(coverage_stat(table))
        site_nulls = getattr(item, "site_nulls", ())
        for column, filled, site_null in columns:
            if getattr(item, column, None) is not None:
                inc(filled)
            elif column in site_nulls:
                inc(site_null)


def parse_rule(name: str) -> tuple[str, str]:
    table, _, column = name.partition(".")
    if table not in table_classes() or not column:
        raise ValueError(f"MONITOR_FIELD_COVERAGE: {name!r} is not table.column of a crawled table")
    return table, column


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


@functools.cache
def table_classes() -> dict[str, str]:
    """Table -> the name of its item class."""
    return {cls.table: cls.__name__ for cls in item_classes() if hasattr(cls, "table")}


def field_coverage(rules: Mapping[str, Any], stats: Mapping[str, Any]) -> list[Coverage]:
    """Every rule whose table got rows in this crawl, judged from the stats."""
    results = []
    for name, minimum in rules.items():
        table, column = parse_rule(name)
        scraped = int(stats.get(coverage_stat(table)) or 0)
        if not scraped:
            continue  # this spider does not write that table
        results.append(Coverage(table, column, float(minimum), scraped,
                                int(stats.get(coverage_stat(table, column, "site_null")) or 0),
                                int(stats.get(coverage_stat(table, column, "filled")) or 0)))
    return results
