"""How a crawl ended, from its finish reason and its stats: one rule for
the exit code (``scrapy crawl``), the stats file and the last log line.

A crawl that lost rows has failed even when Scrapy closed it as
``finished`` (rows rejected by the database, a final flush that could not be
written): its finish reason becomes ``rows_not_saved``.  One that fetched
files it could not write to FILES_STORE (the disk full, an S3 bucket that
is missing or refuses writes, an S3 endpoint down) becomes
``files_not_stored``.  A crawl whose monitors failed
(soundscraping.monitoring: coverage, shares, validation...) has failed too:
``monitor_failed``.  Lost rows win, then lost files: they say more.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

# Finish reasons that mean the job did its work.
SUCCESS_REASONS = frozenset({"finished", "shutdown", "closespider_itemcount", "closespider_pagecount",
                             "closespider_timeout", "closespider_errorcount"})
# Finish reasons that mean the crawl never started because the user must
# fix something first (exit 2, like a command-line mistake).
USAGE_REASONS = frozenset({"schema_outdated", "schema_too_new"})
ROWS_NOT_SAVED = "rows_not_saved"
FILES_NOT_STORED = "files_not_stored"
MONITOR_FAILED = "monitor_failed"
# The periodic monitor closed a crawl that produced no item for MONITOR_NO_ITEM_SECONDS.
NO_NEW_ITEMS = "no_new_items"

UNSAVED_ROWS = "soundscraping/storage/unsaved_rows"
UNSAVED_FILE = "soundscraping/storage/unsaved_file"
# Files fetched but not written to FILES_STORE, and the first such error.
MEDIA_NOT_STORED = "soundscraping/media/not_stored"
MEDIA_NOT_STORED_ERROR = "soundscraping/media/not_stored_error"
# Set by the monitors' actions (soundscraping.monitoring.actions) after the
# close monitors ran: how many failed, and their one-line messages.
MONITORS_FAILED = "soundscraping/monitors/failed"
MONITOR_FAILURES = "soundscraping/monitors/failures"


def rows_not_saved(stats: Mapping[str, Any]) -> int:
    return int(stats.get(UNSAVED_ROWS) or 0)


def files_not_stored(stats: Mapping[str, Any]) -> int:
    return int(stats.get(MEDIA_NOT_STORED) or 0)


def final_reason(reason: str, stats: Mapping[str, Any]) -> str:
    """The reason to report: a "successful" close that lost rows or files, or
    whose monitors failed, is not one."""
    if reason in SUCCESS_REASONS and rows_not_saved(stats):
        return ROWS_NOT_SAVED
    if reason in SUCCESS_REASONS and files_not_stored(stats):
        return FILES_NOT_STORED
    if reason in SUCCESS_REASONS and int(stats.get(MONITORS_FAILED) or 0):
        return MONITOR_FAILED
    return reason


def exit_code(reason: str) -> int:
    """0 = done, 2 = the user must fix something first, 1 = any other failure."""
    if reason in SUCCESS_REASONS:
        return 0
    return 2 if reason in USAGE_REASONS else 1


def lost_rows_message(stats: Mapping[str, Any]) -> str | None:
    """The crawl's last log line when rows were lost, else None."""
    lost = rows_not_saved(stats)
    if not lost:
        return None
    return (f"Crawl failed: {lost} rows not saved to the database; they are in {stats.get(UNSAVED_FILE)} "
            "(JSON lines: table and row)")


def lost_files_message(stats: Mapping[str, Any]) -> str | None:
    """The line that says files were fetched but not stored, else None."""
    lost = files_not_stored(stats)
    if not lost:
        return None
    return (f"Crawl failed: {lost} files not stored in FILES_STORE ({stats.get(MEDIA_NOT_STORED_ERROR)}); "
            "no media_files row was written for them, a re-run fetches them once the store takes them")
