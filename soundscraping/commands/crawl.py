"""``scrapy crawl`` that exits non-zero when the crawl ended on a failure
(database unavailable, rows not saved, no client_id, ...), so cron, systemd
and CI notice: 1 for a failed crawl, 2 when the user must fix something
first (see soundscraping.outcome)."""

from __future__ import annotations

import argparse
import logging
from typing import Any

from scrapy import signals
from scrapy.commands.crawl import Command as ScrapyCrawlCommand
from scrapy.exceptions import UsageError

from soundscraping import outcome

logger = logging.getLogger("soundscraping.crawl")


class Command(ScrapyCrawlCommand):
    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        if len(args) != 1:
            raise UsageError("give exactly one spider name")
        assert self.crawler_process
        crawler = self._create_crawler(args[0])
        reasons: list[str] = []

        def spider_closed(spider: Any, reason: str) -> None:
            reasons.append(outcome.final_reason(reason, crawler.stats.get_stats()))

        crawler.signals.connect(spider_closed, signal=signals.spider_closed)
        self.crawler_process.crawl(crawler, **opts.spargs)
        self.crawler_process.start()
        codes = [outcome.exit_code(r) for r in reasons]
        if self.crawler_process.bootstrap_failed:
            codes.append(1)
        self.exitcode = max(codes, default=0)
        if message := outcome.lost_rows_message(crawler.stats.get_stats()):
            logger.error(message)
