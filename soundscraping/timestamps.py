"""The dataset's one timestamp format: ISO-8601 in UTC to the second, with
a ``Z`` (``2024-03-19T13:04:00Z``; reference/schema.md)."""

from __future__ import annotations

from datetime import UTC, datetime

UTC_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


def utc_timestamp(moment: datetime) -> str:
    """``moment`` (an aware datetime) in the dataset's format."""
    return moment.astimezone(UTC).strftime(UTC_FORMAT)


def utc_now() -> str:
    """Now, in the dataset's format."""
    return utc_timestamp(datetime.now(UTC))
