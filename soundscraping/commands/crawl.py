"""``scrapy crawl`` that exits non-zero when the crawl ended on a failure
(database unavailable, no client_id, ...), so cron, systemd and CI notice."""

from __future__ import annotations

import argparse
from typing import Any

from scrapy import signals
from scrapy.commands.crawl import Command as ScrapyCrawlCommand
from scrapy.exceptions import UsageError

# Finish reasons that mean the job did its work.
SUCCESS_REASONS = {"finished", "shutdown", "closespider_itemcount", "closespider_pagecount",
                   "closespider_timeout", "closespider_errorcount"}


class Command(ScrapyCrawlCommand):
    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        if len(args) != 1:
            raise UsageError("give exactly one spider name")
        assert self.crawler_process
        crawler = self._create_crawler(args[0])
        reasons: list[str] = []

        def spider_closed(spider: Any, reason: str) -> None:
            reasons.append(reason)

        crawler.signals.connect(spider_closed, signal=signals.spider_closed)
        self.crawler_process.crawl(crawler, **opts.spargs)
        self.crawler_process.start()
        if self.crawler_process.bootstrap_failed or any(r not in SUCCESS_REASONS for r in reasons):
            self.exitcode = 1
