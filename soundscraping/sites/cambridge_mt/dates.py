"""MyBB dates (absolute, "Yesterday", "8 hours ago", the date in a title
attribute) as ISO-8601 UTC timestamps."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any

from soundscraping.timestamps import utc_timestamp

_ABS = re.compile(r"(\d{1,2})-(\d{1,2})-(\d{4}),?\s*(\d{1,2}):(\d{2})\s*([AaPp][Mm])")
_DATE = re.compile(r"(\d{1,2})-(\d{1,2})-(\d{4})")
_TIME = re.compile(r"(\d{1,2}):(\d{2})\s*([AaPp][Mm])")
_AGO = re.compile(r"(\d+|an?|one)\s+(second|minute|hour|day|week)s?\s+ago", re.I)
_UNITS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400, "week": 604800}


def _clock(hour: int, minute: int, ampm: str) -> tuple[int, int]:
    hour %= 12
    if ampm.lower() == "pm":
        hour += 12
    return hour, minute


def parse_mybb_date(text: str | None, title: str | None = None, *, now: datetime | None = None,
                    tz: tzinfo = UTC) -> str | None:
    """A MyBB date as an ISO-8601 UTC timestamp, or None.

    Forms (``d-m-Y, h:i A`` in the board's time zone ``tz``):
    ``20-07-2012, 11:29 AM``; ``<span title="18-03-2024">Yesterday</span>, 07:01 PM``
    (date from the title, time from the text); ``<span title="19-03-2024, 01:04 PM">8 hours
    ago</span>`` (all from the title); and, when no title survived (scraped
    text), ``Today, …``, ``Yesterday, …``, ``51 minutes ago`` relative to ``now``
    (the server's clock when known).
    """
    text = " ".join((text or "").split())
    title = " ".join((title or "").split())
    now = (now or datetime.now(UTC)).astimezone(tz)
    for source in (title, text):
        if m := _ABS.search(source):
            day, month, year, hour, minute, ampm = m.groups()
            h, mi = _clock(int(hour), int(minute), ampm)
            try:
                return utc_timestamp(datetime(int(year), int(month), int(day), h, mi, tzinfo=tz))
            except ValueError:
                return None
    day_of: datetime | None = None
    if m := _DATE.search(title):
        day, month, year = map(int, m.groups())
        try:
            day_of = datetime(year, month, day, tzinfo=tz)
        except ValueError:
            return None
    elif re.search(r"\btoday\b", text, re.I):
        day_of = now.replace(hour=0, minute=0, second=0, microsecond=0)
    elif re.search(r"\byesterday\b", text, re.I):
        day_of = now.replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=1)
    if day_of is not None:
        if m := _TIME.search(text):
            h, mi = _clock(int(m.group(1)), int(m.group(2)), m.group(3))
            return utc_timestamp(day_of.replace(hour=h, minute=mi))
        return utc_timestamp(day_of)
    if re.search(r"less than (a|1|one) minute ago|just now", text, re.I):
        return utc_timestamp(now.replace(second=0, microsecond=0))
    if m := _AGO.search(text):
        amount = m.group(1).lower()
        n = 1 if amount in ("a", "an", "one") else int(amount)
        moment = now - timedelta(seconds=n * _UNITS[m.group(2).lower()])
        return utc_timestamp(moment.replace(second=0, microsecond=0))
    return None


def date_in(node: Any, *, now: datetime | None = None, tz: tzinfo = UTC,
            exclude_class: str | None = None) -> str | None:
    """The MyBB date held by ``node`` (its text plus the ``title`` of a
    relative-date span inside it)."""
    root = getattr(node, "root", node)
    parts: list[str] = []
    title = None
    if root.text:
        parts.append(root.text)
    for child in root:
        cls = child.get("class") or "" if isinstance(child.tag, str) else ""
        if exclude_class and exclude_class in cls:
            parts.append(child.tail or "")
            continue
        if isinstance(child.tag, str) and child.get("title") and title is None:
            title = child.get("title")
        parts.append(" ".join(child.itertext()) if isinstance(child.tag, str) else "")
        parts.append(child.tail or "")
    return parse_mybb_date("".join(parts), title, now=now, tz=tz)
