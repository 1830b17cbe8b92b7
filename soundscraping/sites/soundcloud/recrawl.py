"""What a re-crawl of an artist fetches again (``-a recrawl_after=...``):
pure decisions, tested on saved responses.

What the dataset holds about a track (``StoredTrack``) is its stored row:
``soundcloud_artists`` stores a track's row only once its comments were read
to the end, so the row's ``scraped_at`` is the last time its comments were
complete, at its ``comment_count``.  On a re-crawl each track listed on the
artist's track pages gets one plan:

* ``FULL`` — not stored yet: every comment (none asked for when the count is 0);
* ``STORE`` — its visible ``comment_count`` is the stored one: no comment
  request, the row is stored again (a new ``soundcloud_track_stats`` row);
* ``NEW`` — the count changed (or is hidden and due a look, below): only the
  comments posted since the stored row, newest first, paging stops at the
  first page that reaches one older than the row (``comments_page``);
* ``KEEP`` — its counts are hidden (``null``: the uploader hides stats) and it
  was looked at less than ``SOUNDCLOUD_RECRAWL_HIDDEN_STATS_AFTER`` ago: a
  hidden count cannot show a change, so such tracks are looked at on that
  slower cadence; until then the stored row is kept as it is (its counts
  are null anyway).

The page order relied on: ``/tracks/{id}/comments?sort=newest&threaded=0``
lists comments newest first.  The recorded page (reference §2, sample
``soundcloudcommentsextractor/trackwithcomments``, no ``sort``) has ids and
``created_at`` strictly descending, and ``sort=newest|oldest|track-timestamp``
is the web app's parameter (yt-dlp 2026); the crawler asks for ``newest``
explicitly.  That order is observed, not documented, so it is checked on
every page: a comment newer than one before it makes the crawl read that
track's comments to the end (the stricter case), logged and counted.  Equal
counts are taken to mean no new comments (a deletion and a new comment in
the same interval would be missed until the count moves).  The stored row's
time is the crawler's clock and ``created_at`` the site's: the stop point is
``COMMENTS_MARGIN`` earlier than the row, so a small clock difference
re-reads a few comments rather than missing any.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from soundscraping.timestamps import UTC_FORMAT, utc_timestamp

# How much earlier than the stored row the comments are read again.
COMMENTS_MARGIN = timedelta(hours=1)
# The page order asked for (see the module docstring).
COMMENTS_SORT = "newest"


class Plan(enum.Enum):
    FULL = "full"
    STORE = "store"
    NEW = "new"
    KEEP = "keep"


@dataclass(frozen=True)
class StoredTrack:
    comment_count: int | None
    scraped_at: str | None  # when its comments were last complete (dataset format)


def track_plan(comment_count: int | None, stored: StoredTrack | None, hidden_due_before: str | None) -> Plan:
    """The plan for a listed track with ``comment_count`` (None: hidden), its
    stored row (None: not stored), on a re-crawl; ``hidden_due_before``: a
    hidden-stats track stored before this time is due a look."""
    if stored is None or stored.scraped_at is None:
        return Plan.FULL
    if comment_count is None:
        return Plan.NEW if hidden_due_before is None or stored.scraped_at < hidden_due_before else Plan.KEEP
    if comment_count == stored.comment_count or comment_count == 0:
        return Plan.STORE
    return Plan.NEW


def comments_since(stored: StoredTrack) -> str | None:
    """The creation time from which a ``NEW`` plan reads comments again."""
    if stored.scraped_at is None:
        return None
    moment = datetime.strptime(stored.scraped_at, UTC_FORMAT).replace(tzinfo=UTC)
    return utc_timestamp(moment - COMMENTS_MARGIN)


@dataclass(frozen=True)
class PageVerdict:
    stop: bool  # the page reached comments older than ``since``: no next page
    in_order: bool  # newest first, as relied on (else: read to the end)
    last: str | None  # the page's last creation time (the next page's check)


def comments_page(created: Sequence[str | None], since: str | None, previous: str | None) -> PageVerdict:
    """One page of a track's comments (their ``created_at``, page order),
    read for new comments since ``since`` (None: every comment);
    ``previous`` is the last creation time of the page before."""
    last, in_order = previous, True
    for moment in created:
        if moment is None:
            continue
        if last is not None and moment > last:
            in_order = False
        last = moment
    stop = in_order and since is not None and any(m is not None and m < since for m in created)
    return PageVerdict(stop=stop, in_order=in_order, last=last)
