"""``scrapy crawl`` that exits non-zero when the crawl ended on a failure
(database unavailable, rows not saved, no client_id, ...), so cron, systemd
and CI notice: 1 for a failed crawl, 2 when the user must fix something
first (see soundscraping.outcome).  In distributed mode (REDIS_URL) a Redis that
does not answer at start is one line and exit 1.  Mistakes seen before the crawl starts
(spider arguments, DATABASE_URL, FILES_STORE: soundscraping.preflight) are
one line on stderr and exit 2, never a traceback."""

from __future__ import annotations

import argparse
import logging
import sys
from typing import Any

from scrapy import signals
from scrapy.commands.crawl import Command as ScrapyCrawlCommand
from scrapy.exceptions import UsageError

from soundscraping import outcome, preflight

logger = logging.getLogger("soundscraping.crawl")


class Command(ScrapyCrawlCommand):
    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        if len(args) != 1:
            raise UsageError("give exactly one spider name")
        assert self.crawler_process
        crawler = self._create_crawler(args[0])
        try:
            preflight.check_spider_arguments(crawler.spidercls, opts.spargs)
            preflight.check_settings(crawler.settings)
            preflight.check_redis(crawler.settings, crawler.spidercls)
        except (preflight.UserError, preflight.ServiceUnavailable) as exc:
            # In the log (a Scrapyd job's log file) and, when that is a file, on stderr too.
            logger.error("Not crawling: %s", exc)
            if crawler.settings.get("LOG_FILE"):
                print(f"scrapy crawl: error: {exc}", file=sys.stderr)
            # A mistake is 2; a service that is down (Redis) is a failed crawl, 1.
            self.exitcode = 2 if isinstance(exc, preflight.UserError) else 1
            return
        reasons: list[str] = []

        def spider_closed(spider: Any, reason: str) -> None:
            reasons.append(reason)

        crawler.signals.connect(spider_closed, signal=signals.spider_closed)
        self.crawler_process.crawl(crawler, **opts.spargs)
        self.crawler_process.start()
        # Judged once everything has run: the close monitors (spidermon) run
        # after this handler, and their verdict is in the stats.
        stats = crawler.stats.get_stats()
        codes = [outcome.exit_code(outcome.final_reason(r, stats)) for r in reasons]
        if self.crawler_process.bootstrap_failed:
            codes.append(1)
        self.exitcode = max(codes, default=0)
        # Lost rows last: their line names the unsaved-rows file.
        for message in (outcome.lost_files_message(stats), outcome.lost_rows_message(stats)):
            if message:
                logger.error(message)
