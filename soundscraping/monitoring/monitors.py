"""The monitors and the suites the settings name.

``SPIDERMON_SPIDER_CLOSE_MONITORS`` runs ``CloseSuite`` when a spider
closes; ``SPIDERMON_PERIODIC_MONITORS`` runs ``PeriodicSuite`` every N
seconds while it crawls.  Every threshold is a setting (soundscraping/settings.py,
README "Monitoring").  A monitor's failure message is one line that names
what failed (the field, the share, the threshold): it becomes the job's
outcome line (soundscraping.monitoring.actions).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from scrapy.utils.misc import load_object
from spidermon import Monitor, MonitorSuite, monitors

from soundscraping import distributed, outcome
from soundscraping.monitoring.actions import CloseQuietCrawl, RecordOutcome, WriteReports
from soundscraping.monitoring.coverage import field_coverage
from soundscraping.watchdog import Watchdog

VALIDATION_ERRORS = "spidermon/validation/fields/errors/"
VALIDATED_ITEMS = "spidermon/validation/items"


class SoundscrapingMonitor(Monitor):
    longMessage = False  # the message alone, not "False is not true : ..."

    @property
    def settings(self) -> Any:
        return self.data.crawler.settings

    @property
    def stats(self) -> Mapping[str, Any]:
        return self.data.stats

    def stat(self, key: str) -> int:
        return int(self.stats.get(key) or 0)


@monitors.name("Finish reason")
class FinishReasonMonitor(SoundscrapingMonitor):
    @monitors.name("crawl finished its work")
    def test_finish_reason(self) -> None:
        reason = outcome.final_reason(str(self.stats.get("finish_reason")), self.stats)
        self.assertIn(reason, outcome.SUCCESS_REASONS,
                      f"finish reason {reason!r} (expected one of {', '.join(sorted(outcome.SUCCESS_REASONS))})")


@monitors.name("Item count")
class ItemCountMonitor(SoundscrapingMonitor):
    @monitors.name("enough items")
    def test_minimum_items(self) -> None:
        minimums = self.settings.getdict("MONITOR_MIN_ITEMS")
        spider = self.data.spider.name
        minimum = int(minimums.get(spider, minimums.get("*", 1)))
        items = self.stat("item_scraped_count")
        if items == 0 and (reason := self.nothing_due()):
            self.skipTest(reason)
        self.assertGreaterEqual(items, minimum,
                                f"item_scraped_count {items} < {minimum} (MONITOR_MIN_ITEMS[{spider!r}])")

    def nothing_due(self) -> str | None:
        """Why no item is expected of this run, if none is (else None: a
        unit worked on that yields nothing fails the check)."""
        skipped, finished = self.stat("soundscraping/units/skipped"), self.stat("soundscraping/units/finished")
        if skipped and not finished:
            # A resumed job or a re-crawl whose every unit was done already.
            return "every unit was done before this run"
        if distributed.enabled(self.settings) and (not finished or skipped or self.stat(distributed.UNITS_OFFERED)):
            # A worker of a distributed job that claimed nothing (more workers
            # than units left), or whose units only listed others (a forum
            # list: its threads offered to the job, or found done in a
            # re-crawl): the job's rows are the other workers' or were stored before.
            return "this worker of a distributed job had no rows of its own to store"
        return None


def _share(part: int, whole: int) -> float:
    return part / whole if whole else 0.0


@monitors.name("Request shares")
class RequestSharesMonitor(SoundscrapingMonitor):
    """Errors, bans and retries as shares of the requests made."""

    @property
    def requests(self) -> int:
        return self.stat("downloader/request_count")

    def status_count(self, predicate: Any) -> int:
        prefix = "downloader/response_status_count/"
        return sum(int(v or 0) for k, v in self.stats.items()
                   if k.startswith(prefix) and k[len(prefix):].isdigit() and predicate(int(k[len(prefix):])))

    def check(self, what: str, count: int, setting: str) -> None:
        ceiling = self.settings.getfloat(setting)
        share = _share(count, self.requests)
        self.assertLessEqual(share, ceiling, f"{what}: {count} of {self.requests} requests ({share:.1%}) > "
                                             f"{ceiling:.0%} ({setting})")

    @monitors.name("errors")
    def test_error_share(self) -> None:
        # No answer at all (connection, DNS, timeout) or a server error.
        errors = self.stat("downloader/exception_count") + self.status_count(lambda s: s >= 500)
        self.check("errors (exceptions and 5xx)", errors, "MONITOR_MAX_ERROR_SHARE")

    @monitors.name("bans")
    def test_ban_share(self) -> None:
        codes = {int(c) for c in self.settings.getlist("MONITOR_BAN_HTTP_CODES")}
        bans = self.status_count(lambda s: s in codes)
        self.check(f"bans (HTTP {'/'.join(map(str, sorted(codes)))})", bans, "MONITOR_MAX_BAN_SHARE")

    @monitors.name("retries")
    def test_retry_share(self) -> None:
        self.check("retries", self.stat("retry/count"), "MONITOR_MAX_RETRY_SHARE")


@monitors.name("Field coverage")
class FieldCoverageMonitor(SoundscrapingMonitor):
    @monitors.name("columns that matter are filled")
    def test_field_coverage(self) -> None:
        results = field_coverage(self.settings.getdict("MONITOR_FIELD_COVERAGE"), self.stats)
        failed = [r.describe() for r in results if not r.passed]
        self.assertFalse(failed, "; ".join(failed))


@monitors.name("Item validation")
class ItemValidationMonitor(SoundscrapingMonitor):
    """Items checked against the JSON Schemas generated from the item classes."""

    @monitors.name("items match their schema")
    def test_validation_errors(self) -> None:
        validated = self.stat(VALIDATED_ITEMS)
        errors = {k[len(VALIDATION_ERRORS):]: int(v) for k, v in self.stats.items()
                  if k.startswith(VALIDATION_ERRORS) and k.count("/") > VALIDATION_ERRORS.count("/")}
        invalid = self.stat("spidermon/validation/items/errors")
        ceiling = self.settings.getfloat("MONITOR_MAX_VALIDATION_ERROR_SHARE")
        share = _share(invalid, validated)
        # "<error>/<field>" -> "field (error) xN", worst first
        detail = ", ".join(f"{key.split('/', 1)[1]} ({key.split('/', 1)[0]}) x{n}"
                           for key, n in sorted(errors.items(), key=lambda kv: -kv[1])[:5])
        self.assertLessEqual(share, ceiling, f"{invalid} of {validated} items invalid ({share:.1%}) > {ceiling:.0%} "
                                             f"(MONITOR_MAX_VALIDATION_ERROR_SHARE): {detail}")


@monitors.name("New items")
class NoNewItemsMonitor(SoundscrapingMonitor):
    """Run periodically: the crawl has produced an item recently."""

    @monitors.name("an item within MONITOR_NO_ITEM_SECONDS")
    def test_recent_item(self) -> None:
        limit = self.settings.getfloat("MONITOR_NO_ITEM_SECONDS")
        watchdog = self.data.crawler.get_extension(Watchdog)
        if limit <= 0 or watchdog is None:
            self.skipTest("MONITOR_NO_ITEM_SECONDS is 0")
        if watchdog.closing:  # already being closed (stuck, or by this monitor): say it once
            self.skipTest("the crawl is closing")
        quiet = watchdog.seconds_since_item()
        self.assertLess(quiet, limit, f"no new item for {quiet:.0f} s (MONITOR_NO_ITEM_SECONDS={limit:g})")


class _SettingsSuite(MonitorSuite):
    """A suite whose failure alerts are those the settings switch on."""

    def __init__(self, *args: Any, crawler: Any = None, **kwargs: Any):
        super().__init__(*args, crawler=crawler, **kwargs)
        if crawler is not None:
            self.add_monitors_failed_actions(alert_actions(crawler.settings))


def alert_actions(settings: Any) -> list[type]:
    """spidermon's Slack / e-mail actions, as MONITOR_SLACK_ENABLED and
    MONITOR_EMAIL_ENABLED say (their secrets: environment only, see settings.py)."""
    actions = []
    if settings.getbool("MONITOR_SLACK_ENABLED"):
        actions.append("spidermon.contrib.actions.slack.notifiers.SendSlackMessageSpiderFinished")
    if settings.getbool("MONITOR_EMAIL_ENABLED"):
        actions.append("spidermon.contrib.actions.email.smtp.SendSmtpEmail")
    # Imported only when switched on: they need the `alerts` extra.
    return [load_object(path) for path in actions]


class CloseSuite(_SettingsSuite):
    """Judges a job when its spider closes."""

    monitors = [FinishReasonMonitor, ItemCountMonitor, RequestSharesMonitor, FieldCoverageMonitor,
                ItemValidationMonitor]
    monitors_finished_actions = [RecordOutcome, WriteReports]


class PeriodicSuite(_SettingsSuite):
    """Watches a running job; a failure closes it (reason ``no_new_items``)."""

    monitors = [NoNewItemsMonitor]
    monitors_failed_actions = [CloseQuietCrawl]
