"""A fetched file that could not be written where it goes (the disk of
FILES_STORE or of the part files full, a quota, a file-size limit; an S3
bucket that is missing, refuses the write or cannot be reached): one rule
for both media pipelines and every store, so such a file is never retried as
if the network had failed, is reported once in one line, and fails the crawl
(``soundscraping.outcome``: ``files_not_stored``)."""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterator
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

    @classmethod
    def from_s3_error(cls, exc: Exception, where: str) -> FileNotStored:
        """``exc`` one of ``s3_write_errors()``; ``where`` the ``s3://bucket/prefix/``.
        boto3's multipart upload wraps the service's answer (S3UploadFailedError,
        naming the local part file): the answer itself is the reason."""
        from botocore.exceptions import ClientError

        answer = next((e for e in (exc, exc.__cause__, exc.__context__) if isinstance(e, ClientError)), exc)
        return cls(f"{answer} ({where})")


def s3_write_errors() -> tuple[type[Exception], ...]:
    """What boto3 raises when S3 does not take a write: the service's refusal
    (ClientError: NoSuchBucket, AccessDenied, ...; S3UploadFailedError from a
    multipart upload) or no answer at all (BotoCoreError: EndpointConnectionError,
    a timeout, no credentials).  Imported on first use: crawls that store no
    file in S3 never load boto3."""
    from boto3.exceptions import S3UploadFailedError
    from botocore.exceptions import BotoCoreError, ClientError

    return ClientError, BotoCoreError, S3UploadFailedError


@contextlib.contextmanager
def s3_not_stored(where: str) -> Iterator[None]:
    """Around a blocking S3 write: its refusal is raised as FileNotStored."""
    try:
        yield
    except s3_write_errors() as exc:
        raise FileNotStored.from_s3_error(exc, where) from exc


def count_not_stored(stats: Any, exc: FileNotStored) -> None:
    """Count a file not stored; the first one is an ERROR line saying what is wrong."""
    if not stats.get_value(outcome.MEDIA_NOT_STORED):
        stats.set_value(outcome.MEDIA_NOT_STORED_ERROR, str(exc))
        logger.error("Cannot write to FILES_STORE: %s. The crawl goes on storing rows; the files it cannot "
                     "write are counted and it will exit 1", exc)
    stats.inc_value(outcome.MEDIA_NOT_STORED)
