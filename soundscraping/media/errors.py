"""A fetched file that could not be written where it goes (the disk of
FILES_STORE or of the part files full, a quota, a file-size limit): one rule
for both media pipelines, so such a file is never retried as if the network
had failed, is reported once in one line, and fails the crawl
(``soundscraping.outcome``: ``files_not_stored``)."""

from __future__ import annotations

import logging
import os
from typing import Any

from soundscraping import outcome

logger = logging.getLogger(__name__)


class FileNotStored(Exception):
    """Writing a fetched file failed; nothing was left under its final name.
    Not an OSError: retry loops that catch network OSErrors must not catch it."""

    @classmethod
    def from_os_error(cls, exc: OSError, where: str | os.PathLike[str]) -> FileNotStored:
        reason = f"[Errno {exc.errno}] {exc.strerror}" if exc.errno else str(exc)
        return cls(f"{reason} ({os.fspath(where)})")


def count_not_stored(stats: Any, exc: FileNotStored) -> None:
    """Count a file not stored; the first one is an ERROR line saying what is wrong."""
    if not stats.get_value(outcome.MEDIA_NOT_STORED):
        stats.set_value(outcome.MEDIA_NOT_STORED_ERROR, str(exc))
        logger.error("Cannot write to FILES_STORE: %s. The crawl goes on storing rows; the files it cannot "
                     "write are counted and it will exit 1", exc)
    stats.inc_value(outcome.MEDIA_NOT_STORED)
