"""A shim for spidermon 1.27 on Scrapy >= 2.18: spidermon's runner writes its
result lines with ``Spider.log()``, which Scrapy 2.18 deprecates (a
ScrapyDeprecationWarning in every job log).  ``Spidermon`` is spidermon's
extension with a runner whose result logs through ``spider.logger``, as Scrapy
asks; everything else is spidermon's.  The same result writes a failed
monitor as one WARNING line with its message, not spidermon's ERROR with the
assertion's traceback (a job log has no tracebacks): the job's one ERROR line
about its monitors is RecordOutcome's (soundscraping.monitoring.actions).  Drop it once spidermon stops calling
``Spider.log()`` (tests/test_common_monitoring_unit.py notices: it fails when
the upstream runner no longer warns)."""

from __future__ import annotations

import logging
from typing import Any

from spidermon.contrib.scrapy.extensions import Spidermon as UpstreamSpidermon
from spidermon.contrib.scrapy.runners import LOG_MESSAGE_HEADER, SpiderMonitorResult, SpiderMonitorRunner

from soundscraping.monitoring.actions import failure_message


class LoggerMonitorResult(SpiderMonitorResult):
    def log(self, msg: Any, level: int = logging.DEBUG) -> None:
        self.spider.logger.log(level, f"[{LOG_MESSAGE_HEADER}] {msg}")

    def log_error(self, msg: Any) -> None:
        self.log(msg, level=logging.WARNING)

    def write_errors(self) -> None:
        for status in self.step.error_statuses:
            for item in self.step.items_for_status(status):
                self.log_error(f"{item.status}: {item.item.name}: {failure_message(item.error)}")


class LoggerMonitorRunner(SpiderMonitorRunner):
    def create_result(self) -> LoggerMonitorResult:
        return LoggerMonitorResult(self.spider)


class Spidermon(UpstreamSpidermon):
    def _run_suites(self, spider: Any, suites: list[Any]) -> None:
        data = self._generate_data_for_spider(spider)
        for suite in suites:
            LoggerMonitorRunner(spider=spider).run(suite, **data)
