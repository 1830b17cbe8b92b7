"""What happens after the monitors ran (spidermon actions).

- ``RecordOutcome``: one log line (ERROR naming every failed monitor and its
  message, or INFO when all passed) and the stats the exit code is decided
  from (``soundscraping.outcome``: a failed monitor means exit 1);
- ``WriteReports``: ``<MONITOR_REPORT_DIR>/<spider>-<start time>[-<job>].html``
  (spidermon's own report template) and ``.json`` (the same results, for programs);
- ``CloseQuietCrawl``: the periodic suite's failure closes the crawl through
  the watchdog (reason ``no_new_items``).
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from spidermon import Action
from spidermon.contrib.actions.reports import CreateReport

from soundscraping import outcome
from soundscraping.monitoring.coverage import field_coverage
from soundscraping.watchdog import Watchdog

logger = logging.getLogger("soundscraping.monitoring")

HTML_TEMPLATE = "reports/email/monitors/result.jinja"  # ships with spidermon
REPORT_STAT = "soundscraping/monitors/report"


def failure_message(error: str | None) -> str:
    """The assertion's message from a failed monitor's traceback text (its
    last line, less the exception name)."""
    lines = [line for line in (error or "").strip().splitlines() if line.strip()]
    if not lines:
        return "failed"
    last = lines[-1].strip()
    name, sep, message = last.partition(": ")
    return message if sep and name.endswith(("Error", "Exception")) else last


def monitor_results(result: Any) -> list[dict[str, str]]:
    """Every monitor's name, status and (failed ones) message."""
    rows = []
    for item in result.monitor_results:
        row = {"monitor": item.item.name, "status": item.status}
        if item.status in ("FAIL", "ERROR"):
            row["message"] = failure_message(item.error)
        elif item.reason:
            row["message"] = str(item.reason)
        rows.append(row)
    return rows


class RecordOutcome(Action):
    def run_action(self) -> None:
        crawler = self.data.crawler
        # A crawl that already failed on its own (database lost, site down, rows
        # or files not stored...) says so in its own ERROR line: the monitors'
        # verdict is a WARNING then.  Judged before the verdict is recorded.
        own_reason = outcome.final_reason(str(self.data.stats.get("finish_reason")), self.data.stats)
        failed = [row for row in monitor_results(self.result) if row["status"] in ("FAIL", "ERROR")]
        crawler.stats.set_value(outcome.MONITORS_FAILED, len(failed))
        if failed:
            crawler.stats.set_value(outcome.MONITOR_FAILURES, [f"{r['monitor']}: {r['message']}" for r in failed])
            level = logging.ERROR if own_reason in outcome.SUCCESS_REASONS else logging.WARNING
            logger.log(level, "Monitors failed (%d): %s", len(failed),
                       " | ".join(f"{r['monitor']}: {r['message']}" for r in failed))
        else:
            logger.info("Monitors passed (%d checks)", len(self.result.monitor_results))


def report_stem(spider: Any, stats: Any) -> str:
    started = stats.get("start_time")
    when = started if isinstance(started, datetime) else datetime.now(UTC)
    job = getattr(spider, "_job", None)
    return f"{spider.name}-{when.strftime('%Y%m%dT%H%M%SZ')}" + (f"-{job}" if job else "")


class WriteReports(CreateReport):
    """The HTML and JSON report of one job."""

    def __init__(self, directory: str, *args: Any, **kwargs: Any):
        super().__init__(template=HTML_TEMPLATE, *args, **kwargs)  # noqa: B026 (spidermon's signature)
        self.directory = Path(directory)

    @classmethod
    def from_crawler_kwargs(cls, crawler: Any) -> dict[str, Any]:
        return {"directory": crawler.settings.get("MONITOR_REPORT_DIR")}

    def after_render_report(self) -> None:
        crawler, stats = self.data.crawler, self.data.stats
        self.directory.mkdir(parents=True, exist_ok=True)
        stem = self.directory / report_stem(self.data.spider, stats)
        html, data = stem.with_suffix(".html"), stem.with_suffix(".json")
        html.write_text(self.report, encoding="utf-8")
        results = monitor_results(self.result)
        report = {
            "spider": self.data.spider.name,
            "job": getattr(self.data.spider, "_job", None),
            "finish_reason": outcome.final_reason(str(stats.get("finish_reason")), stats),
            "start_time": str(stats.get("start_time")),
            "finish_time": str(stats.get("finish_time")),
            "passed": all(r["status"] not in ("FAIL", "ERROR") for r in results),
            "monitors": results,
            "field_coverage": [
                {"column": f"{c.table}.{c.column}", "share": c.share, "filled": c.filled, "judged": c.judged,
                 "site_nulls": c.site_nulls, "minimum": c.minimum}
                for c in field_coverage(crawler.settings.getdict("MONITOR_FIELD_COVERAGE"), stats)],
            "stats": {k: v for k, v in stats.items()
                      if k in ("item_scraped_count", "downloader/request_count", "retry/count",
                               "downloader/exception_count", "spidermon/validation/items",
                               "spidermon/validation/items/errors")
                      or k.startswith("downloader/response_status_count/")},
        }
        data.write_text(json.dumps(report, indent=1, default=str), encoding="utf-8")
        crawler.stats.set_value(REPORT_STAT, str(data))
        logger.info("Monitor report: %s (and %s)", html, data.name)


class CloseQuietCrawl(Action):
    def run_action(self) -> None:
        crawler = self.data.crawler
        watchdog = crawler.get_extension(Watchdog)
        failed = [r for r in monitor_results(self.result) if r["status"] in ("FAIL", "ERROR")]
        logger.error("Closing the crawl: %s", " | ".join(f"{r['monitor']}: {r['message']}" for r in failed))
        crawler.stats.set_value(outcome.MONITORS_FAILED, len(failed))
        # The watchdog's close: if stuck requests hold it up, the crawl ends anyway.
        watchdog.stall(outcome.NO_NEW_ITEMS, crawler.settings.getfloat("WATCHDOG_SECONDS") or 60)
