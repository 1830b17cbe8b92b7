"""Crawl-level extensions."""

from __future__ import annotations

import json
import logging
import shutil
import time
from pathlib import Path
from typing import Any

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured

from soundscraping.outcome import final_reason

logger = logging.getLogger(__name__)

_STATE = ("requests.queue", "requests.seen", "spider.state")
CLEAN_RESUME = "soundscraping/jobdir/clean_resume"


class JobDirGuard:
    """Makes JOBDIR resumes safe after an unclean stop (SIGKILL, power loss).

    Scrapy writes the queue index and spider state only on a clean close, but
    appends to ``requests.seen`` as it goes; after a kill the saved state can
    mark requests as seen that never produced their items.  A marker file
    tells a clean stop from a crash: after a crash the stale state is moved
    aside and the job starts again from its start requests.  Stored rows are
    upserts, so repeating work duplicates nothing."""

    MARKER = "soundscraping.running"

    def __init__(self, crawler: Crawler, jobdir: Path):
        self.crawler = crawler
        self.jobdir = jobdir
        self.marker = jobdir / self.MARKER
        if self.marker.exists():
            self._set_aside_stale_state()
        elif (jobdir / "requests.queue").exists():
            # A clean stop's saved queue: Scrapy carries on with it, so
            # requests run that this process never counted (units.py).
            crawler.stats.set_value(CLEAN_RESUME, 1)
        jobdir.mkdir(parents=True, exist_ok=True)
        self.marker.write_text(str(time.time()))
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> JobDirGuard:
        jobdir = crawler.settings.get("JOBDIR")
        if not jobdir:
            raise NotConfigured
        return cls(crawler, Path(jobdir))

    def _set_aside_stale_state(self) -> None:
        stale = self.jobdir / f"unclean-stop-{int(time.time())}"
        moved = []
        for name in _STATE:
            path = self.jobdir / name
            if path.exists():
                stale.mkdir(exist_ok=True)
                shutil.move(str(path), stale / name)
                moved.append(name)
        self.crawler.stats.set_value("soundscraping/jobdir/unclean_stop_recovered", 1)
        logger.warning(
            "JOBDIR %s: the previous run did not stop cleanly; its saved state (%s) is unreliable and was "
            "moved to %s. Restarting the job from its start requests; rows already stored are kept.",
            self.jobdir, ", ".join(moved) or "none", stale if moved else "-",
        )

    def spider_closed(self, spider: Any, reason: str) -> None:
        # Scrapy has just written its state: the job directory is consistent.
        self.marker.unlink(missing_ok=True)


class StatsFile:
    """Writes the final crawl stats as JSON to ``STATS_FILE`` (for monitoring,
    Scrapyd job reports and the tests)."""

    def __init__(self, crawler: Crawler, path: Path):
        self.crawler = crawler
        self.path = path
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> StatsFile:
        path = crawler.settings.get("STATS_FILE")
        if not path:
            raise NotConfigured
        return cls(crawler, Path(path))

    def spider_closed(self, spider: Any, reason: str) -> None:
        stats = dict(self.crawler.stats.get_stats())
        stats["finish_reason"] = final_reason(reason, stats)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.write_text(json.dumps(stats, indent=1, sort_keys=True, default=str), encoding="utf-8")


class LogLevelGate:
    """Raises the root logger's level, and that of the ``scrapy`` logger, to
    LOG_LEVEL.  Scrapy filters in its handler, so every per-item DEBUG line
    ("Scraped from …", "Dropped: …") is still formatted into a record first;
    at 10^5 items that is seconds.  Scrapy's ``configure_logging`` sets the
    ``scrapy`` logger to DEBUG itself, so raising the root alone leaves those
    records in place."""

    loggers = ("", "scrapy")

    def __init__(self, level: int):
        for name in self.loggers:
            logger = logging.getLogger(name)
            if logger.getEffectiveLevel() < level:
                logger.setLevel(level)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> LogLevelGate:
        level = logging.getLevelName(str(crawler.settings.get("LOG_LEVEL", "DEBUG")).upper())
        return cls(level if isinstance(level, int) else logging.DEBUG)
